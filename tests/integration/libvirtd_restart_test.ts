/**
 * libvirtd goes away in the middle of an apply: lv retries with backoff, its condition says what it waits
 * for, and it converges once libvirtd is back. (The lab's libvirtd is restarted by its PID file; the lab stops
 * whatever runs under that PID file at the end.)
 */
import assert from "node:assert/strict";
import { Lv, requireLab, ROOT, run, virsh, waitFor } from "./helpers.ts";

const BASIC = "examples/basic.yaml";

async function libvirtdUp(): Promise<boolean> {
  return (await run("virsh", ["-c", "qemu:///system", "version"])).code === 0;
}

Deno.test("libvirtd restarted in the middle of an apply: lv retries, says why, converges", async () => {
  requireLab();
  const pidFile = `${Deno.env.get("LV_LAB_DIR")}/libvirtd.pid`;
  const lv = new Lv();
  const apply = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}mod.ts`, "apply", "-f", BASIC, "--timeout=180s"],
    env: { LV_HOME: lv.home, LV_VIRSH_LOG: lv.virshLog },
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    // In the middle: the first volume is being created.
    await waitFor(
      async () => {
        try {
          return (await Deno.readTextFile(lv.virshLog)).includes('"vol-create"');
        } catch {
          return false;
        }
      },
      "lv creates its first volume",
      60_000,
    );
    const pid = Number((await Deno.readTextFile(pidFile)).trim());
    Deno.kill(pid, "SIGTERM");
    await waitFor(async () => !(await libvirtdUp()), "libvirtd is gone", 30_000);
    // It stops answering before it has exited: a new libvirtd cannot take the PID file until then.
    await waitFor(
      async () => {
        try {
          return /^State:\s+Z/m.test(await Deno.readTextFile(`/proc/${pid}/status`));
        } catch {
          return true;
        }
      },
      `the old libvirtd (pid ${pid}) has exited`,
      60_000,
    );

    await waitFor(
      async () => {
        const r = await lv.run(["get", "boxes,volumes,networks,domains", "-o", "json"]);
        const items = JSON.parse(r.stdout).items as {
          status: { conditions?: { reason: string; message: string }[] };
        }[];
        return items.some((o) =>
          o.status.conditions?.some((c) =>
            c.reason === "LibvirtUnreachable" &&
            /failed to connect to the hypervisor.*retrying in/.test(c.message)
          )
        );
      },
      "a condition says lv waits for libvirt",
      60_000,
    );

    const start = await run("libvirtd", ["-d", "-p", pidFile]);
    assert.equal(start.code, 0, start.stderr);
    await waitFor(libvirtdUp, "libvirtd is back", 60_000);

    const status = await apply.output();
    const stderr = new TextDecoder().decode(status.stderr);
    assert.equal(status.code, 0, stderr);
    assert.match(stderr, /LibvirtUnreachable/);
    assert.equal((await virsh("domstate", "web")).trim(), "running");
    assert.match((await lv.ok(["get", "domains"])).stdout, /^web\s+Running\s.*True/m);
  } finally {
    if (!(await libvirtdUp())) await run("libvirtd", ["-d", "-p", pidFile]);
    await waitFor(libvirtdUp, "libvirtd is up for the next test", 60_000);
    try {
      apply.kill("SIGKILL");
    } catch { /* exited */ }
    await lv.run(["delete", "-f", BASIC, "--ignore-not-found", "--timeout=60s"]);
    lv.cleanup();
  }
});
