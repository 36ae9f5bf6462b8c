/**
 * Controllers near the hypervisor, with the store on a real etcd: one `lv controller` holds the lease, a
 * second stands by, `lv apply` from another workstation waits on the holder; the holder killed with
 * SIGKILL, the standby takes the lease within its TTL and converges what is left, creating nothing twice.
 */
import assert from "node:assert/strict";
import { BASIC, readVirshLog, scrubBasic, spawnController } from "./crash_helpers.ts";
import { EtcdCluster } from "./etcd_cluster.ts";
import { Lv, mutating, virsh, waitFor } from "./helpers.ts";

function controller(lv: Lv, virshLog: string) {
  return spawnController(lv, ["--lease-ttl=3s", "--resync=1s"], virshLog);
}

Deno.test({
  name: "lv controller on etcd: standby takes over after kill -9, each libvirt object created once",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    await scrubBasic(); // what an earlier failed test may have left
    const etcd = await EtcdCluster.start(1);
    const env = () => ({ LV_STORE: etcd.url() });
    const host1 = new Lv(env);
    const host2 = new Lv(env);
    const workstation = new Lv(env);
    const first = controller(host1, `${host1.home}/virsh.log`);
    let second: ReturnType<typeof controller> | undefined;
    try {
      await t.step("the first controller takes the lease, the second stands by", async () => {
        await first.err.until(/took the lease of objects without a context/, "the first controller's lease");
        second = controller(host2, `${host2.home}/virsh.log`);
        await second.err.until(/objects without a context is held by .*; standing by/, "the standby");
      });
      await t.step("apply from a workstation only writes and waits on the holder", async () => {
        const r = await workstation.ok(["apply", "-f", BASIC, "--timeout=120s"]);
        assert.match(
          r.stderr,
          new RegExp(`run in another lv process \\(\\S+:${first.child.pid}\\); waiting`),
        );
        assert.deepEqual(workstation.virshCalls().filter((c) => mutating([c]).length > 0), []);
        assert.equal((await virsh("domstate", "web")).trim(), "running");
      });
      await t.step("kill -9 the holder; the standby takes over and repairs drift", async () => {
        first.child.kill("SIGKILL");
        await first.child.status;
        await virsh("destroy", "web");
        await second!.err.until(
          /took the lease of objects without a context/,
          "the standby's takeover",
          30_000,
        );
        await waitFor(
          async () => (await virsh("domstate", "web")).trim() === "running",
          "web runs again",
          60_000,
        );
        const made = mutating(readVirshLog(`${host2.home}/virsh.log`)).filter((c) =>
          /define|create|upload|build/.test(c[0]) && !c[0].startsWith("pool-")
        );
        assert.deepEqual(made, [], "the standby created nothing that existed");
      });
    } finally {
      try {
        first.child.kill("SIGKILL");
      } catch { /* killed by the test already */ }
      await first.child.status;
      if (second) {
        second.child.kill("SIGTERM");
        assert.equal((await second.child.status).code, 0, second.err.text());
      }
      await workstation.run(["delete", "-f", BASIC, "--ignore-not-found", "--timeout=60s"]);
      await scrubBasic();
      for (const lv of [host1, host2, workstation]) lv.cleanup();
      await etcd.stop();
    }
  },
});
