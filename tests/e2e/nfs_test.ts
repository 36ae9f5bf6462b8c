/**
 * An NFS synced folder end to end: lv writes the host's exports (a marked block per Domain) and runs
 * exportfs; the guest mounts the folder from its network's gateway address. This kernel has no NFS server,
 * so tests/e2e/nfs/exportfs stands in for exportfs(8) and serves the same exports with nfs-ganesha; the
 * guest's NFS client is its real kernel's.
 */
import assert from "node:assert/strict";
import { Lv, requireLab, ROOT, run, testBoxDir } from "../integration/helpers.ts";

Deno.test("an nfs synced folder is exported by the host and mounted read-write in the guest", async (t) => {
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
  const file = `${lv.home}/nfs.yaml`;
  Deno.writeTextFileSync(
    file,
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
`,
  );
  const sshOut = async (cmd: string) => (await lv.ok(["ssh", "nfs-vm", "--", cmd])).stdout;
  try {
    await t.step("apply exports the folder and the guest mounts it", async () => {
      const r = await lv.ok(["apply", "-f", file, "--timeout=8m"]);
      assert.match(
        r.stderr,
        new RegExp(`Mounted: ${share} mounted on /srv/share \\(nfs from 10\\.50\\.0\\.1\\)`),
      );
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
