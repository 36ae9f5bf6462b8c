/**
 * lv controller against the lab's libvirtd: apply only writes while it runs, it heals drift made behind
 * lv's back, and SIGTERM stops it cleanly.
 */
import assert from "node:assert/strict";
import { spawnController } from "./crash_helpers.ts";
import { Lv, requireLab, virsh, waitFor } from "./helpers.ts";

const BASIC = "examples/basic.yaml";

Deno.test("lv controller converges, heals drift, and exits cleanly on SIGTERM", async (t) => {
  requireLab();
  const lv = new Lv();
  const controller = spawnController(lv, ["--resync=2s"], `${lv.home}/controller-virsh.log`);
  try {
    await t.step(
      "apply while the controller runs: it holds the lease, apply only writes and waits",
      async () => {
        await controller.err.until(/lv controller: running/, "the controller is running", 60_000);
        // A second controller stands by (it would take over if the first died), and stops on SIGTERM.
        const second = spawnController(lv, [], `${lv.home}/second-virsh.log`);
        await second.err.until(/is held by .*; standing by/, "the standby", 60_000);
        second.child.kill("SIGTERM");
        assert.equal((await second.child.status).code, 0, second.err.text());
        assert.doesNotMatch(second.err.text(), /took the lease/);
        await lv.ok(["apply", "-f", BASIC, "--timeout=90s"]);
        assert.equal((await virsh("domstate", "web")).trim(), "running");
      },
    );

    await t.step("an external virsh destroy of a Running domain is repaired", async () => {
      await virsh("destroy", "web");
      await waitFor(
        async () => (await virsh("domstate", "web")).trim() === "running",
        "web runs again",
        30_000,
      );
      const d = (await lv.ok(["describe", "domain", "web"])).stdout;
      assert.match(d, /Started\s+\S+\s+2\s+domain "web" started/);
    });

    await t.step("an external net-destroy of lv's network is repaired", async () => {
      await virsh("net-destroy", "basic-net");
      await waitFor(
        async () => /Active:\s+yes/.test(await virsh("net-info", "basic-net")),
        "basic-net is active again",
        30_000,
      );
    });

    await t.step("an undefined domain is re-created from its spec, its volume kept", async () => {
      await virsh("destroy", "web");
      await virsh("undefine", "web");
      await waitFor(
        async () => (await virsh("domstate", "web").catch(() => "")).trim() === "running",
        "web is back",
        30_000,
      );
      assert.match(await virsh("vol-list", "default"), /\bweb-data\b/);
    });

    await t.step("a domain halted on purpose stays stopped", async () => {
      await lv.ok(["halt", "web", "--timeout=60s"]);
      // Two more resync passes look at it: the controller must leave it alone.
      const looks = () =>
        Deno.readTextFileSync(`${lv.home}/controller-virsh.log`).split("\n")
          .filter((l) => l === JSON.stringify(["domstate", "--reason", "web"])).length;
      const seen = looks();
      await waitFor(async () => await Promise.resolve(looks() >= seen + 2), "two more resync passes", 30_000);
      assert.equal((await virsh("domstate", "web")).trim(), "shut off");
    });

    await t.step("delete while the controller runs", async () => {
      await lv.ok(["delete", "-f", BASIC, "--timeout=60s"]);
      assert.doesNotMatch(await virsh("list", "--all", "--name"), /\bweb\b/);
    });
  } finally {
    controller.child.kill("SIGTERM");
    const status = await controller.child.status;
    await lv.run(["delete", "-f", BASIC, "--ignore-not-found", "--timeout=60s"]);
    lv.cleanup();
    assert.equal(status.code, 0, controller.err.text());
    await controller.err.until(/lv controller: stopped/, "the controller's last words", 5_000);
  }
});
