import assert from "node:assert/strict";
import type { DomainSpec } from "../../src/api/types.ts";
import { TerminalError, WaitingError } from "../../src/controller/context.ts";
import {
  checkGraphicsPort,
  checkHostDevices,
  checkMachineSupport,
  checkUnownedNetworks,
} from "../../src/controller/domain/machine_checks.ts";
import { Libvirt } from "../../src/libvirt/libvirt.ts";
import { parseDomainCapabilities, parseMachineTypes } from "../../src/libvirt/xml/capabilities_xml.ts";
import { FakeVirsh, type FakeVirshOptions } from "./fake_virsh.ts";
import { domainResource } from "./xml_fixtures.ts";

function lv(options: FakeVirshOptions = {}): { fake: FakeVirsh; libvirt: Libvirt } {
  const fake = new FakeVirsh(options);
  return { fake, libvirt: new Libvirt(fake) };
}

async function rejects(
  p: Promise<unknown>,
  type: typeof TerminalError | typeof WaitingError,
  reason: string,
  message: RegExp,
) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof type, `${e}`);
    assert.equal((e as TerminalError).reason, reason);
    assert.match((e as Error).message, message);
    return true;
  });
}

Deno.test("checkMachineSupport() accepts what the host offers and names what it does not", async (t) => {
  const ok: [string, Partial<DomainSpec>][] = [
    ["defaults", {}],
    ["q35 alias", { machineType: "q35" }],
    ["versioned q35", { machineType: "pc-q35-7.2" }],
    ["efi", { machineType: "q35", firmware: "efi" }],
    ["secure boot", { machineType: "q35", firmware: "efi", secureBoot: true }],
    ["custom qemu64", { cpu: { mode: "custom", model: "qemu64" } }],
    ["tpm", { tpm: { model: "tpm-crb", version: "2.0" } }],
  ];
  for (const [name, spec] of ok) {
    await t.step(`accepts ${name}`, async () => {
      await checkMachineSupport(lv().libvirt, domainResource("web", spec), "qemu");
    });
  }
  await t.step("unknown machine type, with the allowed ones", async () => {
    await rejects(
      checkMachineSupport(lv().libvirt, domainResource("web", { machineType: "virt" }), "qemu"),
      TerminalError,
      "UnknownMachineType",
      /machineType "virt" is not offered by qemu:\/\/\/system for qemu x86_64; allowed: pc, pc-i440fx-7.2, pc-q35-7.2, q35/,
    );
  });
  await t.step("unknown CPU model, with the allowed ones", async () => {
    await rejects(
      checkMachineSupport(lv().libvirt, domainResource("web", { cpu: { model: "Pentium9" } }), "qemu"),
      TerminalError,
      "UnknownCpuModel",
      /cpu\.model "Pentium9" is not known to qemu:\/\/\/system; allowed: qemu64$/,
    );
  });
  await t.step("a CPU mode the domain type does not offer", async () => {
    await rejects(
      checkMachineSupport(lv().libvirt, domainResource("web", { cpu: { mode: "host-passthrough" } }), "qemu"),
      TerminalError,
      "UnknownCpuMode",
      /cpu\.mode host-passthrough is not offered .* allowed: maximum, custom/,
    );
  });
  await t.step("efi without OVMF", async () => {
    await rejects(
      checkMachineSupport(lv({ ovmf: false }).libvirt, domainResource("web", { firmware: "efi" }), "qemu"),
      TerminalError,
      "FirmwareNotFound",
      /apt-get install ovmf/,
    );
  });
  await t.step("tpm without swtpm", async () => {
    const dom = domainResource("web", { tpm: { model: "tpm-tis", version: "2.0" } });
    await rejects(
      checkMachineSupport(lv({ swtpm: false }).libvirt, dom, "qemu"),
      TerminalError,
      "TpmUnavailable",
      /swtpm/,
    );
  });
});

Deno.test("checkUnownedNetworks() waits for a missing or inactive network lv does not own, and never touches it", async () => {
  const { fake, libvirt } = lv();
  const dom = domainResource("web", { interfaces: [{ libvirtNetwork: "outside", model: "virtio" }] });
  await rejects(
    checkUnownedNetworks(libvirt, dom),
    WaitingError,
    "NetworkNotFound",
    /"outside" does not exist/,
  );
  await libvirt.netDefine(
    `<network><name>outside</name><bridge name='virbr9'/><ip address='10.9.0.1' prefix='24'/></network>`,
  );
  await rejects(
    checkUnownedNetworks(libvirt, dom),
    WaitingError,
    "NetworkInactive",
    /virsh net-start outside/,
  );
  await libvirt.netStart("outside");
  const before = fake.mark();
  await checkUnownedNetworks(libvirt, dom);
  assert.deepEqual(fake.mutations(before), [], "only looked at");
});

Deno.test("checkHostDevices() finds USB devices by vendor/product and PCI devices by address", async () => {
  const { libvirt } = lv({ hostDevices: { usb: ["0x1d6b:0x0002"], pci: ["0000:03:00.0"] } });
  await checkHostDevices(
    libvirt,
    domainResource("web", {
      hostDevices: [{ type: "usb", vendor: "0x1D6B", product: "0x0002" }, {
        type: "pci",
        address: "0000:03:00.0",
      }],
    }),
  );
  await rejects(
    checkHostDevices(
      libvirt,
      domainResource("web", { hostDevices: [{ type: "usb", vendor: "0x1234", product: "0x5678" }] }),
    ),
    WaitingError,
    "HostDeviceNotFound",
    /USB device 0x1234:0x5678 is not on qemu:\/\/\/system/,
  );
  await rejects(
    checkHostDevices(
      libvirt,
      domainResource("web", { hostDevices: [{ type: "pci", address: "0000:04:00.0" }] }),
    ),
    WaitingError,
    "HostDeviceNotFound",
    /PCI device 0000:04:00.0/,
  );
});

Deno.test("checkGraphicsPort() refuses a fixed port something already listens on", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (listener.addr as Deno.NetAddr).port;
    const dom = domainResource("web", { graphics: { type: "vnc", listen: "127.0.0.1", port } });
    await rejects(
      Promise.resolve().then(() => checkGraphicsPort(lv().libvirt, dom)),
      WaitingError,
      "GraphicsPortTaken",
      new RegExp(`port ${port}`),
    );
    const remote = new Libvirt(new FakeVirsh({ uri: "qemu+ssh://root@hv1/system" }));
    checkGraphicsPort(remote, dom); // another host's ports are not visible from here
  } finally {
    listener.close();
  }
  await checkGraphicsPort(
    lv().libvirt,
    domainResource("web", { graphics: { type: "vnc", listen: "127.0.0.1" } }),
  );
});

Deno.test("parseDomainCapabilities() and parseMachineTypes() read libvirt 9.0's output", () => {
  const caps = parseDomainCapabilities(`<domainCapabilities>
  <path>/usr/bin/qemu-system-x86_64</path><domain>kvm</domain><machine>pc-q35-7.2</machine><arch>x86_64</arch>
  <os supported='yes'>
    <enum name='firmware'><value>efi</value></enum>
    <loader supported='yes'><value>/usr/share/OVMF/OVMF_CODE_4M.ms.fd</value>
      <enum name='type'><value>rom</value><value>pflash</value></enum>
      <enum name='secure'><value>yes</value><value>no</value></enum></loader>
  </os>
  <cpu>
    <mode name='host-passthrough' supported='yes'/>
    <mode name='host-model' supported='yes'><model fallback='forbid'>Skylake-Client-IBRS</model></mode>
    <mode name='custom' supported='yes'>
      <model usable='yes' vendor='Intel'>qemu64</model>
      <model usable='no' vendor='AMD'>EPYC</model>
    </mode>
  </cpu>
  <devices><tpm supported='yes'><enum name='model'><value>tpm-tis</value></enum>
    <enum name='backendModel'><value>passthrough</value><value>emulator</value></enum></tpm></devices>
</domainCapabilities>`);
  assert.deepEqual(caps, {
    cpuModes: ["host-passthrough", "host-model", "custom"],
    cpuModels: [{ name: "qemu64", usable: true }, { name: "EPYC", usable: false }],
    firmware: ["efi"],
    secureBoot: true,
    tpmBackends: ["passthrough", "emulator"],
  });
  const machines = parseMachineTypes(
    `<capabilities><guest><os_type>hvm</os_type><arch name='x86_64'>
      <machine maxCpus='255'>pc-i440fx-7.2</machine><machine canonical='pc-i440fx-7.2' maxCpus='255'>pc</machine>
      <domain type='qemu'/><domain type='kvm'><machine>pc-q35-7.2</machine></domain></arch></guest>
      <guest><arch name='i686'><machine>isapc</machine></arch></guest></capabilities>`,
    { arch: "x86_64", virttype: "kvm" },
  );
  assert.deepEqual(machines, ["pc", "pc-i440fx-7.2", "pc-q35-7.2"]);
});
