import assert from "node:assert/strict";
import type { DomainSpec } from "../../src/api/types.ts";
import {
  domainDiff,
  domainStateFromSpec,
  domainXml,
  type DomainXmlOptions,
  type DomainXmlState,
  parseDomainXml,
} from "../../src/libvirt/xml/domain_xml.ts";
import { XmlParseError } from "../../src/libvirt/xml/parse_xml.ts";
import { assertLibvirtValid, domainResource, HOSTILE, virshTestDriver } from "./xml_fixtures.ts";

const ROOT_DISK = {
  path: "/var/lib/libvirt/images/web.qcow2",
  format: "qcow2",
  device: "vda",
  bus: "virtio",
  cache: "none",
} as const;
const DATA_DISK = {
  path: "/var/lib/libvirt/images/data.img",
  format: "raw",
  device: "vdb",
  bus: "sata",
  cache: "default",
} as const;
const NAT_NIC = { network: "vagrant-libvirt", mac: "52:54:00:aa:bb:01", model: "virtio" };
const PUBLIC_NIC = { dev: "eth0", mode: "bridge", mac: "52:54:00:aa:bb:02", model: "e1000" } as const;

const CASES: [string, Partial<DomainSpec>, DomainXmlOptions][] = [
  ["qemu (TCG) with a disk and a nat interface", {}, {
    driver: "qemu",
    disks: [ROOT_DISK],
    interfaces: [NAT_NIC],
  }],
  ["kvm with two disks and a public macvtap", { cpus: 2, memory: 2048 }, {
    driver: "kvm",
    disks: [ROOT_DISK, DATA_DISK],
    interfaces: [NAT_NIC, PUBLIC_NIC],
    emulator: "/usr/bin/qemu-system-x86_64",
  }],
  ["kvm nested", { nested: true }, { driver: "kvm", disks: [ROOT_DISK], interfaces: [] }],
  ["cloud-init seed on a read-only CD-ROM", {}, {
    driver: "qemu",
    disks: [ROOT_DISK],
    cdroms: [{
      path: "/var/lib/libvirt/images/web-cidata-0123456789ab.iso",
      format: "raw",
      device: "hdc",
      bus: "ide",
    }],
    interfaces: [NAT_NIC],
  }],
  ["diskless (network boot)", {}, { driver: "qemu", disks: [], interfaces: [NAT_NIC] }],
  ["nothing at all", {}, { driver: "qemu", disks: [], interfaces: [], guestAgent: false }],
  ["room to grow live", { cpus: 2, memory: 1024 }, {
    driver: "qemu",
    disks: [ROOT_DISK],
    interfaces: [],
    maxVcpus: 4,
    maxMemoryMiB: 4096,
  }],
];

function expected(name: string, spec: Partial<DomainSpec>, opts: DomainXmlOptions): DomainXmlState {
  const dom = domainResource(name, spec);
  const cpu: Partial<DomainXmlState> = opts.driver === "qemu"
    ? { cpuMode: "custom", cpuModel: "qemu64" }
    : { cpuMode: dom.spec.nested ? "host-passthrough" : "host-model" };
  return {
    machine: "pc",
    firmware: "bios",
    secureBoot: false,
    cpuFeatures: [],
    boot: opts.disks.length === 0 && opts.interfaces.length > 0 ? ["hd", "network"] : ["hd"],
    inputs: [],
    hostDevices: [],
    filesystems: {},
    rng: "/dev/urandom",
    name,
    type: opts.driver,
    memoryMiB: opts.maxMemoryMiB ?? dom.spec.memory,
    currentMemoryMiB: dom.spec.memory,
    vcpus: dom.spec.cpus,
    maxVcpus: opts.maxVcpus ?? dom.spec.cpus,
    ...cpu,
    disks: opts.disks.map((d) => ({ ...d })),
    cdroms: (opts.cdroms ?? []).map((c) => ({ ...c })),
    interfaces: opts.interfaces.map((i) => ({
      type: i.network !== undefined ? "network" : "direct",
      ...(i.network !== undefined ? { network: i.network } : { dev: i.dev, mode: i.mode ?? "bridge" }),
      mac: i.mac,
      model: i.model,
      linkState: i.linkState ?? "up",
    })),
    owner: { uid: `uid-${name}`, kind: "Domain", name, namespace: "default", generation: 1 },
  };
}

Deno.test("domainXml() renders domains valid for libvirt's schema that parse back", async (t) => {
  for (const [name, spec, opts] of CASES) {
    await t.step(name, async () => {
      const xml = domainXml(domainResource("web", spec), opts);
      await assertLibvirtValid(xml, "domain");
      assert.deepEqual(parseDomainXml(xml), expected("web", spec, opts));
    });
  }
});

Deno.test("domainXml() is accepted and echoed by libvirt, with no drift", async (t) => {
  for (const [name, spec, opts] of CASES) {
    await t.step(name, async () => {
      const dom = domainResource("web", spec);
      const [, dumped] = await virshTestDriver(domainXml(dom, opts), [["define", "FILE"], [
        "dumpxml",
        "web",
      ]]);
      const got = parseDomainXml(dumped);
      assert.match(got.uuid ?? "", /^[0-9a-f-]{36}$/);
      assert.deepEqual(domainDiff(domainStateFromSpec(dom, opts), got), []);
      assert.deepEqual({ ...got, uuid: undefined }, { ...expected("web", spec, opts), uuid: undefined });
    });
  }
});

Deno.test("domainXml() renders a TCG domain like vagrant-libvirt, without graphics", () => {
  const dom = domainResource("web", { cpus: 2, memory: 1024 }, { uid: "u1", generation: 3 });
  assert.equal(
    domainXml(dom, { driver: "qemu", disks: [ROOT_DISK], interfaces: [NAT_NIC, PUBLIC_NIC] }),
    `<domain type="qemu">
  <name>web</name>
  <metadata>
    <lv:owner xmlns:lv="https://lv.dev/xmlns/libvirt/1" uid="u1" kind="Domain" name="web" namespace="default" generation="3"/>
  </metadata>
  <memory unit="MiB">1024</memory>
  <currentMemory unit="MiB">1024</currentMemory>
  <vcpu placement="static">2</vcpu>
  <os>
    <type arch="x86_64" machine="pc">hvm</type>
    <boot dev="hd"/>
    <bios useserial="yes"/>
  </os>
  <features>
    <acpi/>
    <apic/>
  </features>
  <cpu mode="custom" match="exact" check="none">
    <model fallback="forbid">qemu64</model>
  </cpu>
  <clock offset="utc"/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type="file" device="disk">
      <driver name="qemu" type="qcow2" cache="none"/>
      <source file="/var/lib/libvirt/images/web.qcow2"/>
      <target dev="vda" bus="virtio"/>
    </disk>
    <interface type="network">
      <mac address="52:54:00:aa:bb:01"/>
      <source network="vagrant-libvirt"/>
      <model type="virtio"/>
    </interface>
    <interface type="direct">
      <mac address="52:54:00:aa:bb:02"/>
      <source dev="eth0" mode="bridge"/>
      <model type="e1000"/>
    </interface>
    <serial type="pty">
      <target port="0"/>
    </serial>
    <console type="pty">
      <target type="serial" port="0"/>
    </console>
    <channel type="unix">
      <target type="virtio" name="org.qemu.guest_agent.0"/>
    </channel>
    <rng model="virtio">
      <backend model="random">/dev/urandom</backend>
    </rng>
  </devices>
</domain>
`,
  );
});

Deno.test("domainXml() picks the CPU per driver and nested", async (t) => {
  const cpuOf = (xml: string) => xml.match(/<cpu[^>]*>/)?.[0];
  await t.step("kvm: host-model", () => {
    assert.equal(
      cpuOf(domainXml(domainResource("a"), { driver: "kvm", disks: [], interfaces: [] })),
      '<cpu mode="host-model" check="partial"/>',
    );
  });
  await t.step("kvm nested: host-passthrough", () => {
    const xml = domainXml(domainResource("a", { nested: true }), {
      driver: "kvm",
      disks: [],
      interfaces: [],
    });
    assert.equal(cpuOf(xml), '<cpu mode="host-passthrough" check="none"/>');
  });
  await t.step("qemu, nested or not: qemu64", () => {
    for (const nested of [false, true]) {
      const xml = domainXml(domainResource("a", { nested }), { driver: "qemu", disks: [], interfaces: [] });
      assert.match(xml, /<model fallback="forbid">qemu64<\/model>/);
    }
  });
});

Deno.test("domainXml() omits the cache attribute for the default cache mode", () => {
  const xml = domainXml(domainResource("a"), { driver: "qemu", disks: [DATA_DISK], interfaces: [] });
  assert.match(xml, /<driver name="qemu" type="raw"\/>/);
});

Deno.test("domainXml() renders no graphics by default (headless)", () => {
  for (const [, spec, opts] of CASES) {
    assert.doesNotMatch(domainXml(domainResource("a", spec), opts), /graphics/);
  }
});

Deno.test("domainXml() boots from the network only when there is no disk", () => {
  const withDisk = domainXml(domainResource("a"), {
    driver: "qemu",
    disks: [ROOT_DISK],
    interfaces: [NAT_NIC],
  });
  const diskless = domainXml(domainResource("a"), { driver: "qemu", disks: [], interfaces: [NAT_NIC] });
  assert.doesNotMatch(withDisk, /boot dev="network"/);
  assert.ok(diskless.includes(`<boot dev="hd"/>\n    <boot dev="network"/>`));
});

Deno.test("domainXml() escapes hostile names and paths", async () => {
  const name = `${HOSTILE} vm`;
  const dom = domainResource(name, {}, { uid: HOSTILE, namespace: HOSTILE });
  const disk = { ...ROOT_DISK, path: `/var/lib/libvirt/images/${HOSTILE}.qcow2` };
  const opts: DomainXmlOptions = {
    driver: "qemu",
    disks: [disk],
    interfaces: [{ ...NAT_NIC, network: HOSTILE }],
  };
  const xml = domainXml(dom, opts);
  await assertLibvirtValid(xml, "domain");
  const got = parseDomainXml(xml);
  assert.equal(got.name, name);
  assert.equal(got.disks[0].path, disk.path);
  assert.equal(got.interfaces[0].network, HOSTILE);
  assert.deepEqual(got.owner, { uid: HOSTILE, kind: "Domain", name, namespace: HOSTILE, generation: 1 });
  const uuid = crypto.randomUUID();
  const [, dumped] = await virshTestDriver(domainXml(dom, { ...opts, uuid }), [["define", "FILE"], [
    "dumpxml",
    uuid,
  ]]);
  assert.deepEqual(domainDiff(domainStateFromSpec(dom, opts), parseDomainXml(dumped)), []);
});

Deno.test("domainXml() refuses interfaces without exactly one of network and dev", () => {
  for (const nic of [{ mac: "52:54:00:aa:bb:01", model: "virtio" }, { ...NAT_NIC, dev: "eth0" }]) {
    assert.throws(
      () => domainXml(domainResource("a"), { driver: "qemu", disks: [], interfaces: [nic] }),
      /interfaces\[0\]: needs exactly one of network, bridge, dev or userNet/,
    );
  }
});

Deno.test("domainXml() refuses impossible sizes", () => {
  const opts: DomainXmlOptions = { driver: "qemu", disks: [], interfaces: [] };
  assert.throws(() => domainXml(domainResource("a", { memory: 0 }), opts), RangeError);
  assert.throws(() => domainXml(domainResource("a", { cpus: 1.5 }), opts), RangeError);
  assert.throws(
    () => domainXml(domainResource("a", { memory: 1024 }), { ...opts, maxMemoryMiB: 512 }),
    RangeError,
  );
  assert.throws(() => domainXml(domainResource("a", { cpus: 4 }), { ...opts, maxVcpus: 2 }), RangeError);
});

Deno.test("parseDomainXml() reads a running domain as libvirt prints it", () => {
  const got = parseDomainXml(`<domain type='kvm' id='3'>
  <name>web</name>
  <uuid>9a8b7c6d-1111-2222-3333-444455556666</uuid>
  <memory unit='KiB'>1048576</memory>
  <currentMemory unit='KiB'>786432</currentMemory>
  <vcpu placement='static' current='2'>4</vcpu>
  <resource><partition>/machine</partition></resource>
  <os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type><boot dev='hd'/></os>
  <cpu mode='host-passthrough' check='none' migratable='on'/>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/web.qcow2' index='2'/>
      <backingStore type='file' index='3'><format type='qcow2'/><source file='/var/lib/libvirt/images/box.img'/></backingStore>
      <target dev='vda' bus='virtio'/>
      <alias name='virtio-disk0'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/>
    </disk>
    <disk type='file' device='cdrom'>
      <source file='/tmp/seed.iso'/>
      <target dev='sda' bus='sata'/>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:AA:BB:01'/>
      <source network='vagrant-libvirt' portid='0d0f' bridge='virbr1'/>
      <target dev='vnet2'/>
      <model type='virtio'/>
      <alias name='net0'/>
    </interface>
    <interface type='direct'>
      <mac address='52:54:00:aa:bb:02'/>
      <source dev='eth0'/>
      <target dev='macvtap0'/>
    </interface>
  </devices>
</domain>`);
  assert.deepEqual(got, {
    name: "web",
    uuid: "9a8b7c6d-1111-2222-3333-444455556666",
    type: "kvm",
    memoryMiB: 1024,
    currentMemoryMiB: 768,
    vcpus: 2,
    maxVcpus: 4,
    machine: "pc-i440fx-7.2",
    firmware: "bios",
    secureBoot: false,
    boot: ["hd"],
    cpuMode: "host-passthrough",
    cpuFeatures: [],
    cdroms: [{ path: "/tmp/seed.iso", format: "raw", device: "sda", bus: "sata" }],
    inputs: [],
    hostDevices: [],
    filesystems: {},
    disks: [{
      path: "/var/lib/libvirt/images/web.qcow2",
      format: "qcow2",
      device: "vda",
      bus: "virtio",
      cache: "default",
    }],
    interfaces: [
      {
        type: "network",
        network: "vagrant-libvirt",
        mac: "52:54:00:aa:bb:01",
        model: "virtio",
        linkState: "up",
      },
      { type: "direct", dev: "eth0", mode: "vepa", mac: "52:54:00:aa:bb:02", model: "", linkState: "up" },
    ],
  });
});

Deno.test("parseDomainXml() rejects what is not a complete domain", async (t) => {
  const cases: [string, string][] = [
    ["not a domain", "<network/>"],
    ["no memory", "<domain><name>a</name><vcpu>1</vcpu></domain>"],
    ["no vcpu", "<domain><name>a</name><memory>1024</memory></domain>"],
    ["bad unit", "<domain><name>a</name><memory unit='parsec'>1</memory><vcpu>1</vcpu></domain>"],
  ];
  for (const [name, xml] of cases) {
    await t.step(
      name,
      () =>
        assert.throws(
          () => parseDomainXml(xml),
          (e) => e instanceof XmlParseError || e instanceof RangeError,
        ),
    );
  }
});

Deno.test("domainDiff() lists the fields that drifted", async (t) => {
  const dom = domainResource("web", { cpus: 2, memory: 1024 });
  const want = domainStateFromSpec(dom, {
    driver: "kvm",
    disks: [ROOT_DISK, DATA_DISK],
    interfaces: [NAT_NIC, PUBLIC_NIC],
  });
  const cases: [string, (got: DomainXmlState) => void, string[]][] = [
    ["nothing", () => {}, []],
    ["uuid and generation are ignored", (g) => {
      g.uuid = "x";
      g.owner = { ...g.owner!, generation: 7 };
    }, []],
    ["ballooned memory", (g) => g.currentMemoryMiB = 512, ["currentMemoryMiB"]],
    ["vcpus", (g) => g.vcpus = 1, ["vcpus"]],
    ["driver", (g) => g.type = "qemu", ["type"]],
    ["cpu mode", (g) => g.cpuMode = "host-passthrough", ["cpuMode"]],
    ["disk cache", (g) => g.disks[0] = { ...g.disks[0], cache: "writeback" }, ["disks[vda].cache"]],
    ["disk detached", (g) => g.disks.pop(), ["disks[vdb]"]],
    ["disk order does not matter", (g) => g.disks.reverse(), []],
    ["nic on another network", (g) => g.interfaces[0] = { ...g.interfaces[0], network: "default" }, [
      "interfaces[52:54:00:aa:bb:01].network",
    ]],
    ["nic with another MAC", (g) => g.interfaces[1] = { ...g.interfaces[1], mac: "52:54:00:aa:bb:99" }, [
      "interfaces[52:54:00:aa:bb:02]",
      "interfaces[52:54:00:aa:bb:99]",
    ]],
    ["owner missing", (g) => delete g.owner, ["owner"]],
  ];
  for (const [name, change, paths] of cases) {
    await t.step(name, () => {
      const got = structuredClone(want);
      change(got);
      assert.deepEqual(domainDiff(want, got), paths);
    });
  }
});
