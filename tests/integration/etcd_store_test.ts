/**
 * The shared store suite on a real etcd (one member on loopback in the lab's namespace), and what only
 * etcd has: resourceVersion is the key's mod revision, compaction resets a watch, the schema mark, fast
 * failure when nothing answers.
 */
import assert from "node:assert/strict";
import { EtcdStore } from "../../src/store/etcd_store.ts";
import { EtcdError } from "../../src/store/etcd_client.ts";
import { StoreVersionError } from "../../src/store/store.ts";
import { TestClock } from "../unit/harness.ts";
import { KEY, storeSuite, until, volume } from "../unit/store_suite.ts";
import { EtcdCluster, silentListener, unusedPort } from "./etcd_cluster.ts";

let cluster: EtcdCluster | undefined;
let prefixes = 0;

async function etcd(): Promise<EtcdCluster> {
  return cluster ??= await EtcdCluster.start(1);
}

/** A store on a prefix of its own: every test starts empty. */
async function freshStore(clock = new TestClock()): Promise<{ store: EtcdStore; prefix: string }> {
  const prefix = `/test-${++prefixes}/`;
  return {
    store: await EtcdStore.open((await etcd()).endpoints(), { prefix, now: () => clock.now() }),
    prefix,
  };
}

storeSuite("EtcdStore", async () => {
  const clock = new TestClock();
  const { store, prefix } = await freshStore(clock);
  const others: EtcdStore[] = [];
  return {
    store,
    clock,
    another: async () => {
      const other = await EtcdStore.open((await etcd()).endpoints(), { prefix, now: () => clock.now() });
      others.push(other);
      return other;
    },
    leaseTtlMs: 1000,
    expire: (name) =>
      until(async () => await store.leaseHolder(name) === undefined, `lease ${name} to expire`),
    elapse: (ms) => new Promise((r) => setTimeout(r, ms)),
    close: () => {
      for (const s of [store, ...others]) s.close();
      return Promise.resolve();
    },
  };
});

const options = { sanitizeResources: false, sanitizeOps: false };

Deno.test({
  name: "EtcdStore: resourceVersion is the key's etcd mod revision",
  ...options,
  fn: async () => {
    const { store, prefix } = await freshStore();
    try {
      const created = await store.create(volume("disk"));
      const { kvs } = await store.client.range(`${prefix}objects/Volume/default/disk`);
      assert.equal(created.metadata.resourceVersion, String(kvs[0].modRevision));
      assert.equal(JSON.parse(kvs[0].value).metadata.uid, created.metadata.uid);
    } finally {
      store.close();
    }
  },
});

Deno.test({
  name: "EtcdStore: a compacted history resets a watch that was behind it",
  ...options,
  fn: async () => {
    const { store } = await freshStore();
    try {
      const start = await store.head();
      await store.create(volume("a"));
      await store.create(volume("b"));
      const head = await store.head();
      await store.client.call("/v3/kv/compaction", { revision: String(head), physical: true });
      const resets: number[] = [];
      const seen: string[] = [];
      const watch = store.watch(start, (c) => void seen.push(...c.map((x) => x.name)), {
        onReset: (h) => void resets.push(h),
      });
      try {
        await until(() => resets.length > 0, "a reset");
        await store.create(volume("c"));
        await until(() => seen.includes("c"), "c after the reset");
      } finally {
        await watch.close();
      }
      assert.ok(resets[0] >= head);
      assert.deepEqual(seen, ["c"]);
    } finally {
      store.close();
    }
  },
});

Deno.test({
  name: "EtcdStore.open() refuses a store marked by a newer lv, naming both versions",
  ...options,
  fn: async () => {
    const { store, prefix } = await freshStore();
    await store.client.put(`${prefix}meta/schema`, "7");
    store.close();
    await assert.rejects(
      () => EtcdStore.open((cluster!).endpoints(), { prefix }),
      (e: unknown) => {
        assert.ok(e instanceof StoreVersionError);
        assert.match(
          e.message,
          /etcd http:\/\/127\.0\.0\.1:\d+ \(prefix \/test-\d+\/\) was written by a newer lv/,
        );
        assert.match(e.message, /store schema 7; this lv knows up to 1/);
        return true;
      },
    );
  },
});

Deno.test({
  name: "EtcdStore.open() with nothing listening fails at once, naming the endpoint and the cause",
  ...options,
  fn: async () => {
    const port = unusedPort();
    await assert.rejects(
      () => EtcdStore.open([`http://127.0.0.1:${port}`]),
      (e: unknown) => {
        assert.ok(e instanceof EtcdError);
        assert.match(e.message, new RegExp(`http://127\\.0\\.0\\.1:${port}: .*(refused|connect)`, "i"));
        return true;
      },
    );
  },
});

Deno.test({
  name: "EtcdStore: a request moves on to the next endpoint when one accepts and never answers",
  ...options,
  fn: async () => {
    // The second endpoint is the real member; the first accepts the connection and never answers, so the
    // client gives up on it and sends the same transaction again.
    const silent = silentListener();
    const { prefix } = await freshStore();
    const endpoints = [`http://127.0.0.1:${silent.port}`, ...cluster!.endpoints()];
    const store = await EtcdStore.open(endpoints, { prefix, requestTimeoutMs: 500 });
    try {
      const created = await store.create(volume("disk"));
      assert.deepEqual(await store.get(KEY), created);
    } finally {
      store.close();
      silent.close();
    }
  },
});

Deno.test({ name: "etcd cluster of this file stops", ...options, fn: async () => await cluster?.stop() });
