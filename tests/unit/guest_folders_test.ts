/**
 * Synced folders on the fake guest: the exact rsync argv, the marked exports block (NFS), the fstab blocks and
 * mounts of 9p and virtiofs.
 */
import assert from "node:assert/strict";
import type { SyncedFolder } from "../../src/api/types.ts";
import { syncFolders } from "../../src/guest/folders/folders.ts";
import { rsyncArgv } from "../../src/guest/folders/rsync.ts";
import type { JumpHost } from "../../src/config/ssh_transport.ts";
import { mountTag } from "../../src/libvirt/xml/domain_filesystem_xml.ts";
import { guestFixture, withFixture } from "./guest_fixture.ts";
import { EXAMPLES_DIR } from "./harness.ts";

const folder = (f: Partial<SyncedFolder>): SyncedFolder => ({
  source: `${EXAMPLES_DIR}/machine-files`,
  target: "/vagrant",
  type: "rsync",
  exclude: [],
  ...f,
});

Deno.test("rsyncArgv: archive, delete, sudo rsync, ssh with the pinned key file and alias, excludes, trailing slash", async () => {
  await withFixture(undefined, (f) => {
    const argv = rsyncArgv(folder({ source: "/src/app", exclude: ["*.tmp", ".git"] }), {
      dom: f.dom,
      address: "10.123.0.50",
      port: 22,
      keyFile: "/home/me/.lv/keys/uid-web",
      knownHosts: "/home/me/.lv/known_hosts/uid-web",
    });
    const flags = [
      ..."--archive --compress --delete --no-owner --no-group --timeout=120".split(" "),
      "--rsync-path=sudo rsync",
    ];
    const ssh = "ssh -p 22 -i /home/me/.lv/keys/uid-web -o IdentitiesOnly=yes " +
      "-o UserKnownHostsFile=/home/me/.lv/known_hosts/uid-web -o StrictHostKeyChecking=yes " +
      "-o HostKeyAlias=lv-web -o BatchMode=yes -o ConnectTimeout=30 -o ServerAliveInterval=30";
    const excludes = ["--exclude=*.tmp", "--exclude=.git"];
    assert.deepEqual(argv, [
      "rsync",
      ...flags,
      "-e",
      ssh,
      ...excludes,
      "/src/app/",
      "vagrant@10.123.0.50:/vagrant",
    ]);
  });
});

Deno.test("rsyncArgv through a remote libvirt host: a ProxyCommand first, quoted for the -e shell", async () => {
  await withFixture(undefined, (f) => {
    const jump = {
      host: "lab",
      port: 22,
      user: "me",
      proxyCommand: "/home/me/.lv/ssh-wrapper -W %h:%p lab",
    } as JumpHost;
    const argv = rsyncArgv(folder({ source: "/src/app/" }), {
      dom: f.dom,
      address: "10.123.0.50",
      port: 22,
      keyFile: "/k",
      knownHosts: "/kh",
      jump,
    });
    assert.equal(
      argv[argv.indexOf("-e") + 1].split(" -p ")[0],
      "ssh -o 'ProxyCommand=/home/me/.lv/ssh-wrapper -W %h:%p lab'",
    );
    assert.equal(argv.at(-2), "/src/app/");
  });
});

Deno.test("syncFolders (rsync): the target made and owned by the user, contents copied, known_hosts pinned", async () => {
  await withFixture((d) => d.spec.syncedFolders = [folder({ exclude: ["*.tmp"] })], async (f) => {
    await syncFolders(f.ctx);
    assert.ok(f.guest.dirs.has("/vagrant"));
    assert.ok(f.guest.commands().includes("sudo -n chown vagrant /vagrant"));
    assert.equal(
      f.guest.read("/vagrant/hello.txt"),
      await Deno.readTextFile(`${EXAMPLES_DIR}/machine-files/hello.txt`),
      "the folder's file is in the guest",
    );
    assert.equal(f.guest.read("/vagrant/notes.tmp"), undefined, "excluded");
    assert.deepEqual(f.guest.hostLog.map((a) => a[0]), ["rsync"], "no NFS folder: no exportfs");
    assert.equal(
      await Deno.readTextFile(`${f.home}/known_hosts/uid-web`),
      `lv-web ${f.guest.hostKey}\n`,
    );
    assert.deepEqual(f.events, [`Synced: ${EXAMPLES_DIR}/machine-files synced to /vagrant (rsync)`]);
  });
});

Deno.test("syncFolders (rsync) names the folder and rsync's error when rsync fails", async () => {
  await withFixture((d) => d.spec.syncedFolders = [folder({})], async (f) => {
    f.guest.failNext("rsync", {
      code: 12,
      stderr: "rsync error: error in rsync protocol data stream (code 12)\n",
    });
    await assert.rejects(
      syncFolders(f.ctx),
      /^Error: rsync \S+machine-files to \/vagrant: rsync error: error in rsync protocol/,
    );
    assert.deepEqual(f.events, []);
  });
});

Deno.test("syncFolders (nfs): a marked block in the exports file, exportfs once, mounted from the host address; idempotent", async () => {
  const share = await Deno.makeTempDir({ prefix: "lv-share-" });
  const f = await guestFixture((d) =>
    d.spec.syncedFolders = [folder({ source: share, target: "/srv/share", type: "nfs" })]
  );
  const exportsPath = `${f.home}/exports`;
  await Deno.writeTextFile(exportsPath, "/srv/other 192.168.1.0/24(ro)\n");
  Deno.env.set("LV_NFS_EXPORTS", exportsPath);
  try {
    await syncFolders(f.ctx);
    const text = await Deno.readTextFile(exportsPath);
    assert.match(
      text,
      /^\/srv\/other 192\.168\.1\.0\/24\(ro\)\n# lv-begin uid-web\n"[^"]+" 10\.123\.0\.50\(rw,[^)]*\)\n# lv-end uid-web\n$/,
    );
    assert.deepEqual(f.guest.hostLog, [["exportfs", "-ra"]]);
    assert.equal(f.guest.mounts.get("/srv/share"), `10.123.0.1:${share}`);
    assert.deepEqual(f.events, [`Mounted: ${share} mounted on /srv/share (nfs from 10.123.0.1)`]);

    await syncFolders(f.ctx);
    assert.equal(await Deno.readTextFile(exportsPath), text, "the same block: the file unchanged");
    assert.deepEqual(f.guest.hostLog, [["exportfs", "-ra"]], "no exportfs for an unchanged file");
    assert.equal(f.guest.commands().filter((c) => c.includes("mount -t nfs")).length, 1, "mounted once");

    f.dom.spec.syncedFolders = [];
    await syncFolders(f.ctx);
    assert.equal(
      await Deno.readTextFile(exportsPath),
      "/srv/other 192.168.1.0/24(ro)\n",
      "the block removed",
    );
  } finally {
    Deno.env.delete("LV_NFS_EXPORTS");
    await f.close();
    await Deno.remove(share, { recursive: true });
  }
});

Deno.test("syncFolders (nfs) refuses a remote libvirt host and an address on no lv Network", async () => {
  await withFixture((d) => d.spec.syncedFolders = [folder({ type: "nfs" })], async (f) => {
    f.ctx.jump = { host: "lab", port: 22, user: "me", proxyCommand: "x" } as JumpHost;
    await assert.rejects(
      syncFolders(f.ctx),
      /NFS folders need libvirt on this machine; domain\/web runs on lab: use type: rsync/,
    );
    f.ctx.jump = undefined;
    f.ctx.hostAddress = undefined;
    await assert.rejects(
      syncFolders(f.ctx),
      /NFS folders need the guest's SSH address \(10\.123\.0\.50\) to be on a Network lv manages/,
    );
    assert.deepEqual(f.guest.hostLog, []);
  });
});

const FSTAB = "UUID=1234 / ext4 errors=remount-ro 0 1\n";
const tag = (target: string) => mountTag(target);

Deno.test("syncFolders (9p, virtiofs): modules loaded, tags mounted, one fstab block per type lv owns; idempotent; removed with the folders", async () => {
  await withFixture((d) =>
    d.spec.syncedFolders = [
      folder({ source: "/srv/app", target: "/vagrant", type: "9p", accessmode: "mapped", readonly: true }),
      folder({ source: "/srv/data", target: "/srv/my data", type: "virtiofs" }),
    ], async (f) => {
    f.guest.files.set("/etc/fstab", { content: FSTAB, mode: 0o644, owner: "root" });
    await syncFolders(f.ctx);
    assert.equal(
      f.guest.read("/etc/fstab"),
      FSTAB +
        `# lv-begin 9p\n${
          tag("/vagrant")
        } /vagrant 9p trans=virtio,version=9p2000.L,ro,nofail 0 0\n# lv-end 9p\n` +
        `# lv-begin virtiofs\n${
          tag("/srv/my data")
        } /srv/my\\040data virtiofs nofail 0 0\n# lv-end virtiofs\n`,
    );
    const run = f.guest.commands().filter((c) => /modprobe|mount -t/.test(c));
    assert.deepEqual(run, [
      "sudo -n modprobe 9p",
      "sudo -n modprobe 9pnet_virtio",
      `sudo -n mount -t 9p -o trans=virtio,version=9p2000.L,ro,nofail ${tag("/vagrant")} /vagrant`,
      "sudo -n modprobe virtiofs",
      `sudo -n mount -t virtiofs -o nofail ${tag("/srv/my data")} /srv/my data`,
    ]);
    assert.equal(f.guest.mounts.get("/srv/my data"), tag("/srv/my data"));
    assert.deepEqual(f.events, [
      "Mounted: /srv/app mounted on /vagrant (9p)",
      "Mounted: /srv/data mounted on /srv/my data (virtiofs)",
    ]);

    const writes = () => f.guest.log.filter((o) => o.op === "put").length;
    const before = writes();
    await syncFolders(f.ctx);
    assert.equal(writes(), before, "fstab unchanged: not written again");
    assert.equal(f.guest.commands().filter((c) => c.includes("mount -t")).length, 2, "mounted once");

    // what the controller records after a sync (GuestStatus.synced)
    f.dom.status.guest = { synced: JSON.stringify(f.dom.spec.syncedFolders) };
    f.dom.spec.syncedFolders = [];
    await syncFolders(f.ctx);
    assert.equal(f.guest.read("/etc/fstab"), FSTAB, "lv's blocks removed, the rest kept");
    f.dom.status.guest = { synced: "[]" };
    const ops = f.guest.log.length;
    await syncFolders(f.ctx);
    assert.equal(f.guest.log.length, ops, "none now and none before: no round trip to the guest");
  });
});

Deno.test("syncFolders (9p) added to a running domain: fstab written, the mount waits for the next boot", async () => {
  await withFixture((d) => d.spec.syncedFolders = [folder({ type: "9p" })], async (f) => {
    f.ctx.liveMountTags = () => Promise.resolve(new Set());
    await syncFolders(f.ctx);
    assert.match(f.guest.read("/etc/fstab") ?? "", new RegExp(`^${tag("/vagrant")} /vagrant 9p `, "m"));
    assert.deepEqual(f.guest.commands().filter((c) => /modprobe|mount -t/.test(c)), []);
    assert.deepEqual(f.events, [
      `MountPending: ${EXAMPLES_DIR}/machine-files is mounted on /vagrant (9p) after the next boot`,
    ]);
  });
});

Deno.test("syncFolders (9p) on a kernel without 9p names the module and the way out; refuses a remote libvirt host", async () => {
  await withFixture((d) => d.spec.syncedFolders = [folder({ type: "9p" })], async (f) => {
    f.guest.modules.delete("9p");
    await assert.rejects(
      syncFolders(f.ctx),
      /^Error: 9p folders: the guest's kernel has no 9p module \(modprobe: FATAL: Module 9p not found in directory \/lib\/modules\/6\.1\.0-50-cloud-amd64\); Debian's cloud kernel lacks 9p: install linux-image-amd64, or use type: virtiofs$/,
    );
    assert.deepEqual(f.events, []);
    f.ctx.jump = { host: "lab", port: 22, user: "me", proxyCommand: "x" } as JumpHost;
    await assert.rejects(
      syncFolders(f.ctx),
      /9p folders need libvirt on this machine; domain\/web runs on lab: use type: rsync/,
    );
  });
});

Deno.test("syncFolders (virtiofs) names the folder and mount's error when the mount fails", async () => {
  await withFixture((d) => d.spec.syncedFolders = [folder({ type: "virtiofs" })], async (f) => {
    f.guest.failNext("mount", {
      code: 32,
      stderr: "mount: /vagrant: wrong fs type, bad option, bad superblock",
    });
    await assert.rejects(
      syncFolders(f.ctx),
      /^Error: mount virtiofs \S+machine-files on \/vagrant: exit code 32: mount: \/vagrant: wrong fs type/,
    );
  });
});
