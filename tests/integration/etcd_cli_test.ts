/**
 * lv with its store on a real etcd (in the lab's namespace): two workstations (two LV_HOMEs) share one store,
 * an unreachable or silent store fails fast with the endpoint and the cause, a newer store is refused.
 */
import assert from "node:assert/strict";
import { EtcdClient } from "../../src/store/etcd_client.ts";
import { EtcdCluster, silentListener, unusedPort } from "./etcd_cluster.ts";
import { GET_ALL, scrubBasic } from "./crash_helpers.ts";
import { Lv, mutating, virshNames } from "./helpers.ts";

const options = { sanitizeResources: false, sanitizeOps: false };

Deno.test({
  name: "two LV_HOMEs applying into one etcd store see each other's objects",
  ...options,
  fn: async (t) => {
    const etcd = await EtcdCluster.start(1);
    const a = new Lv(() => ({ LV_STORE: etcd.url() }));
    const b = new Lv(() => ({ LV_STORE: etcd.url() }));
    try {
      await t.step("A applies examples/basic.yaml; B lists what A made", async () => {
        await a.ok(["apply", "-f", "examples/basic.yaml", "--timeout=120s"]);
        const names = (await b.ok(["get", "boxes,networks,volumes,domains", "-o", "name"])).stdout;
        assert.equal(names, "box/tiny\nnetwork/basic-net\nvolume/web\nvolume/web-data\ndomain/web\n");
        const dom = JSON.parse((await b.ok(["get", "domain", "web", "-o", "json"])).stdout);
        assert.equal(dom.status.phase, "Running");
      });
      await t.step("B applies a network; A sees it, and B's apply did not redo A's objects", async () => {
        const dir = await Deno.makeTempDir();
        await Deno.writeTextFile(
          `${dir}/net.yaml`,
          "apiVersion: lv.dev/v1alpha1\nkind: Network\nmetadata: {name: b-net}\nspec: {mode: isolated, ipv4: {address: 10.124.0.1, prefix: 24}}\n",
        );
        await b.ok(["apply", "-f", `${dir}/net.yaml`, "--timeout=60s"]);
        assert.match((await a.ok(["get", "networks", "-o", "name"])).stdout, /network\/b-net/);
        assert.ok((await virshNames("networks")).includes("b-net"));
        await Deno.remove(dir, { recursive: true });
      });
      await t.step("neither home has a SQLite store file", async () => {
        for (const home of [a.home, b.home]) {
          await assert.rejects(() => Deno.stat(`${home}/store.db`), Deno.errors.NotFound);
        }
      });
      await t.step("A deletes everything, B's network included", async () => {
        await a.ok(["delete", "-f", "examples/basic.yaml", "--timeout=120s"]);
        await a.ok(["delete", "network", "b-net", "--timeout=60s"]);
        assert.equal((await b.ok(["get", "networks,domains", "-o", "name"])).stdout, "");
      });
    } finally {
      a.cleanup();
      b.cleanup();
      await etcd.stop();
    }
  },
});

Deno.test({
  name: "an unreachable store: lv fails at once with the endpoint and the cause, exit 1",
  ...options,
  fn: async () => {
    const port = unusedPort();
    const lv = new Lv(() => ({ LV_STORE: `etcd://127.0.0.1:${port}` }));
    try {
      for (const args of [["get", "domains"], ["apply", "-f", "examples/basic.yaml"], ["controller"]]) {
        const r = await lv.run(args);
        assert.equal(r.code, 1, `lv ${args.join(" ")}: ${r.stderr}`);
        assert.match(
          r.stderr,
          new RegExp(`error: etcd unreachable: http://127\\.0\\.0\\.1:${port}: .*refused`),
        );
      }
    } finally {
      lv.cleanup();
    }
  },
});

Deno.test({
  name: "a store that accepts connections and never answers: lv gives up within its deadline, exit 1",
  ...options,
  fn: async () => {
    const silent = silentListener();
    const port = silent.port;
    const lv = new Lv(() => ({ LV_STORE: `etcd://127.0.0.1:${port}` }));
    try {
      const started = Date.now();
      const r = await lv.run(["apply", "-f", "examples/basic.yaml"]);
      console.log(`apply against a silent store gave up after ${Date.now() - started} ms`);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`127\\.0\\.0\\.1:${port}: no answer in time`));
      assert.equal(r.stdout, "", "nothing was reported written");
    } finally {
      lv.cleanup();
      silent.close();
    }
  },
});

Deno.test({
  name: "a store written by a newer lv is refused with both versions named",
  ...options,
  fn: async () => {
    const etcd = await EtcdCluster.start(1);
    const lv = new Lv(() => ({ LV_STORE: etcd.url() }));
    try {
      await lv.ok(["get", "domains"]);
      const client = new EtcdClient(etcd.endpoints());
      await client.put("/lv/meta/schema", "2");
      client.close();
      const r = await lv.run(["get", "domains"]);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /was written by a newer lv \(store schema 2; this lv knows up to 1\): upgrade lv/,
      );
    } finally {
      lv.cleanup();
      await etcd.stop();
    }
  },
});

Deno.test({
  name: "lv store migrate: SQLite -> etcd -> SQLite keeps uids, generations and statuses",
  ...options,
  fn: async () => {
    const etcd = await EtcdCluster.start(1);
    const lv = new Lv();
    try {
      await lv.ok(["apply", "-f", "examples/basic.yaml", "--timeout=120s"]);
      await lv.ok(["halt", "web", "--timeout=60s"]);
      const before = JSON.parse((await lv.ok([...GET_ALL, "-o", "json"])).stdout).items;
      const toEtcd = await lv.ok(["store", "migrate", "--to", etcd.url()]);
      assert.match(toEtcd.stderr, /5 copied, 0 already there/);
      const onEtcd =
        JSON.parse((await lv.ok([...GET_ALL, "-o", "json", "--store", etcd.url()])).stdout).items;
      const back = `sqlite:${lv.home}/back.db`;
      await lv.ok(["store", "migrate", "--store", etcd.url(), "--to", back]);
      const roundTrip = JSON.parse((await lv.ok([...GET_ALL, "-o", "json", "--store", back])).stdout).items;
      // deno-lint-ignore no-explicit-any
      const strip = (items: any[]) =>
        items.map((o) => ({ ...o, metadata: { ...o.metadata, resourceVersion: "" } }));
      assert.deepEqual(strip(onEtcd), strip(before));
      assert.deepEqual(strip(roundTrip), strip(before));
      assert.ok(before.every((o: { metadata: { uid: string } }) => o.metadata.uid));
      // The copy on etcd is live: the domain's controller there starts it again, nothing else is redone.
      lv.virshCalls();
      await lv.ok(["up", "web", "--store", etcd.url(), "--timeout=60s"]);
      assert.deepEqual(mutating(lv.virshCalls()).map((c) => c[0]).filter((c) => !c.startsWith("pool-")), [
        "start",
      ]);
      await lv.ok(["delete", "-f", "examples/basic.yaml", "--store", etcd.url(), "--timeout=120s"]);
    } finally {
      await scrubBasic();
      lv.cleanup();
      await etcd.stop();
    }
  },
});
