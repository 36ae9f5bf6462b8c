/**
 * A rootless guest end to end: an unprivileged user (made only inside the lab's mount namespace) runs lv
 * against its own qemu:///session and boots the cloud image variant of the test box (scripts/build_test_box.sh
 * --variant cloud) with `machineType: q35` and a cloud-init seed (a SATA CD-ROM on q35). The session has no
 * libvirt networks: the management interface is QEMU's user-mode network with the guest's sshd forwarded to
 * a port on 127.0.0.1 that lv chose, and every SSH path uses that endpoint. One TCG boot.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { requireLab, ROOT, run, waitFor } from "../integration/helpers.ts";
import { rootlessUser, SESSION } from "../integration/rootless_user.ts";

async function cloudImage(): Promise<string> {
  const dir = (await run(`${ROOT}scripts/build_test_box.sh`, ["--variant", "cloud", "--print-dir"])).stdout
    .trim();
  const image = `${dir}/debian12-cloud.qcow2`;
  if (!(await Deno.stat(image).catch(() => undefined))) {
    throw new Error(
      `no cloud image at ${image}: run with scripts/test.sh tests/e2e/rootless_machine_test.ts`,
    );
  }
  return image;
}

const manifest = (image: string) =>
  `apiVersion: lv.dev/v1alpha1
kind: Box
metadata:
  name: cloud
spec:
  source: ${image}
---
apiVersion: lv.dev/v1alpha1
kind: Domain
metadata:
  name: rootless-vm
spec:
  box: cloud
  driver: qemu
  memory: 768
  machineType: q35
  cloudInit:
    userData:
      write_files:
        - path: /etc/lv-rootless
          content: "read from the SATA seed\\n"
`;

/** Lines of `ps` for QEMU processes run by `uid`. */
async function qemuOf(uid: number): Promise<string[]> {
  return (await run("ps", ["-eo", "uid=,args="])).stdout.split("\n")
    .filter((l) => /qemu-system/.test(l) && Number(l.trim().split(/\s+/)[0]) === uid);
}

Deno.test("qemu:///session: an SSH guest on q35 with a cloud-init seed, reached through a forwarded port", async (t) => {
  requireLab();
  const user = await rootlessUser();
  const lv = user.lv;
  const file = `${lv.home}/rootless.yaml`;
  try {
    await Deno.writeTextFile(file, manifest(await cloudImage()));
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
      "apply returns Ready: cloud-init done, SSH on 127.0.0.1 at lv's forwarded port",
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

    await t.step("lv ssh reaches the guest: hostname set, q35, the seed's user data written", async () => {
      const ssh = async (cmd: string) => (await lv.ok(["ssh", "rootless-vm", "--", cmd])).stdout.trim();
      assert.equal(await ssh("hostname"), "rootless-vm");
      assert.match(await ssh("cat /sys/class/dmi/id/product_name"), /Q35/);
      assert.equal(await ssh("cat /etc/lv-rootless"), "read from the SATA seed");
      assert.match(await ssh("sudo cloud-init status"), /status: done/);
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
