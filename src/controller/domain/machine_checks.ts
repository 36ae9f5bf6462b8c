/**
 * Checks of a Domain's machine and devices against the libvirt host, before anything is defined, so a
 * domain is never half-defined: each problem is a condition naming what is wrong and what is allowed.
 *
 * - unknown machine type or CPU model, firmware efi without OVMF, secure boot without a secure loader,
 *   tpm without swtpm (from `virsh capabilities` / `domcapabilities`): TerminalError, fixed by the spec or
 *   by installing a package;
 * - a libvirt network lv does not own that is missing or inactive, a host device the host does not have:
 *   WaitingError (they can appear without a spec change);
 * - a fixed graphics port already taken (checked before a start): WaitingError.
 *
 * @module
 */

import { isQ35 } from "../../api/validate_machine.ts";
import type { Domain, DomainDriver, DomainHostDevice } from "../../api/types.ts";
import type { Libvirt } from "../../libvirt/libvirt.ts";
import { VirshError } from "../../libvirt/virsh.ts";
import {
  type DomainCapabilities,
  parseDomainCapabilities,
  parseMachineTypes,
} from "../../libvirt/xml/capabilities_xml.ts";
import { DEFAULT_CUSTOM_CPU_MODEL } from "../../libvirt/xml/domain_machine_xml.ts";
import { attrOf, childOf, parseXml } from "../../libvirt/xml/parse_xml.ts";
import { TerminalError, WaitingError } from "../context.ts";
import { unownedNetworks } from "../domain_interfaces.ts";
import { isLocal } from "./serial_log.ts";

const ARCH = "x86_64";
/** How often a missing network or host device is looked for again. */
const RECHECK_MS = 10_000;

const capabilitiesCache = new WeakMap<Libvirt, Promise<string>>();
const domcapsCache = new WeakMap<Libvirt, Map<string, Promise<DomainCapabilities>>>();

function cached<T>(promise: Promise<T>, forget: () => void): Promise<T> {
  promise.catch(forget);
  return promise;
}

function hostCapabilities(lv: Libvirt): Promise<string> {
  let p = capabilitiesCache.get(lv);
  if (!p) {
    p = cached(lv.capabilities(), () => capabilitiesCache.delete(lv));
    capabilitiesCache.set(lv, p);
  }
  return p;
}

function domainCapabilities(lv: Libvirt, virttype: string, machine: string): Promise<DomainCapabilities> {
  const byKey = domcapsCache.get(lv) ?? new Map<string, Promise<DomainCapabilities>>();
  domcapsCache.set(lv, byKey);
  const key = `${virttype}/${machine}`;
  let p = byKey.get(key);
  if (!p) {
    const args = ["domcapabilities", "--virttype", virttype, "--arch", ARCH, "--machine", machine];
    p = cached(lv.run(args).then(parseDomainCapabilities), () => byKey.delete(key));
    byKey.set(key, p);
  }
  return p;
}

function list(values: string[], max = 40): string {
  return values.length > max
    ? `${values.slice(0, max).join(", ")}, … (${values.length} in all)`
    : values.join(", ");
}

/** Machine type, CPU mode and model, firmware, secure boot and TPM against what the host offers. */
export async function checkMachineSupport(lv: Libvirt, dom: Domain, driver: DomainDriver): Promise<void> {
  const machine = dom.spec.machineType ?? "pc";
  const machines = parseMachineTypes(await hostCapabilities(lv), { arch: ARCH, virttype: driver });
  if (machines.length > 0 && !machines.includes(machine)) {
    throw new TerminalError(
      "UnknownMachineType",
      `machineType "${machine}" is not offered by ${lv.uri} for ${driver} ${ARCH}; allowed: ${
        list(machines)
      }`,
    );
  }
  const caps = await domainCapabilities(lv, driver, machine);
  const cpu = dom.spec.cpu;
  const mode = cpu?.mode ?? (cpu?.model !== undefined ? "custom" : undefined);
  if (mode !== undefined && caps.cpuModes.length > 0 && !caps.cpuModes.includes(mode)) {
    throw new TerminalError(
      "UnknownCpuMode",
      `cpu.mode ${mode} is not offered by ${lv.uri} for ${driver}; allowed: ${list(caps.cpuModes)}`,
    );
  }
  if (mode === "custom") {
    const model = cpu?.model ?? DEFAULT_CUSTOM_CPU_MODEL;
    const known = caps.cpuModels.find((m) => m.name === model);
    if (!known) {
      throw new TerminalError(
        "UnknownCpuModel",
        `cpu.model "${model}" is not known to ${lv.uri}; allowed: ${
          list(caps.cpuModels.filter((m) => m.usable).map((m) => m.name))
        }`,
      );
    }
  }
  if (dom.spec.firmware === "efi" && !caps.firmware.includes("efi")) {
    throw new TerminalError(
      "FirmwareNotFound",
      `firmware efi needs UEFI firmware (OVMF) on ${lv.uri} for machine type ${machine}, and libvirt finds none; install it there (Debian: apt-get install ovmf) or use firmware: bios`,
    );
  }
  if (dom.spec.secureBoot === true && isQ35(machine) && !caps.secureBoot) {
    throw new TerminalError(
      "FirmwareNotFound",
      `secureBoot needs a secure-boot OVMF build on ${lv.uri} (Debian's ovmf package has one); libvirt offers none for ${machine}`,
    );
  }
  if (dom.spec.tpm && !caps.tpmBackends.includes("emulator")) {
    throw new TerminalError(
      "TpmUnavailable",
      `tpm needs swtpm on ${lv.uri} (Debian: apt-get install swtpm swtpm-tools); libvirt offers no emulated TPM`,
    );
  }
}

/** The libvirt networks lv does not own that the Domain attaches to: each must exist and be active. */
export async function checkUnownedNetworks(lv: Libvirt, dom: Domain): Promise<void> {
  for (const name of unownedNetworks(dom, lv.uri)) {
    const net = await lv.netGet(name);
    if (!net) {
      const session = /\/session\b/.test(lv.uri)
        ? "; a rootless session has no libvirt networks: attach to a host bridge with interfaces: [{bridge: virbr0}] (qemu-bridge-helper, lv doctor checks it), or use qemu:///system"
        : "";
      throw new WaitingError(
        "NetworkNotFound",
        `libvirt network "${name}" does not exist on ${lv.uri}; lv attaches to it but never creates it (virsh net-list --all shows the networks there)${session}`,
        RECHECK_MS,
      );
    }
    if (!net.active) {
      throw new WaitingError(
        "NetworkInactive",
        `libvirt network "${name}" on ${lv.uri} is not active; lv never starts a network it does not own (virsh net-start ${name})`,
        RECHECK_MS,
      );
    }
  }
}

function describeDevice(dev: DomainHostDevice): string {
  return dev.type === "usb" ? `USB device ${dev.vendor}:${dev.product}` : `PCI device ${dev.address}`;
}

async function usbDevices(lv: Libvirt): Promise<Set<string>> {
  const names = (await lv.run(["nodedev-list", "--cap", "usb_device"])).split("\n").map((s) => s.trim())
    .filter(Boolean);
  const ids = new Set<string>();
  for (const name of names) {
    const cap = childOf(parseXml(await lv.run(["nodedev-dumpxml", name])), "capability");
    const id = (what: string) => (attrOf(childOf(cap, what), "id") ?? "").toLowerCase();
    ids.add(`${id("vendor")}:${id("product")}`);
  }
  return ids;
}

async function pciDeviceExists(lv: Libvirt, address: string): Promise<boolean> {
  const name = `pci_${address.toLowerCase().replace(/[:.]/g, "_")}`;
  try {
    await lv.run(["nodedev-dumpxml", name]);
    return true;
  } catch (e) {
    if (e instanceof VirshError && e.notFound) return false;
    throw e;
  }
}

/** Each host device the Domain passes through exists on the host (`virsh nodedev-*`). */
export async function checkHostDevices(lv: Libvirt, dom: Domain): Promise<void> {
  const devices = dom.spec.hostDevices ?? [];
  if (devices.length === 0) return;
  const usb = devices.some((d) => d.type === "usb") ? await usbDevices(lv) : new Set<string>();
  for (const dev of devices) {
    const present = dev.type === "usb"
      ? usb.has(`${dev.vendor}:${dev.product}`.toLowerCase())
      : await pciDeviceExists(lv, dev.address ?? "");
    if (!present) {
      throw new WaitingError(
        "HostDeviceNotFound",
        `${
          describeDevice(dev)
        } is not on ${lv.uri} (virsh nodedev-list shows what is); the domain is defined once it is`,
        RECHECK_MS,
      );
    }
  }
}

/** Whether a local TCP port can be bound (nothing listens on it). */
function portFree(hostname: string, port: number): boolean {
  try {
    const listener = Deno.listen({ hostname, port, transport: "tcp" });
    listener.close();
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.AddrInUse) return false;
    return true; // an address this machine does not have: libvirt will say so when it starts the domain
  }
}

/**
 * Before a start: a fixed graphics port must be free. Checked only where libvirt runs on this machine
 * (a remote host's ports are not visible from here; libvirt's own error then says it).
 */
export function checkGraphicsPort(lv: Libvirt, dom: Domain): void {
  const g = dom.spec.graphics;
  if (g === undefined || g.type === "none" || g.port === undefined) return;
  if (!isLocal(lv.uri)) return;
  if (!portFree(g.listen, g.port)) {
    throw new WaitingError(
      "GraphicsPortTaken",
      `graphics port ${g.port} on ${g.listen} is already in use; free it or leave graphics.port out (libvirt picks a free one)`,
      RECHECK_MS,
    );
  }
}
