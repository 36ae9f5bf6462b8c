import assert from "node:assert/strict";
import type { DomainSpec, SyncedFolder } from "../../src/api/types.ts";
import { mountTag } from "../../src/libvirt/xml/domain_filesystem_xml.ts";
import {
  domainDiff,
  domainStateFromSpec,
  domainXml,
  type DomainXmlOptions,
  type DomainXmlState,
  parseDomainXml,
} from "../../src/libvirt/xml/domain_xml.ts";
import { liveGraphics } from "../../src/libvirt/xml/domain_devices_xml.ts";
import { sameMachine } from "../../src/libvirt/xml/domain_machine_xml.ts";
import { childOf, parseXml } from "../../src/libvirt/xml/parse_xml.ts";
import { assertLibvirtValid, domainResource, HOSTILE, virshTestDriver } from "./xml_fixtures.ts";

const DISK = {
  path: "/var/lib/libvirt/images/web.qcow2",
  format: "qcow2",
  device: "vda",
  bus: "virtio",
  cache: "default",
} as const;
const FOLDER: SyncedFolder = { source: "/srv/app", target: "/vagrant", type: "rsync", exclude: [] };
const BASE: DomainXmlOptions = { driver: "qemu", disks: [DISK], interfaces: [] };

/** name, spec fields, extra options, what the XML must contain, what it reads back as. */
const CASES: [string, Partial<DomainSpec>, Partial<DomainXmlOptions>, RegExp[], Partial<DomainXmlState>][] = [
  ["machineType q35", { machineType: "q35" }, {}, [/machine="q35"/], { machine: "q35" }],
  ["machineType versioned", { machineType: "pc-q35-7.2" }, {}, [/machine="pc-q35-7.2"/], {
    machine: "pc-q35-7.2",
  }],
  ["firmware efi", { machineType: "q35", firmware: "efi" }, {}, [
    /<os firmware="efi">/,
    /<feature enabled="no" name="secure-boot"\/>/,
  ], { firmware: "efi", secureBoot: false }],
  ["secure boot", { machineType: "q35", firmware: "efi", secureBoot: true }, {}, [
    /<feature enabled="yes" name="secure-boot"\/>/,
    /<feature enabled="yes" name="enrolled-keys"\/>/,
    /<smm state="on"\/>/,
  ], { firmware: "efi", secureBoot: true }],
  [
    "cpu host-passthrough with topology",
    {
      cpus: 4,
      cpu: { mode: "host-passthrough", sockets: 1, cores: 2, threads: 2, features: [] },
    },
    {},
    [/<cpu mode="host-passthrough" check="none">/, /<topology sockets="1" cores="2" threads="2"\/>/],
    {
      cpuMode: "host-passthrough",
      cpuTopology: "1/2/2",
    },
  ],
  [
    "cpu custom model with features",
    {
      cpu: {
        model: "Skylake-Client",
        features: [{ name: "vmx", policy: "disable" }, { name: "avx2", policy: "require" }],
      },
    },
    {},
    [/<model fallback="forbid">Skylake-Client<\/model>/, /<feature policy="disable" name="vmx"\/>/],
    {
      cpuMode: "custom",
      cpuModel: "Skylake-Client",
      cpuFeatures: ["disable:vmx", "require:avx2"],
    },
  ],
  ["cpu host-model on qemu", { cpu: { mode: "host-model", features: [] } }, {}, [
    /<cpu mode="host-model" check="partial"\/>/,
  ], { cpuMode: "host-model" }],
  ["boot order", { bootOrder: ["cdrom", "hd", "network"] }, {}, [
    /<boot dev="cdrom"\/>\s*<boot dev="hd"\/>\s*<boot dev="network"\/>/,
  ], { boot: ["cdrom", "hd", "network"] }],
  ["shared memory for virtiofs", { memoryBacking: { access: "shared" } }, {}, [
    /<memoryBacking>\s*<source type="memfd"\/>\s*<access mode="shared"\/>/,
  ], { memoryBacking: "shared/memfd" }],
  ["vnc on an auto port", { graphics: { type: "vnc", listen: "127.0.0.1" } }, {}, [
    /<graphics type="vnc" port="-1" autoport="yes" listen="127.0.0.1">/,
    /<model type="cirrus" vram="16384" heads="1"\/>/,
  ], { graphics: { type: "vnc", listen: "127.0.0.1", port: "auto" }, video: "cirrus/16384" }],
  [
    "spice on a fixed port with virtio video",
    {
      graphics: { type: "spice", listen: "0.0.0.0", port: 5930 },
      video: { model: "virtio" },
    },
    {},
    [
      /<graphics type="spice" port="5930" autoport="no" listen="0.0.0.0">/,
      /<model type="virtio" heads="1"\/>/,
    ],
    {
      graphics: { type: "spice", listen: "0.0.0.0", port: "5930" },
      video: "virtio/",
    },
  ],
  [
    "video without a display",
    { video: { model: "vga", vram: 8192 } },
    {},
    [/<model type="vga" vram="8192"/],
    {
      video: "vga/8192",
    },
  ],
  [
    "cdrom",
    { bootOrder: ["cdrom", "hd"] },
    {
      cdroms: [{ path: "/srv/iso/debian.iso", format: "raw", device: "sda", bus: "sata" }],
    },
    [/<disk type="file" device="cdrom">/, /<readonly\/>/],
    {
      cdroms: [{ path: "/srv/iso/debian.iso", format: "raw", device: "sda", bus: "sata" }],
    },
  ],
  [
    "a cdrom on the scsi bus gets a virtio-scsi controller",
    { machineType: "q35" },
    {
      cdroms: [{ path: "/srv/seed.iso", format: "raw", device: "sda", bus: "scsi" }],
    },
    [/<controller type="scsi" index="0" model="virtio-scsi"\/>/, /<target dev="sda" bus="scsi"\/>/],
    {
      cdroms: [{ path: "/srv/seed.iso", format: "raw", device: "sda", bus: "scsi" }],
    },
  ],
  [
    "disk options",
    {},
    {
      disks: [{ ...DISK, io: "threads", discard: "unmap", detectZeroes: "unmap", serial: "lv-disk_1" }],
    },
    [/io="threads" discard="unmap" detect_zeroes="unmap"/, /<serial>lv-disk_1<\/serial>/],
    {
      disks: [{ ...DISK, io: "threads", discard: "unmap", detectZeroes: "unmap", serial: "lv-disk_1" }],
    },
  ],
  ["tpm 2.0", { tpm: { model: "tpm-crb", version: "2.0" } }, {}, [
    /<tpm model="tpm-crb">\s*<backend type="emulator" version="2.0"\/>/,
  ], { tpm: "tpm-crb/2.0" }],
  ["rng off", { rng: { enabled: false, backend: "/dev/urandom" } }, {}, [], { rng: undefined }],
  ["rng from /dev/random", { rng: { enabled: true, backend: "/dev/random" } }, {}, [/>\/dev\/random</], {
    rng: "/dev/random",
  }],
  ["watchdog", { watchdog: { model: "i6300esb", action: "poweroff" } }, {}, [
    /<watchdog model="i6300esb" action="poweroff"\/>/,
  ], { watchdog: "i6300esb/poweroff" }],
  ["inputs", { inputs: [{ type: "tablet", bus: "usb" }, { type: "keyboard", bus: "virtio" }] }, {}, [
    /<input type="tablet" bus="usb"\/>/,
  ], { inputs: ["tablet/usb", "keyboard/virtio"] }],
  [
    "host devices",
    {
      hostDevices: [{ type: "usb", vendor: "0x1d6b", product: "0x0002" }, {
        type: "pci",
        address: "0000:03:00.1",
      }],
    },
    {},
    [
      /<vendor id="0x1d6b"\/>/,
      /<address domain="0x0000" bus="0x03" slot="0x00" function="0x1"\/>/,
    ],
    { hostDevices: ["pci/0000:03:00.1", "usb/0x1d6b/0x0002"] },
  ],
  [
    "bridge interface",
    {},
    {
      interfaces: [{ bridge: "br0", mac: "52:54:00:aa:bb:03", model: "virtio" }],
    },
    [/<interface type="bridge">/, /<source bridge="br0"\/>/],
    {
      interfaces: [{
        type: "bridge",
        bridge: "br0",
        mac: "52:54:00:aa:bb:03",
        model: "virtio",
        linkState: "up",
      }],
    },
  ],
  ["serial log", {}, { serialLog: "/var/log/libvirt/qemu/web-serial0.log" }, [
    /<serial type="pty">\s*<log file="\/var\/log\/libvirt\/qemu\/web-serial0.log" append="on"\/>/,
  ], { serialLog: "/var/log/libvirt/qemu/web-serial0.log" }],
  [
    "9p folder, mapped, read-only",
    { syncedFolders: [{ ...FOLDER, type: "9p", accessmode: "mapped", readonly: true }] },
    {},
    [
      new RegExp(
        `<filesystem type="mount" accessmode="mapped">\\s*<driver type="path" wrpolicy="immediate"/>\\s*` +
          `<source dir="/srv/app"/>\\s*<target dir="${mountTag("/vagrant")}"/>\\s*<readonly/>`,
      ),
    ],
    { filesystems: { [`[${mountTag("/vagrant")}]`]: "path/mapped//srv/app/ro" } },
  ],
  [
    "virtiofs folder with shared memory",
    {
      syncedFolders: [{ ...FOLDER, type: "virtiofs", readonly: true }],
      memoryBacking: { access: "shared", source: "memfd" },
    },
    {},
    [
      /<memoryBacking>\s*<source type="memfd"\/>\s*<access mode="shared"\/>/,
      /<filesystem type="mount" accessmode="passthrough">\s*<driver type="virtiofs"\/>/,
    ],
    // libvirt 9.0 has no read-only virtiofs: the guest mounts it ro
    { filesystems: { [`[${mountTag("/vagrant")}]`]: "virtiofs/passthrough//srv/app/rw" } },
  ],
];

Deno.test("domainXml() renders each machine and device field valid for libvirt's schema", async (t) => {
  for (const [name, spec, opts, patterns, state] of CASES) {
    await t.step(name, async () => {
      const options = { ...BASE, ...opts };
      const xml = domainXml(domainResource("web", spec), options);
      await assertLibvirtValid(xml, "domain");
      for (const p of patterns) assert.match(xml, p);
      const got = parseDomainXml(xml);
      for (const [key, value] of Object.entries(state)) {
        assert.deepEqual(got[key as keyof DomainXmlState], value, key);
      }
      assert.deepEqual(domainDiff(domainStateFromSpec(domainResource("web", spec), options), got), []);
    });
  }
});

Deno.test("domainDiff() names each machine and device field that changed", async (t) => {
  for (const [name, spec, opts] of CASES) {
    await t.step(name, () => {
      const options = { ...BASE, ...opts };
      const want = domainStateFromSpec(domainResource("web", spec), options);
      const plain = domainStateFromSpec(domainResource("web"), BASE);
      assert.notDeepEqual(domainDiff(want, plain), [], "a domain without the field differs");
    });
  }
});

Deno.test("domainXml() machine and device XML is accepted by libvirt's test driver with no drift", async (t) => {
  // The test driver knows no firmware descriptors, swtpm or host devices: those are checked by schema above
  // and by libvirtd in the integration tests.
  const skip = new Set(["firmware efi", "secure boot", "tpm 2.0", "host devices", "bridge interface"]);
  for (const [name, spec, opts] of CASES.filter(([n]) => !skip.has(n))) {
    await t.step(name, async () => {
      const dom = domainResource("web", spec);
      const options = { ...BASE, ...opts };
      const [, dumped] = await virshTestDriver(domainXml(dom, options), [["define", "FILE"], [
        "dumpxml",
        "web",
      ]]);
      assert.deepEqual(domainDiff(domainStateFromSpec(dom, options), parseDomainXml(dumped)), []);
    });
  }
});

Deno.test("domainXml() escapes every value from the spec and never reads the password back", async () => {
  const dom = domainResource("web", { graphics: { type: "vnc", listen: "127.0.0.1" } });
  const xml = domainXml(dom, {
    ...BASE,
    cdroms: [{ path: `/srv/${HOSTILE}.iso`, format: "raw", device: "sda", bus: "sata" }],
    serialLog: `/var/log/${HOSTILE}.log`,
    graphicsPassword: HOSTILE,
  });
  await assertLibvirtValid(xml, "domain");
  const root = parseXml(xml);
  assert.equal(childOf(childOf(root, "devices"), "graphics")?.attrs.passwd, HOSTILE);
  const got = parseDomainXml(xml);
  assert.equal(got.cdroms[0].path, `/srv/${HOSTILE}.iso`);
  assert.equal(got.serialLog, `/var/log/${HOSTILE}.log`);
  const folders = parseDomainXml(
    domainXml(
      domainResource("web", { syncedFolders: [{ ...FOLDER, type: "9p", source: `/srv/${HOSTILE}` }] }),
      BASE,
    ),
  );
  assert.deepEqual(Object.values(folders.filesystems), [`path/passthrough//srv/${HOSTILE}/rw`]);
  const withPasswordOnly = parseDomainXml(domainXml(dom, { ...BASE, graphicsPassword: HOSTILE }));
  assert.doesNotMatch(JSON.stringify(withPasswordOnly), /a<b>&c/);
});

Deno.test("sameMachine() takes libvirt's versioned name for the alias asked for", () => {
  assert.ok(sameMachine("pc", "pc-i440fx-7.2"));
  assert.ok(sameMachine("q35", "pc-q35-7.2"));
  assert.ok(sameMachine("pc-q35-7.2", "pc-q35-7.2"));
  assert.ok(!sameMachine("q35", "pc-i440fx-7.2"));
  assert.ok(!sameMachine("pc-q35-7.1", "pc-q35-7.2"));
  const want = domainStateFromSpec(domainResource("web", { machineType: "q35" }), BASE);
  assert.deepEqual(domainDiff(want, { ...want, machine: "pc-q35-7.2" }), []);
  assert.deepEqual(domainDiff(want, { ...want, machine: "pc-i440fx-7.2" }), ["machine"]);
});

Deno.test("liveGraphics() reads the port libvirt chose for a running domain", () => {
  const devices = childOf(
    parseXml(`<domain><devices><graphics type='vnc' port='5901' autoport='yes' listen='127.0.0.1'>
      <listen type='address' address='127.0.0.1'/></graphics></devices></domain>`),
    "devices",
  );
  assert.deepEqual(liveGraphics(devices), { type: "vnc", listen: "127.0.0.1", port: 5901 });
  assert.equal(liveGraphics(childOf(parseXml("<domain><devices/></domain>"), "devices")), undefined);
});
