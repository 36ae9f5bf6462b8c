/**
 * libvirt domain XML for Domain resources, read back for drift detection.
 *
 * CPU, following vagrant-libvirt (whose default `cpu_mode` is host-model and
 * whose custom mode defaults to the qemu64 model):
 * - kvm: `<cpu mode='host-model' check='partial'/>`;
 * - kvm with `nested`: `<cpu mode='host-passthrough' check='none'/>`, which
 *   hands the host's vmx or svm flag to the guest as it is (requiring both,
 *   as a feature list would have to without knowing the host vendor, fails
 *   on every host; vagrant-libvirt adds vmx/svm features only outside passthrough,
 *   and only as `optional`);
 * - qemu (TCG): `<cpu mode='custom' match='exact' check='none'><model fallback='forbid'>qemu64</model></cpu>`,
 *   which is what libvirt fills in itself when the element is absent, and
 *   which TCG runs (qemu64 includes svm, so TCG guests can nest anyway).
 *
 * No `<graphics>`: libvirt 9.0 rejects `type='none'`; a serial pty console is the console.
 *
 * @module
 */

import type { DiskCache, Domain, DomainDisk, DomainDriver, MacvtapMode } from "../../api/types.ts";
import { diffPaths } from "./diff_paths.ts";
import { el, renderXml, type XmlElement } from "./escape.ts";
import { lvMetadata, type LvOwner, ownerFor, ownerOfNode } from "./lv_metadata.ts";
import {
  attrOf,
  childOf,
  childrenOf,
  parseXml,
  pathOf,
  textAt,
  type XmlNode,
  XmlParseError,
} from "./parse_xml.ts";
import { scaledToBytes } from "./scaled_integer.ts";

/** A disk as the domain XML needs it: the Volume resolved to a host path. */
export interface DomainXmlDisk {
  /** Host path of the image file. */
  path: string;
  /** Image format: qcow2 or raw. */
  format: string;
  /** Guest device name (target dev), e.g. vda. */
  device: string;
  bus: DomainDisk["bus"];
  /** `default` leaves the cache attribute out (hypervisor default). */
  cache: DiskCache;
}

/** A read-only CD-ROM (raw image), e.g. the cloud-init seed. */
export interface DomainXmlCdrom {
  path: string;
  /** Guest device name (target dev), e.g. hdc. */
  device: string;
  bus: "ide" | "sata" | "scsi";
}

/** A NIC: on a libvirt network (`network`), or a public macvtap on a host device (`dev`). */
export interface DomainXmlInterface {
  /** libvirt network name: `<interface type='network'>`. */
  network?: string;
  /** Host device for a public interface: `<interface type='direct'>`. */
  dev?: string;
  /** macvtap mode for `dev`. Default bridge. */
  mode?: MacvtapMode;
  mac: string;
  /** NIC model, e.g. virtio, e1000. */
  model: string;
}

/** Options for {@linkcode domainXml}. */
export interface DomainXmlOptions {
  /** Domain type: kvm (hardware) or qemu (TCG). */
  driver: DomainDriver;
  /** Disks in order; the first one boots. May be empty (PXE, tests). */
  disks: DomainXmlDisk[];
  /** Read-only CD-ROMs, after the disks. Default none. */
  cdroms?: DomainXmlCdrom[];
  interfaces: DomainXmlInterface[];
  /** Path of the QEMU binary. Default: libvirt's choice. */
  emulator?: string;
  /** UUID of the domain libvirt already has under this name; libvirt refuses redefinition with another. */
  uuid?: string;
  /** Maximum memory in MiB, so `setmem --live` can grow up to it. Default: spec.memory. */
  maxMemoryMiB?: number;
  /** Maximum vCPUs, so `setvcpus --live` can grow up to it. Default: spec.cpus. */
  maxVcpus?: number;
  /** Machine type. Default "pc" (libvirt expands it to the versioned name). */
  machine?: string;
  /** Add a virtio-serial channel for the QEMU guest agent (`domifaddr --source agent`). Default true. */
  guestAgent?: boolean;
}

/** An interface as libvirt describes it. */
export interface DomainXmlInterfaceState {
  /** network, direct, bridge, user, ... */
  type: string;
  network?: string;
  dev?: string;
  mode?: string;
  /** Lower-case MAC as libvirt prints it. */
  mac: string;
  /** NIC model; "" when libvirt shows none. */
  model: string;
}

/** A domain as libvirt describes it. */
export interface DomainXmlState {
  name: string;
  uuid?: string;
  /** kvm, qemu, ... */
  type: string;
  /** `<memory>` (the maximum), in MiB. */
  memoryMiB: number;
  /** `<currentMemory>` (the balloon target), in MiB. */
  currentMemoryMiB: number;
  /** vCPUs online (`current`, else the maximum). */
  vcpus: number;
  /** `<vcpu>` maximum. */
  maxVcpus: number;
  /** `<cpu mode>`; custom when a `<cpu>` has no mode; absent without `<cpu>`. */
  cpuMode?: string;
  /** `<cpu><model>` when given. */
  cpuModel?: string;
  /** File-backed disks (device='disk'), in order. */
  disks: DomainXmlDisk[];
  /** File-backed CD-ROMs (device='cdrom'), in order. */
  cdroms: DomainXmlCdrom[];
  interfaces: DomainXmlInterfaceState[];
  owner?: LvOwner;
}

const AGENT_CHANNEL = "org.qemu.guest_agent.0";

function cpuElement(driver: DomainDriver, nested: boolean): XmlElement {
  if (driver === "qemu") {
    return el(
      "cpu",
      { mode: "custom", match: "exact", check: "none" },
      el("model", { fallback: "forbid" }, "qemu64"),
    );
  }
  return nested ? el("cpu", { mode: "host-passthrough", check: "none" }) : el("cpu", {
    mode: "host-model",
    check: "partial",
  });
}

function diskElement(disk: DomainXmlDisk): XmlElement {
  return el(
    "disk",
    { type: "file", device: "disk" },
    el("driver", {
      name: "qemu",
      type: disk.format,
      cache: disk.cache === "default" ? undefined : disk.cache,
    }),
    el("source", { file: disk.path }),
    el("target", { dev: disk.device, bus: disk.bus }),
  );
}

function cdromElement(cdrom: DomainXmlCdrom): XmlElement {
  return el(
    "disk",
    { type: "file", device: "cdrom" },
    el("driver", { name: "qemu", type: "raw" }),
    el("source", { file: cdrom.path }),
    el("target", { dev: cdrom.device, bus: cdrom.bus }),
    el("readonly"),
  );
}

function interfaceElement(nic: DomainXmlInterface, index: number): XmlElement {
  if ((nic.network === undefined) === (nic.dev === undefined)) {
    throw new TypeError(`interfaces[${index}]: needs exactly one of network or dev`);
  }
  const source = nic.network !== undefined
    ? el("source", { network: nic.network })
    : el("source", { dev: nic.dev, mode: nic.mode ?? "bridge" });
  return el(
    "interface",
    { type: nic.network !== undefined ? "network" : "direct" },
    el("mac", { address: nic.mac }),
    source,
    el("model", { type: nic.model }),
  );
}

function positiveInteger(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${what} must be a positive integer; got ${value}`);
  }
  return value;
}

/**
 * libvirt domain XML for `virsh define`: type, memory and vCPUs, BIOS boot
 * from the first disk (and the network when there is no disk), ACPI/APIC,
 * CPU per driver, file disks, network and macvtap NICs, serial console,
 * guest agent channel, lifecycle actions, lv owner metadata.
 */
export function domainXml(dom: Domain, options: DomainXmlOptions): string {
  const spec = dom.spec;
  const memory = positiveInteger(spec.memory, "spec.memory");
  const maxMemory = positiveInteger(options.maxMemoryMiB ?? memory, "maxMemoryMiB");
  const cpus = positiveInteger(spec.cpus, "spec.cpus");
  const maxVcpus = positiveInteger(options.maxVcpus ?? cpus, "maxVcpus");
  if (maxMemory < memory) throw new RangeError(`maxMemoryMiB ${maxMemory} is below spec.memory ${memory}`);
  if (maxVcpus < cpus) throw new RangeError(`maxVcpus ${maxVcpus} is below spec.cpus ${cpus}`);
  const root = el(
    "domain",
    { type: options.driver },
    el("name", {}, dom.metadata.name),
    options.uuid !== undefined && el("uuid", {}, options.uuid),
    lvMetadata(ownerFor(dom)),
    el("memory", { unit: "MiB" }, String(maxMemory)),
    el("currentMemory", { unit: "MiB" }, String(memory)),
    el("vcpu", { placement: "static", current: maxVcpus > cpus ? cpus : undefined }, String(maxVcpus)),
    el(
      "os",
      {},
      el("type", { arch: "x86_64", machine: options.machine ?? "pc" }, "hvm"),
      el("boot", { dev: "hd" }),
      options.disks.length === 0 && options.interfaces.length > 0 && el("boot", { dev: "network" }),
    ),
    el("features", {}, el("acpi"), el("apic")),
    cpuElement(options.driver, spec.nested),
    el("clock", { offset: "utc" }),
    el("on_poweroff", {}, "destroy"),
    el("on_reboot", {}, "restart"),
    el("on_crash", {}, "destroy"),
    el(
      "devices",
      {},
      options.emulator !== undefined && el("emulator", {}, options.emulator),
      ...options.disks.map(diskElement),
      ...(options.cdroms ?? []).map(cdromElement),
      ...options.interfaces.map(interfaceElement),
      el("serial", { type: "pty" }, el("target", { port: "0" })),
      el("console", { type: "pty" }, el("target", { type: "serial", port: "0" })),
      (options.guestAgent ?? true) &&
        el("channel", { type: "unix" }, el("target", { type: "virtio", name: AGENT_CHANNEL })),
    ),
  );
  return renderXml(root);
}

function mib(node: XmlNode | undefined, what: string): number {
  if (!node) throw new XmlParseError(`Domain has no <${what}>`);
  return scaledToBytes(node.text, attrOf(node, "unit"), { defaultUnit: "KiB" }) / 2 ** 20;
}

function count(text: string | undefined, what: string): number {
  const n = Number(text?.trim());
  if (text === undefined || !Number.isSafeInteger(n)) throw new XmlParseError(`Domain has no valid ${what}`);
  return n;
}

function parseDisk(node: XmlNode): DomainXmlDisk {
  const driver = childOf(node, "driver");
  const target = childOf(node, "target");
  return {
    path: attrOf(childOf(node, "source"), "file") ?? "",
    format: attrOf(driver, "type") ?? "raw",
    device: attrOf(target, "dev") ?? "",
    bus: (attrOf(target, "bus") ?? "") as DomainXmlDisk["bus"],
    cache: (attrOf(driver, "cache") ?? "default") as DiskCache,
  };
}

function parseInterface(node: XmlNode): DomainXmlInterfaceState {
  const source = childOf(node, "source");
  const nic: DomainXmlInterfaceState = {
    type: attrOf(node, "type") ?? "",
    mac: (attrOf(childOf(node, "mac"), "address") ?? "").toLowerCase(),
    model: attrOf(childOf(node, "model"), "type") ?? "",
  };
  const network = attrOf(source, "network");
  if (network !== undefined) nic.network = network;
  if (nic.type === "direct") {
    const dev = attrOf(source, "dev");
    if (dev !== undefined) nic.dev = dev;
    nic.mode = attrOf(source, "mode") ?? "vepa";
  }
  return nic;
}

/**
 * Reads `virsh dumpxml` output (inactive or live). Memory is converted to
 * MiB from whatever unit libvirt uses (KiB by default). Only file-backed
 * disks are listed: device='disk' in disks, device='cdrom' in cdroms. Throws `XmlParseError` for
 * malformed XML or a document that is not a complete `<domain>`.
 */
export function parseDomainXml(xml: string): DomainXmlState {
  const root = parseXml(xml);
  if (root.name !== "domain") throw new XmlParseError(`Expected <domain>, found <${root.name}>`);
  const vcpu = childOf(root, "vcpu");
  const maxVcpus = count(vcpu?.text, "<vcpu>");
  const current = attrOf(vcpu, "current");
  const memoryMiB = mib(childOf(root, "memory"), "memory");
  const currentNode = childOf(root, "currentMemory");
  const devices = childOf(root, "devices");
  const state: DomainXmlState = {
    name: textAt(root, "name") ?? "",
    type: attrOf(root, "type") ?? "",
    memoryMiB,
    currentMemoryMiB: currentNode ? mib(currentNode, "currentMemory") : memoryMiB,
    vcpus: current !== undefined ? count(current, "vcpu current") : maxVcpus,
    maxVcpus,
    disks: childrenOf(devices, "disk")
      .filter((d) => (attrOf(d, "device") ?? "disk") === "disk" && (attrOf(d, "type") ?? "file") === "file")
      .map(parseDisk),
    cdroms: childrenOf(devices, "disk")
      .filter((d) => attrOf(d, "device") === "cdrom" && (attrOf(d, "type") ?? "file") === "file")
      .map((d) => {
        const { path, device, bus } = parseDisk(d);
        return { path, device, bus: bus as DomainXmlCdrom["bus"] };
      }),
    interfaces: childrenOf(devices, "interface").map(parseInterface),
  };
  const uuid = textAt(root, "uuid");
  if (uuid !== undefined) state.uuid = uuid.trim();
  const cpu = childOf(root, "cpu");
  if (cpu) {
    state.cpuMode = attrOf(cpu, "mode") ?? "custom";
    const model = pathOf(cpu, "model")?.text.trim();
    if (model) state.cpuModel = model;
  }
  const owner = ownerOfNode(root);
  if (owner) state.owner = owner;
  return state;
}

/** What a Domain's spec and resolved options say libvirt should have, in the shape {@linkcode parseDomainXml} returns. */
export function domainStateFromSpec(dom: Domain, options: DomainXmlOptions): DomainXmlState {
  return parseDomainXml(domainXml(dom, options));
}

function comparable(state: DomainXmlState): Record<string, unknown> {
  const disks: Record<string, unknown> = {};
  for (const d of state.disks) {
    disks[`[${d.device}]`] = { path: d.path, format: d.format, bus: d.bus, cache: d.cache };
  }
  for (const c of state.cdroms) disks[`[${c.device}]`] = { path: c.path, bus: c.bus, cdrom: true };
  const interfaces: Record<string, unknown> = {};
  for (const nic of state.interfaces) {
    interfaces[`[${nic.mac.toLowerCase()}]`] = {
      type: nic.type,
      network: nic.network,
      dev: nic.dev,
      mode: nic.mode,
      model: nic.model,
    };
  }
  return {
    name: state.name,
    type: state.type,
    memoryMiB: state.memoryMiB,
    currentMemoryMiB: state.currentMemoryMiB,
    vcpus: state.vcpus,
    maxVcpus: state.maxVcpus,
    cpuMode: state.cpuMode,
    cpuModel: state.cpuModel,
    disks,
    interfaces,
    owner: state.owner ? { uid: state.owner.uid } : undefined,
  };
}

/**
 * Field paths where libvirt's domain (`got`) differs from what the spec
 * wants, e.g. `["currentMemoryMiB", "disks[vdb]", "interfaces[52:54:00:aa:bb:cc].network"]`.
 * Disks are matched by target device and interfaces by MAC, so order does not
 * matter; the uuid and the owner's generation are not compared. The caller
 * classifies each path (live, next boot, replace).
 */
export function domainDiff(want: DomainXmlState, got: DomainXmlState): string[] {
  return diffPaths(comparable(want), comparable(got));
}
