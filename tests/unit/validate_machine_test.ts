import assert from "node:assert/strict";
import { formatProblem } from "../../src/api/problem.ts";
import type { Domain } from "../../src/api/types.ts";
import { validateResource } from "../../src/api/validate.ts";

function domain(spec: Record<string, unknown>): unknown {
  return { apiVersion: "lv.dev/v1alpha1", kind: "Domain", metadata: { name: "web" }, spec };
}

function problems(spec: Record<string, unknown>): string[] {
  return validateResource(domain(spec)).problems.map(formatProblem);
}

function valid(spec: Record<string, unknown>): Domain["spec"] {
  const result = validateResource(domain(spec));
  assert.deepEqual(result.problems.map(formatProblem), []);
  return (result.resource as Domain).spec;
}

Deno.test("validateResource() reports each bad machine or device field with its path", async (t) => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    [
      "cpu model with host-model",
      { cpu: { mode: "host-model", model: "qemu64" } },
      /^spec\.cpu\.model: applies only with mode custom, not host-model/,
    ],
    [
      "topology not matching cpus",
      { cpus: 2, cpu: { sockets: 2, cores: 2 } },
      /^spec\.cpu\.sockets: sockets × cores × threads \(2 × 2 × 1 = 4\) must equal cpus \(2\)/,
    ],
    [
      "feature twice",
      { cpu: { features: [{ name: "vmx" }, { name: "vmx", policy: "disable" }] } },
      /^spec\.cpu\.features\[1\]\.name: is listed twice/,
    ],
    [
      "secure boot without efi",
      { machineType: "q35", secureBoot: true },
      /^spec\.secureBoot: needs firmware: efi/,
    ],
    [
      "secure boot on pc",
      { firmware: "efi", secureBoot: true },
      /^spec\.secureBoot: needs a q35 machine type/,
    ],
    ["bad machine type", { machineType: "Q 35" }, /^spec\.machineType: must be a machine type/],
    ["boot device twice", { bootOrder: ["hd", "hd"] }, /^spec\.bootOrder\[1\]: is listed twice/],
    [
      "boot from cdrom without one",
      { bootOrder: ["cdrom"] },
      /^spec\.bootOrder\[0\]: names cdrom, but the domain has no cdroms/,
    ],
    [
      "port without graphics",
      { graphics: { port: 5901 } },
      /^spec\.graphics\.port: applies only with graphics type vnc or spice/,
    ],
    [
      "port below 5900",
      { graphics: { type: "vnc", port: 80 } },
      /^spec\.graphics\.port: must be between 5900 and 65535/,
    ],
    ["cdrom with path and volume", { cdroms: [{ path: "/a.iso", volume: "v" }] }, /^spec\.cdroms\[0\]/],
    [
      "cdrom relative path",
      { cdroms: [{ path: "a.iso" }] },
      /^spec\.cdroms\[0\]\.path: must be an absolute path of a file/,
    ],
    [
      "ide cdrom on q35",
      { machineType: "q35", cdroms: [{ path: "/a.iso", bus: "ide" }] },
      /^spec\.cdroms\[0\]\.bus: q35 machines have no IDE bus/,
    ],
    [
      "usb device without product",
      { hostDevices: [{ type: "usb", vendor: "0x1d6b" }] },
      /^spec\.hostDevices\[0\]\.product: is required for a usb device/,
    ],
    [
      "pci device with vendor",
      { hostDevices: [{ type: "pci", address: "0000:03:00.0", vendor: "0x8086" }] },
      /^spec\.hostDevices\[0\]\.vendor: does not apply to a pci device/,
    ],
    [
      "bad pci address",
      { hostDevices: [{ type: "pci", address: "03:00.0" }] },
      /^spec\.hostDevices\[0\]\.address: must be a PCI address/,
    ],
    [
      "tablet on ps2",
      { inputs: [{ type: "tablet", bus: "ps2" }] },
      /^spec\.inputs\[0\]\.bus: a tablet cannot be on ps2/,
    ],
    [
      "itco on pc",
      { watchdog: { model: "itco" } },
      /^spec\.watchdog\.model: itco exists only on q35 machines/,
    ],
    [
      "two kinds of network",
      { interfaces: [{ libvirtNetwork: "default", bridge: "br0" }] },
      /^spec\.interfaces\[0\]/,
    ],
    [
      "mode on a bridge",
      { interfaces: [{ bridge: "br0", mode: "vepa" }] },
      /^spec\.interfaces\[0\]\.mode: applies only to public interfaces \(dev\)/,
    ],
    [
      "disk serial with a space",
      { disks: [{ volume: "d", serial: "a b" }] },
      /^spec\.disks\[0\]\.serial: must be a disk serial/,
    ],
  ];
  for (const [name, spec, want] of cases) {
    await t.step(name, () => {
      const found = problems(spec);
      assert.ok(found.some((p) => want.test(p)), `${want} not in:\n${found.join("\n")}`);
    });
  }
});

Deno.test("validateResource() fills machine defaults that depend on other fields", async (t) => {
  await t.step("cdroms get device names after the disks", () => {
    const spec = valid({
      box: "debian",
      disks: [{ volume: "data", bus: "sata" }],
      cdroms: [{ path: "/srv/a.iso" }, { volume: "b" }, { path: "/srv/c.iso", bus: "ide" }],
    });
    assert.deepEqual(spec.cdroms?.map((c) => `${c.device}:${c.bus}`), ["sdb:sata", "sdc:sata", "hda:ide"]);
  });
  await t.step("a model alone means custom; topology fills 1s", () => {
    const spec = valid({ cpus: 2, cpu: { model: "Skylake-Client", cores: 2 } });
    assert.deepEqual(spec.cpu, {
      mode: "custom",
      model: "Skylake-Client",
      sockets: 1,
      cores: 2,
      threads: 1,
      features: [],
    });
  });
  await t.step("shared memory is backed by memfd", () => {
    assert.deepEqual(valid({ memoryBacking: { access: "shared" } }).memoryBacking, {
      access: "shared",
      source: "memfd",
    });
  });
  await t.step("a virtiofs folder gets shared memory, from memfd unless the spec names a source", () => {
    const folder = { source: "/srv/app", target: "/vagrant", type: "virtiofs" } as const;
    assert.deepEqual(valid({ syncedFolders: [folder] }).memoryBacking, { access: "shared", source: "memfd" });
    assert.deepEqual(
      valid({ syncedFolders: [folder], memoryBacking: { source: "file" } }).memoryBacking,
      { access: "shared", source: "file" },
    );
    assert.equal(valid({ syncedFolders: [{ ...folder, type: "9p" }] }).memoryBacking, undefined);
  });
  await t.step("unowned networks and bridges take a static ip", () => {
    const spec = valid({
      interfaces: [{ libvirtNetwork: "default", ip: "192.168.122.50", prefix: 24 }, { bridge: "br0" }],
    });
    assert.deepEqual(spec.interfaces, [
      { libvirtNetwork: "default", ip: "192.168.122.50", prefix: 24, model: "virtio" },
      { bridge: "br0", model: "virtio" },
    ]);
  });
});
