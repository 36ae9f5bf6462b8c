/**
 * Networks lv does not own and machine options, on the lab's libvirtd with domains without a guest OS
 * (communicator: none): an existing libvirt network and a host bridge made here with virsh and ip and left
 * as they were after delete; q35 + efi with its NVRAM made and removed; vnc on an auto port in
 * `lv get -o wide`; a cdrom; a tpm with its swtpm state removed; `lv logs` with the firmware's lines; 9p and
 * virtiofs folder devices (virtiofsd started by libvirt; the guest side is tests/e2e/nfs_test.ts).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { parseDomainXml } from "../../src/libvirt/xml/domain_xml.ts";
import { Lv, requireLab, run, virsh, waitFor } from "./helpers.ts";

function domain(name: string, spec: string): string {
  return `apiVersion: lv.dev/v1alpha1
kind: Domain
metadata:
  name: ${name}
spec:
  driver: qemu
  communicator: none
  memory: 128
${spec.trim().split("\n").map((l) => `  ${l}`).join("\n")}
`;
}

async function ip(...args: string[]): Promise<void> {
  const r = await run("ip", args);
  if (r.code !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr}`);
}

async function withLv(fn: (lv: Lv, apply: (name: string, yaml: string) => Promise<string>) => Promise<void>) {
  requireLab();
  const lv = new Lv();
  const files: string[] = [];
  const apply = async (name: string, yaml: string) => {
    const file = `${lv.home}/${name}.yaml`;
    Deno.writeTextFileSync(file, yaml);
    files.push(file);
    await lv.ok(["apply", "-f", file, "--timeout=120s"]);
    return file;
  };
  try {
    await fn(lv, apply);
  } finally {
    for (const f of files) await lv.run(["delete", "-f", f, "--ignore-not-found", "--timeout=60s"]);
    lv.cleanup();
  }
}

Deno.test("an existing libvirt network and host bridge are attached, and untouched after delete", async () => {
  await withLv(async (lv, apply) => {
    const netXml = `<network><name>outside</name><bridge name='lvout0'/>
      <ip address='10.131.0.1' prefix='24'><dhcp><range start='10.131.0.2' end='10.131.0.254'/></dhcp></ip></network>`;
    Deno.writeTextFileSync(`${lv.home}/outside.xml`, netXml);
    await virsh("net-define", `${lv.home}/outside.xml`);
    await virsh("net-start", "outside");
    await ip("link", "add", "lvbr0", "type", "bridge");
    try {
      const before = await virsh("net-dumpxml", "--inactive", "outside");
      const file = await apply(
        "unowned",
        domain(
          "unowned",
          `
interfaces:
  - libvirtNetwork: outside
    ip: 10.131.0.50
  - bridge: lvbr0`,
        ),
      );
      const dom = parseDomainXml(await virsh("dumpxml", "unowned"));
      assert.deepEqual(dom.interfaces.map((i) => [i.type, i.network ?? i.bridge]), [
        ["network", "outside"],
        ["bridge", "lvbr0"],
      ]);
      assert.equal(
        await virsh("net-dumpxml", "--inactive", "outside"),
        before,
        "no DHCP reservation on a network lv does not own",
      );
      await lv.ok(["delete", "-f", file, "--timeout=60s"]);
      assert.equal(await virsh("net-dumpxml", "--inactive", "outside"), before);
      assert.match(await virsh("net-info", "outside"), /Active:\s+yes/);
      assert.equal((await run("ip", ["link", "show", "lvbr0"])).code, 0, "the bridge is still there");
    } finally {
      await run("virsh", ["-c", "qemu:///system", "net-destroy", "outside"]);
      await run("virsh", ["-c", "qemu:///system", "net-undefine", "outside"]);
      await run("ip", ["link", "del", "lvbr0"]);
    }
  });
});

Deno.test("a missing libvirt network is a condition, never created", async () => {
  await withLv(async (lv) => {
    const file = `${lv.home}/lost.yaml`;
    Deno.writeTextFileSync(file, domain("lost", "interfaces:\n  - libvirtNetwork: nowhere"));
    const r = await lv.run(["apply", "-f", file, "--timeout=8s"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr + r.stdout, /NetworkNotFound|libvirt network "nowhere" does not exist/);
    assert.equal((await run("virsh", ["-c", "qemu:///system", "net-info", "nowhere"])).code, 1);
    assert.equal(
      (await run("virsh", ["-c", "qemu:///system", "dominfo", "lost"])).code,
      1,
      "nothing half-defined",
    );
    await lv.ok(["delete", "-f", file, "--timeout=30s"]);
  });
});

Deno.test("q35 with efi: NVRAM made from the template and removed with the domain; tpm state likewise; the cloud-init seed on virtio-scsi", async () => {
  await withLv(async (lv, apply) => {
    const file = await apply(
      "uefi",
      domain(
        "uefi",
        `
machineType: q35
firmware: efi
tpm: {version: "2.0"}
cloudInit: {}`,
      ),
    );
    const xml = await virsh("dumpxml", "uefi");
    const dom = parseDomainXml(xml);
    assert.match(dom.machine ?? "", /^pc-q35-/);
    assert.equal(dom.firmware, "efi");
    assert.equal(dom.tpm, "tpm-tis/2.0");
    // q35 has no IDE (libvirt refuses an IDE CD-ROM there) and Debian's cloud kernel no AHCI: virtio-scsi.
    assert.deepEqual(dom.cdroms.map((c) => [c.bus, c.device, c.path.includes("uefi-cidata-")]), [
      ["scsi", "sda", true],
    ]);
    assert.match(xml, /<controller type=["']scsi["'] index=["']0["'] model=["']virtio-scsi["']/);
    const nvram = /<nvram[^>]*>([^<]+)<\/nvram>/.exec(xml)?.[1];
    assert.ok(nvram, `no nvram in\n${xml}`);
    assert.ok(existsSync(nvram), `${nvram} exists while the domain is defined`);
    const uuid = dom.uuid!;
    await waitFor(
      () => Promise.resolve(existsSync(`/var/lib/libvirt/swtpm/${uuid}`)),
      "swtpm state exists",
      30_000,
    );
    await lv.ok(["delete", "-f", file, "--timeout=60s"]);
    assert.ok(!existsSync(nvram), `${nvram} removed`);
    assert.ok(!existsSync(`/var/lib/libvirt/swtpm/${uuid}`), "tpm state removed");
  });
});

Deno.test("vnc on an auto port shows in lv get -o wide; a cdrom is attached read-only", async () => {
  await withLv(async (lv, apply) => {
    // QEMU runs as its own user: the ISO's directory must let it in (a temporary directory is 0700).
    const isoDir = Deno.makeTempDirSync({ prefix: "lv-iso-" });
    Deno.chmodSync(isoDir, 0o755);
    try {
      const iso = `${isoDir}/disc.iso`;
      Deno.writeFileSync(iso, new Uint8Array(2048 * 16));
      await apply(
        "screen",
        domain(
          "screen",
          `
graphics: {type: vnc}
cdroms: [{path: ${iso}}]
bootOrder: [cdrom, hd]`,
        ),
      );
      const out = (await lv.ok(["get", "domain", "screen", "-o", "wide"])).stdout;
      const port = Number(/vnc:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
      assert.ok(port >= 5900, `a vnc port in\n${out}`);
      const dom = parseDomainXml(await virsh("dumpxml", "screen"));
      assert.deepEqual(dom.cdroms.map((c) => c.path), [iso]);
      assert.match(await virsh("dumpxml", "screen"), /<readonly\/>/);
      const missing = `${lv.home}/missing.yaml`;
      Deno.writeTextFileSync(missing, domain("nodisc", `cdroms: [{path: ${lv.home}/nope.iso}]`));
      const r = await lv.run(["apply", "-f", missing, "--timeout=8s"]);
      assert.equal(r.code, 1);
      assert.match(r.stderr + r.stdout, /CdromNotFound|nope\.iso does not exist/);
      await lv.ok(["delete", "-f", missing, "--timeout=30s"]);
    } finally {
      Deno.removeSync(isoDir, { recursive: true });
    }
  });
});

Deno.test("lv logs shows the firmware's boot lines of a diskless domain", async () => {
  await withLv(async (lv, apply) => {
    await apply("quiet", domain("quiet", ""));
    await waitFor(
      async () => /SeaBIOS/.test((await lv.run(["logs", "quiet"])).stdout),
      "lv logs shows SeaBIOS's banner",
      90_000,
    );
    const r = await lv.ok(["logs", "quiet"]);
    assert.match(r.stdout, /Booting from/);
  });
});

/** The command lines of the running processes whose argv has `word`. */
function processesWith(word: string): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const argv = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).split("\0");
      if (argv.some((a) => a.includes(word))) out.push(argv.join(" "));
    } catch { /* gone */ }
  }
  return out;
}

Deno.test("9p and virtiofs folders: QEMU runs with both devices, libvirt's virtiofsd serves the folder until delete", async () => {
  await withLv(async (lv, apply) => {
    const [nine, vfs] = [`${lv.home}/nine`, `${lv.home}/vfs`];
    Deno.mkdirSync(nine);
    Deno.mkdirSync(vfs);
    // QEMU opens a 9p source as libvirt's qemu user (virtiofsd runs as root): the temporary home is 0700.
    Deno.chmodSync(lv.home, 0o755);
    const file = await apply(
      "shares",
      domain(
        "shares",
        `
syncedFolders:
  - {source: ${nine}, target: /srv/nine, type: 9p, accessmode: mapped, readonly: true}
  - {source: ${vfs}, target: /srv/vfs, type: virtiofs}`,
      ),
    );
    const live = await virsh("dumpxml", "shares");
    assert.match(live, /<memoryBacking>\s*<source type='memfd'\/>\s*<access mode='shared'\/>/);
    const fs = parseDomainXml(live).filesystems;
    assert.deepEqual(Object.values(fs).sort(), [`path/mapped/${nine}/ro`, `virtiofs/passthrough/${vfs}/rw`]);
    // QEMU's virtiofsd runs as a parent and its sandboxed child
    assert.ok(processesWith(vfs).some((p) => /virtiofsd/.test(p)), "virtiofsd serves the folder");
    await lv.ok(["delete", "-f", file, "--timeout=60s"]);
    await waitFor(
      () => Promise.resolve(processesWith(vfs).filter((p) => /virtiofsd/.test(p)).length === 0),
      "virtiofsd gone after delete",
      30_000,
    );
  });
});
