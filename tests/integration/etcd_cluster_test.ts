/**
 * lv on a 3-member etcd cluster (loopback, in the lab's namespace): a member killed during `lv apply` loses
 * and doubles nothing; with quorum lost every command fails with a clear error, and apply works again once
 * quorum is back.
 */
import assert from "node:assert/strict";
import { EtcdClient } from "../../src/store/etcd_client.ts";
import {
  BASIC,
  BASIC_NAMES,
  GET_ALL,
  scrubBasic,
  spawnController,
  spawnLv,
  storeObjects,
  watchStream,
} from "./crash_helpers.ts";
import { EtcdCluster } from "./etcd_cluster.ts";
import { Lv, ROOT, virsh, virshNames, waitFor } from "./helpers.ts";

Deno.test({
  name: "a 3-member etcd store: member killed during apply, quorum lost and back",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    await scrubBasic(); // what an earlier failed test may have left
    const etcd = await EtcdCluster.start(3);
    const lv = new Lv(() => ({ LV_STORE: etcd.url() }));
    const client = new EtcdClient(etcd.endpoints());
    try {
      await t.step(
        "the leader is killed once apply has written its first object: apply completes",
        async () => {
          const leaderId = String((await client.status(etcd.endpoints()[0])).leader);
          const members = await client.call("/v3/cluster/member/list", {});
          // deno-lint-ignore no-explicit-any
          const leader = (members.body.members as any[]).find((m) => String(m.ID) === leaderId);
          const victim = etcd.members.findIndex((m) =>
            leader.clientURLs.includes(`http://127.0.0.1:${m.client}`)
          );
          const apply = spawnLv(lv, ["apply", "-f", BASIC, "--timeout=180s"]);
          await waitFor(
            async () => (await client.range("/lv/objects/", { prefix: true, keysOnly: true })).count > 0,
            "apply's first write",
            60_000,
          );
          await etcd.kill(victim);
          const out = await apply.output;
          assert.equal(out.code, 0, out.stderr);
          assert.equal(
            out.stdout,
            "box/tiny created\nnetwork/basic-net created\nvolume/web-data created\ndomain/web created\n",
          );
          const objects = await storeObjects(lv);
          assert.equal([...objects.keys()].sort().join(","), BASIC_NAMES.trim().split("\n").sort().join(","));
          for (const [key, obj] of objects) {
            assert.equal(obj.metadata.generation, 1, `${key} was written once`);
            assert.equal(obj.status.conditions?.find((c) => c.type === "Ready")?.status, "True", key);
          }
          assert.deepEqual(await virshNames("domains"), ["web"]);
          await etcd.restart(victim);
        },
      );
      await t.step("two members down (quorum lost): a clear error naming each endpoint, exit 1", async () => {
        await etcd.kill(0);
        await etcd.kill(1);
        const r = await lv.run(GET_ALL);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /^error: etcd unreachable: /);
        assert.match(r.stderr, new RegExp(`127\\.0\\.0\\.1:${etcd.members[0].client}: .*refused`));
        assert.match(
          r.stderr,
          new RegExp(
            `127\\.0\\.0\\.1:${
              etcd.members[2].client
            }: no answer in time \\(member down, or the cluster has lost quorum\\)`,
          ),
        );
      });
      await t.step("quorum back: apply works again and finds everything as it was", async () => {
        await etcd.restart(0, { wait: false });
        await etcd.restart(1);
        const r = await lv.ok(["apply", "-f", BASIC, "--timeout=120s"]);
        assert.equal(
          r.stdout,
          "box/tiny unchanged\nnetwork/basic-net unchanged\nvolume/web-data unchanged\ndomain/web unchanged\n",
        );
      });
      await t.step(
        "quorum lost while apply waits: apply says so, and completes once quorum is back",
        async () => {
          // A controller that holds the lease and is then frozen keeps apply waiting (it does not converge
          // itself while the lease is held) for as long as the outage lasts.
          const frozen = spawnController(lv, ["--lease-ttl=3s"]);
          await frozen.err.until(/took the lease of objects without a context/, "the controller's lease");
          Deno.kill(frozen.child.pid, "SIGSTOP");
          const net = `${lv.home}/q-net.yaml`;
          await Deno.writeTextFile(
            net,
            "apiVersion: lv.dev/v1alpha1\nkind: Network\nmetadata: {name: q-net}\nspec: {mode: isolated, ipv4: {address: 10.125.0.1, prefix: 24}}\n",
          );
          const apply = new Deno.Command(Deno.execPath(), {
            args: ["run", "-A", `${ROOT}mod.ts`, "apply", "-f", net, "--timeout=180s"],
            env: { ...lv.env, LV_HOME: lv.home },
            cwd: ROOT,
            stdout: "null",
            stderr: "piped",
          }).spawn();
          const err = watchStream(apply.stderr);
          try {
            await err.until(
              /run in another lv process .*; waiting for them/,
              "apply waiting on the frozen controller",
            );
            await etcd.kill(0);
            await etcd.kill(1);
            await err.until(
              /the store does not answer \(etcd unreachable: .*\); waiting for it/,
              "the outage",
              60_000,
            );
            await etcd.restart(0, { wait: false });
            await etcd.restart(1);
            const status = await apply.status;
            assert.equal(status.code, 0, err.text());
            assert.match(err.text(), /the store answers again/);
            assert.ok((await virshNames("networks")).includes("q-net"));
          } finally {
            Deno.kill(frozen.child.pid, "SIGKILL");
            Deno.kill(frozen.child.pid, "SIGCONT");
            await frozen.child.status;
          }
          await lv.ok(["delete", "network", "q-net", "--timeout=60s"]);
          await lv.ok(["delete", "-f", BASIC, "--timeout=120s"]);
          assert.equal((await lv.ok([...GET_ALL, "-o", "name"])).stdout, "");
        },
      );
    } finally {
      client.close();
      await scrubBasic();
      await virsh("net-destroy", "q-net").catch(() => {});
      await virsh("net-undefine", "q-net").catch(() => {});
      lv.cleanup();
      await etcd.stop();
    }
  },
});
