/**
 * A rootless guest end to end: an unprivileged user (made only inside the lab's mount namespace) runs lv
 * against its own qemu:///session and boots the test box (LV_TEST_BOX_DIR) with `machineType: q35`. The
 * session has no libvirt networks: the management interface is QEMU's user-mode network with the guest's
 * sshd forwarded to a port on 127.0.0.1 that lv chose, and every SSH path uses that endpoint. One TCG boot.
 * (The cloud image variant cannot carry a q35 seed check: Debian's cloud kernel has no AHCI driver, so a
 * q35 guest never sees a SATA CD-ROM; see the issue 14 note.)
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { requireLab, run, testBoxDir, waitFor } from "../integration/helpers.ts";
import { rootlessUser, SESSION } from "../integration/rootless_user.ts";

const manifest = (box: string) =>
  `apiVersion: lv.dev/v1alpha1
kind: Box
metadata:
  name: debian12
spec:
  source: ${box}
---
apiVersion: lv.dev/v1alpha1
kind: Domain
metadata:
  name: rootless-vm
spec:
  box: debian12
  driver: qemu
  memory: 512
  machineType: q35
`;

/** Lines of `ps` for QEMU processes run by `uid`. */
async function qemuOf(uid: number): Promise<string[]> {
  return (await run("ps", ["-eo", "uid=,args="])).stdout.split("\n")
    .filter((l) => /qemu-system/.test(l) && Number(l.trim().split(/\s+/)[0]) === uid);
}

Deno.test("qemu:///session: an SSH guest on q35, reached through a forwarded port", async (t) => {
  requireLab();
  const user = await rootlessUser();
  const lv = user.lv;
  const file = `${lv.home}/rootless.yaml`;
  try {
    await Deno.writeTextFile(file, manifest(`${testBoxDir()}/debian12.box`));
    await Deno.chown(file, user.uid, user.uid);

    await t.step("lv doctor: the session's management interface is QEMU's user-mode network", async () => {
      const r = await lv.run(["doctor"]);
      assert.match(
        r.stdout,
        /qemu:\/\/\/session: rootless session: .*user-mode network .* 127\.0\.0\.1/,
        r.stdout,
      );
    });

    let port = 0;
    await t.step(
      "apply returns Ready: SSH on 127.0.0.1 at lv's forwarded port",
      async () => {
        await lv.ok(["apply", "-f", file, "--timeout=900s"]);
        const dom = parse((await lv.ok(["get", "domain", "rootless-vm", "-o", "yaml"])).stdout);
        assert.equal(dom.status.guest.address, "127.0.0.1");
        port = dom.status.guest.port;
        assert.ok(Number.isInteger(port) && port > 1024, `status.guest.port ${port}`);
        const ready = dom.status.conditions.find((c: { type: string }) => c.type === "Ready");
        assert.equal(ready.status, "True", JSON.stringify(ready));
        const listening = (await run("ss", ["-Hltnp", `sport = :${port}`])).stdout;
        assert.match(
          listening,
          /127\.0\.0\.1:\d+.*qemu-system/,
          "the user's QEMU listens on the forwarded port",
        );
        const qemu = await qemuOf(user.uid);
        assert.equal(qemu.length, 1, qemu.join("\n"));
        assert.match(qemu[0], /hostfwd=tcp:127\.0\.0\.1:\d+-:22/);
        const nets = await user.run("virsh", ["-q", "-c", SESSION, "net-list", "--all", "--name"]);
        assert.equal(nets.stdout.trim(), "", "no libvirt network in the session");
      },
    );

    await t.step("lv ssh reaches the guest: hostname set, q35", async () => {
      const ssh = async (cmd: string) => (await lv.ok(["ssh", "rootless-vm", "--", cmd])).stdout.trim();
      assert.equal(await ssh("hostname"), "rootless-vm");
      assert.match(await ssh("cat /sys/class/dmi/id/product_name"), /Q35/);
      const config = (await lv.ok(["ssh-config", "rootless-vm"])).stdout;
      assert.match(config, /HostName 127\.0\.0\.1\n/);
      assert.match(config, new RegExp(`Port ${port}\\n`));
    });

    await t.step("delete leaves nothing: no QEMU of the user, no volumes, no domain", async () => {
      await lv.ok(["delete", "-f", file, "--timeout=120s"]);
      await waitFor(async () => (await qemuOf(user.uid)).length === 0, "the user's QEMU gone", 30_000);
      assert.deepEqual([...Deno.readDirSync(`${user.home}/.local/share/lv/images`)].map((e) => e.name), []);
      const listed = await user.run("virsh", ["-q", "-c", SESSION, "list", "--all", "--name"]);
      assert.equal(listed.stdout.trim(), "");
      assert.equal(
        (await run("ss", ["-Hltn", `sport = :${port}`])).stdout.trim(),
        "",
        "the port is free again",
      );
    });
  } finally {
    await lv.run(["delete", "-f", file, "--ignore-not-found", "--timeout=120s"]);
    await user.stop();
  }
});
