/**
 * The synced folders end to end, on one boot:
 * - NFS: lv writes the host's exports (a marked block per Domain) and runs exportfs; the guest mounts the
 *   folder from its network's gateway address. This kernel has no NFS server, so tests/e2e/nfs/exportfs stands
 *   in for exportfs(8) and serves the same exports with nfs-ganesha; the guest's NFS client is its real kernel's.
 * - virtiofs: a device of the definition served by libvirt's virtiofsd, mounted by the fstab block lv owns;
 *   files go both ways.
 * - rsync with `lv rsync --watch`: a file written on the host after the first sync reaches the guest.
 * - 9p, added to the running domain: a next-boot change (RestartRequired, the device in the persistent
 *   definition, the fstab line written, the mount pending). The test box's kernel is Debian's cloud kernel,
 *   which has no 9p, so the 9p mount itself is booted in guest_families_test (the netplan variant has
 *   Debian's generic kernel).
 */
import assert from "node:assert/strict";
import { Lv, requireLab, ROOT, run, testBoxDir, virsh, waitFor } from "../integration/helpers.ts";

Deno.test("nfs, virtiofs, rsync --watch and 9p synced folders in one guest", async (t) => {
  requireLab();
  testBoxDir();
  const lv = new Lv((home) => ({
    LV_NFS_EXPORTS: `${home}/exports`,
    LV_NFS_GANESHA_DIR: home,
    PATH: `${ROOT}tests/e2e/nfs:${Deno.env.get("PATH")}`,
  }));
  const share = `${lv.home}/share`;
  Deno.mkdirSync(share);
  Deno.writeTextFileSync(`${share}/hello.txt`, "served over NFS\n");
  const [vfs, app, nine] = [`${lv.home}/vfs`, `${lv.home}/app`, `${lv.home}/nine`];
  for (const dir of [vfs, app, nine]) Deno.mkdirSync(dir);
  Deno.writeTextFileSync(`${vfs}/hello.txt`, "served over virtiofs\n");
  Deno.writeTextFileSync(`${app}/first.txt`, "first sync\n");
  const file = `${lv.home}/nfs.yaml`;
  const manifest = (extra: string) =>
    `apiVersion: lv.dev/v1alpha1
kind: Box
metadata: {name: debian12}
spec: {source: /var/cache/lv-test-box/current/debian12.box}
---
apiVersion: lv.dev/v1alpha1
kind: Network
metadata: {name: nfs-net}
spec:
  ipv4: {address: 10.50.0.1, prefix: 24}
---
apiVersion: lv.dev/v1alpha1
kind: Domain
metadata: {name: nfs-vm}
spec:
  box: debian12
  driver: qemu
  memory: 512
  interfaces: [{network: nfs-net}]
  syncedFolders:
    - {source: ${share}, target: /srv/share, type: nfs}
    - {source: ${vfs}, target: /srv/vfs, type: virtiofs}
    - {source: ${app}, target: /srv/app, type: rsync}
${extra}`;
  Deno.writeTextFileSync(file, manifest(""));
  const sshOut = async (cmd: string) => (await lv.ok(["ssh", "nfs-vm", "--", cmd])).stdout;
  try {
    await t.step("apply exports the folder and the guest mounts it", async () => {
      const r = await lv.ok(["apply", "-f", file, "--timeout=8m"]);
      assert.match(
        r.stderr,
        new RegExp(`Mounted: ${share} mounted on /srv/share \\(nfs from 10\\.50\\.0\\.1\\)`),
      );
      assert.match(r.stderr, new RegExp(`Mounted: ${vfs} mounted on /srv/vfs \\(virtiofs\\)`));
      const exports = Deno.readTextFileSync(`${lv.home}/exports`);
      assert.match(
        exports,
        new RegExp(`^# lv-begin [0-9a-f-]{36}\\n"${share}" 10\\.50\\.0\\.\\d+\\(rw,`, "m"),
      );
    });

    await t.step("the guest reads the host's file and its writes land on the host", async () => {
      assert.match(await sshOut("findmnt -n -o FSTYPE,SOURCE /srv/share"), /^nfs4\s+10\.50\.0\.1:/);
      assert.equal(await sshOut("cat /srv/share/hello.txt"), "served over NFS\n");
      await sshOut("echo written by the guest > /srv/share/from-guest.txt");
      assert.equal(Deno.readTextFileSync(`${share}/from-guest.txt`), "written by the guest\n");
    });

    await t.step("virtiofs: the guest reads the host's file, the host reads the guest's", async () => {
      assert.match(await sshOut("findmnt -n -o FSTYPE,SOURCE /srv/vfs"), /^virtiofs\s+lv[0-9a-f]{24}$/m);
      assert.match(
        await sshOut("cat /etc/fstab"),
        /^# lv-begin virtiofs\nlv[0-9a-f]{24} \/srv\/vfs virtiofs nofail 0 0\n# lv-end virtiofs$/m,
      );
      assert.equal(await sshOut("cat /srv/vfs/hello.txt"), "served over virtiofs\n");
      await sshOut("echo written by the guest | sudo tee /srv/vfs/from-guest.txt");
      assert.equal(Deno.readTextFileSync(`${vfs}/from-guest.txt`), "written by the guest\n");
    });

    await t.step("lv rsync --watch copies a file written on the host after the first sync", async () => {
      await waitFor(
        async () => (await lv.run(["ssh", "nfs-vm", "--", "cat /srv/app/first.txt"])).code === 0,
        "the first rsync",
        60_000,
      );
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", `${ROOT}mod.ts`, "rsync", "nfs-vm", "--watch"],
        env: { ...lv.env, LV_HOME: lv.home },
        cwd: ROOT,
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn();
      let stderr = "";
      const reading = (async () => {
        for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) stderr += chunk;
      })();
      try {
        // Written only once the first sync is done and the watch runs: the watch must carry it.
        await waitFor(
          () => Promise.resolve(stderr.includes("Ctrl-C to stop")),
          "the watch to start",
          120_000,
        );
        assert.doesNotMatch((await lv.run(["ssh", "nfs-vm", "--", "ls /srv/app"])).stdout, /changed\.txt/);
        Deno.writeTextFileSync(`${app}/changed.txt`, "changed on the host\n");
        await waitFor(
          async () =>
            (await lv.run(["ssh", "nfs-vm", "--", "cat /srv/app/changed.txt"])).stdout ===
              "changed on the host\n",
          "the change synced by lv rsync --watch",
          120_000,
        );
      } finally {
        child.kill("SIGINT");
      }
      const status = await child.status;
      await reading;
      assert.equal(status.code, 0, stderr);
      assert.match(stderr, /Watching \S+\/app for changes \(Ctrl-C to stop\)/);
    });

    await t.step("a 9p folder added to the running domain is a next-boot change", async () => {
      Deno.writeTextFileSync(
        file,
        manifest(`    - {source: ${nine}, target: /srv/nine, type: 9p, accessmode: mapped}\n`),
      );
      const r = await lv.ok(["apply", "-f", file, "--timeout=5m"]);
      assert.match(
        r.stderr,
        new RegExp(`MountPending: ${nine} is mounted on /srv/nine \\(9p\\) after the next boot`),
      );
      const dom = JSON.parse((await lv.ok(["get", "domain", "nfs-vm", "-o", "json"])).stdout);
      const restart = dom.status.conditions.find((c: { type: string }) => c.type === "RestartRequired");
      assert.match(restart?.message ?? "", /^spec\.syncedFolders takes effect at the next boot/);
      const inactive = await virsh("dumpxml", "--inactive", "nfs-vm");
      assert.match(
        inactive,
        new RegExp(
          `<filesystem type='mount' accessmode='mapped'>\\s*<driver type='path' wrpolicy='immediate'/>\\s*<source dir='${nine}'/>`,
        ),
      );
      assert.doesNotMatch(await virsh("dumpxml", "nfs-vm"), /wrpolicy/, "not in the running domain");
      assert.match(
        await sshOut("cat /etc/fstab"),
        /^lv[0-9a-f]{24} \/srv\/nine 9p trans=virtio,version=9p2000\.L,nofail 0 0$/m,
      );
    });

    await t.step("delete removes the export", async () => {
      await lv.ok(["delete", "-f", file, "--timeout=3m"]);
      assert.doesNotMatch(Deno.readTextFileSync(`${lv.home}/exports`), /lv-begin/);
    });
  } finally {
    await lv.run(["delete", "-f", file, "--ignore-not-found", "--timeout=3m"]);
    try {
      const pid = Number(Deno.readTextFileSync(`${lv.home}/ganesha.pid`).trim());
      if (pid > 0) await run("kill", [String(pid)]);
    } catch { /* not running */ }
    lv.cleanup();
  }
});
