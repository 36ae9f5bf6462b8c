/**
 * lv controller against the lab's libvirtd: apply only writes while it runs, it heals drift made behind
 * lv's back, and SIGTERM stops it cleanly.
 */
import assert from "node:assert/strict";
import { Lv, requireLab, ROOT, virsh, waitFor } from "./helpers.ts";

const BASIC = "examples/basic.yaml";

Deno.test("lv controller converges, heals drift, and exits cleanly on SIGTERM", async (t) => {
  requireLab();
  const lv = new Lv();
  const controller = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}mod.ts`, "controller", "--resync=2s"],
    env: { LV_HOME: lv.home, LV_VIRSH_LOG: `${lv.home}/controller-virsh.log` },
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const reading = (async () => {
    for await (const chunk of controller.stderr.pipeThrough(new TextDecoderStream())) stderr += chunk;
  })();
  try {
    await t.step(
      "apply while the controller runs: it holds the lease, apply only writes and waits",
      async () => {
        await waitFor(
          () => Promise.resolve(stderr.includes("lv controller: running")),
          "the controller is running",
          60_000,
        );
        // A second controller stands by (it would take over if the first died), and stops on SIGTERM.
        const second = new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", `${ROOT}mod.ts`, "controller"],
          env: { LV_HOME: lv.home },
          cwd: ROOT,
          stdout: "null",
          stderr: "piped",
        }).spawn();
        let secondErr = "";
        const secondReading = (async () => {
          for await (const c of second.stderr.pipeThrough(new TextDecoderStream())) secondErr += c;
        })();
        await waitFor(
          () => Promise.resolve(/is held by .*; standing by/.test(secondErr)),
          "the standby",
          60_000,
        );
        second.kill("SIGTERM");
        assert.equal((await second.status).code, 0, secondErr);
        await secondReading;
        assert.doesNotMatch(secondErr, /took the lease/);
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
    controller.kill("SIGTERM");
    const status = await controller.status;
    await reading;
    await lv.run(["delete", "-f", BASIC, "--ignore-not-found", "--timeout=60s"]);
    lv.cleanup();
    assert.equal(status.code, 0, stderr);
    assert.match(stderr, /lv controller: stopped/);
  }
});
