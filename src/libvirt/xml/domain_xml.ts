/**
 * libvirt domain XML for Domain resources, read back for drift detection.
 *
 * The machine parts (os, firmware, cpu, memory backing) are built in domain_machine_xml.ts and the
 * optional devices (display, CD-ROMs, TPM, RNG, watchdog, inputs, host devices, serial log) in
 * domain_devices_xml.ts.
 *
 * @module
 */

import type {
  DiskCache,
  DiskDetectZeroes,
  DiskDiscard,
  DiskIo,
  Domain,
  DomainDisk,
  DomainDriver,
  InterfaceLinkState,
  MacvtapMode,
} from "../../api/types.ts";
import {
  cdromElement,
  type DevicesState,
  displayElements,
  type DomainXmlCdrom,
  extraDeviceElements,
  parseDevices,
  scsiControllerElements,
  serialElements,
} from "./domain_devices_xml.ts";
import {
  bootDevices,
  cpuElement,
  featuresElement,
  type MachineState,
  memoryBackingElement,
  osElement,
  parseMachine,
  sameMachine,
} from "./domain_machine_xml.ts";
import { diffPaths } from "./diff_paths.ts";
import { filesystemElements } from "./domain_filesystem_xml.ts";
import { el, renderXml, type XmlElement } from "./escape.ts";
import { lvMetadata, type LvOwner, ownerFor, ownerOfNode } from "./lv_metadata.ts";
import { attrOf, childOf, childrenOf, parseXml, textAt, type XmlNode, XmlParseError } from "./parse_xml.ts";
import { scaledToBytes } from "./scaled_integer.ts";
import { parseUserNet, QEMU_NAMESPACE, userNetElement } from "./user_net_xml.ts";

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
  io?: DiskIo;
  discard?: DiskDiscard;
  detectZeroes?: DiskDetectZeroes;
  serial?: string;
}

/**
 * A NIC: on a libvirt network (`network`), a host bridge (`bridge`), a public macvtap on a host device
 * (`dev`), or QEMU's user-mode network with the guest's SSH forwarded to 127.0.0.1 (`userNet`, a rootless
 * session's management interface; user_net_xml.ts).
 */
export interface DomainXmlInterface {
  /** libvirt network name (lv's or not): `<interface type='network'>`. */
  network?: string;
  /** Host bridge: `<interface type='bridge'>`. */
  bridge?: string;
  /** Host device for a public interface: `<interface type='direct'>`. */
  dev?: string;
  /** macvtap mode for `dev`. Default bridge. */
  mode?: MacvtapMode;
  /** User-mode network: guest TCP `guestPort` forwarded from 127.0.0.1:`hostPort` on the libvirt host. */
  userNet?: { hostPort: number; guestPort: number };
  mac: string;
  /** NIC model, e.g. virtio, e1000. */
  model: string;
  /** `<link state>`; absent: libvirt's default, up. */
  linkState?: InterfaceLinkState;
}

/** Options for {@linkcode domainXml}. */
export interface DomainXmlOptions {
  /** Domain type: kvm (hardware) or qemu (TCG). */
  driver: DomainDriver;
  /** Disks in order; the first one boots. May be empty (PXE, tests). */
  disks: DomainXmlDisk[];
  interfaces: DomainXmlInterface[];
  /** Path of the QEMU binary. Default: libvirt's choice. */
  emulator?: string;
  /** UUID of the domain libvirt already has under this name; libvirt refuses redefinition with another. */
  uuid?: string;
  /** Maximum memory in MiB, so `setmem --live` can grow up to it. Default: spec.maxMemory, else spec.memory. */
  maxMemoryMiB?: number;
  /** Maximum vCPUs, so `setvcpus --live` can grow up to it. Default: spec.maxVcpus, else spec.cpus. */
  maxVcpus?: number;
  /** Machine type. Default spec.machineType, else "pc" (libvirt expands it to the versioned name). */
  machine?: string;
  /** Add a virtio-serial channel for the QEMU guest agent (`domifaddr --source agent`). Default true. */
  guestAgent?: boolean;
  /** CD-ROMs in order, resolved to host paths. Default none. */
  cdroms?: DomainXmlCdrom[];
  /** The display password (read from spec.graphics.passwordFile). Never read back. */
  graphicsPassword?: string;
  /** Host file the serial console is logged to (`lv logs`). Default: not logged. */
  serialLog?: string;
}

/** An interface as libvirt describes it. */
export interface DomainXmlInterfaceState {
  /** network, direct, bridge, user, ... */
  type: string;
  network?: string;
  bridge?: string;
  dev?: string;
  mode?: string;
  /** Lower-case MAC as libvirt prints it. */
  mac: string;
  /** NIC model; "" when libvirt shows none. */
  model: string;
  /** `<link state>`: up unless libvirt says down. */
  linkState: InterfaceLinkState;
  /** type user: the forwarded ports, `HOST-GUEST`. */
  forward?: string;
}

/** A domain as libvirt describes it. */
export interface DomainXmlState extends MachineState, DevicesState {
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
  /** File-backed disks (device='disk'), in order. */
  disks: DomainXmlDisk[];
  interfaces: DomainXmlInterfaceState[];
  owner?: LvOwner;
}

const AGENT_CHANNEL = "org.qemu.guest_agent.0";

function diskElement(disk: DomainXmlDisk): XmlElement {
  return el(
    "disk",
    { type: "file", device: "disk" },
    el("driver", {
      name: "qemu",
      type: disk.format,
      cache: disk.cache === "default" ? undefined : disk.cache,
      io: disk.io,
      discard: disk.discard,
      detect_zeroes: disk.detectZeroes,
    }),
    el("source", { file: disk.path }),
    el("target", { dev: disk.device, bus: disk.bus }),
    disk.serial !== undefined && el("serial", {}, disk.serial),
  );
}

function interfaceElement(nic: DomainXmlInterface, index: number): XmlElement {
  const given = [nic.network, nic.bridge, nic.dev, nic.userNet].filter((v) => v !== undefined).length;
  if (given !== 1) {
    throw new TypeError(`interfaces[${index}]: needs exactly one of network, bridge, dev or userNet`);
  }
  const source = nic.network !== undefined
    ? el("source", { network: nic.network })
    : nic.bridge !== undefined
    ? el("source", { bridge: nic.bridge })
    : el("source", { dev: nic.dev, mode: nic.mode ?? "bridge" });
  return el(
    "interface",
    { type: nic.network !== undefined ? "network" : nic.bridge !== undefined ? "bridge" : "direct" },
    el("mac", { address: nic.mac }),
    source,
    el("model", { type: nic.model }),
    nic.linkState !== undefined && el("link", { state: nic.linkState }),
  );
}

function positiveInteger(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${what} must be a positive integer; got ${value}`);
  }
  return value;
}

/**
 * libvirt domain XML for `virsh define`: type, memory (and its backing) and
 * vCPUs, machine type, firmware and boot order, ACPI/APIC (and SMM), CPU,
 * file disks and CD-ROMs, network, bridge and macvtap NICs, 9p and virtiofs folders, serial console
 * (logged when asked), display, TPM, RNG, watchdog, inputs, host devices,
 * guest agent channel, lifecycle actions, lv owner metadata.
 */
export function domainXml(dom: Domain, options: DomainXmlOptions): string {
  const spec = dom.spec;
  const memory = positiveInteger(spec.memory, "spec.memory");
  const maxMemory = positiveInteger(options.maxMemoryMiB ?? spec.maxMemory ?? memory, "maxMemoryMiB");
  const cpus = positiveInteger(spec.cpus, "spec.cpus");
  const maxVcpus = positiveInteger(options.maxVcpus ?? spec.maxVcpus ?? cpus, "maxVcpus");
  if (maxMemory < memory) throw new RangeError(`maxMemoryMiB ${maxMemory} is below spec.memory ${memory}`);
  if (maxVcpus < cpus) throw new RangeError(`maxVcpus ${maxVcpus} is below spec.cpus ${cpus}`);
  const userNics = options.interfaces.filter((nic) => nic.userNet !== undefined);
  if (userNics.length > 1) throw new TypeError("interfaces: at most one userNet interface");
  const root = el(
    "domain",
    { type: options.driver, "xmlns:qemu": userNics.length > 0 ? QEMU_NAMESPACE : undefined },
    el("name", {}, dom.metadata.name),
    options.uuid !== undefined && el("uuid", {}, options.uuid),
    lvMetadata(ownerFor(dom)),
    el("memory", { unit: "MiB" }, String(maxMemory)),
    el("currentMemory", { unit: "MiB" }, String(memory)),
    el("vcpu", { placement: "static", current: maxVcpus > cpus ? cpus : undefined }, String(maxVcpus)),
    memoryBackingElement(dom),
    osElement(
      dom,
      bootDevices(dom, options.disks.length > 0, options.interfaces.length > 0),
      options.machine,
    ),
    featuresElement(dom),
    cpuElement(dom, options.driver),
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
      ...scsiControllerElements([...options.disks, ...options.cdroms ?? []].map((d) => d.bus)),
      ...options.interfaces.filter((nic) => nic.userNet === undefined).map(interfaceElement),
      ...filesystemElements(spec.syncedFolders),
      ...serialElements(options.serialLog),
      (options.guestAgent ?? true) &&
        el("channel", { type: "unix" }, el("target", { type: "virtio", name: AGENT_CHANNEL })),
      ...displayElements(dom, options.graphicsPassword),
      ...extraDeviceElements(dom),
    ),
    ...userNics.map((nic) =>
      userNetElement({ mac: nic.mac, ...nic.userNet! }, options.machine ?? dom.spec.machineType ?? "pc")
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
  const disk: DomainXmlDisk = {
    path: attrOf(childOf(node, "source"), "file") ?? "",
    format: attrOf(driver, "type") ?? "raw",
    device: attrOf(target, "dev") ?? "",
    bus: (attrOf(target, "bus") ?? "") as DomainXmlDisk["bus"],
    cache: (attrOf(driver, "cache") ?? "default") as DiskCache,
  };
  const io = attrOf(driver, "io");
  if (io !== undefined) disk.io = io as DiskIo;
  const discard = attrOf(driver, "discard");
  if (discard !== undefined) disk.discard = discard as DiskDiscard;
  const zeroes = attrOf(driver, "detect_zeroes");
  if (zeroes !== undefined) disk.detectZeroes = zeroes as DiskDetectZeroes;
  const serial = textAt(node, "serial")?.trim();
  if (serial) disk.serial = serial;
  return disk;
}

function parseInterface(node: XmlNode): DomainXmlInterfaceState {
  const source = childOf(node, "source");
  const nic: DomainXmlInterfaceState = {
    type: attrOf(node, "type") ?? "",
    mac: (attrOf(childOf(node, "mac"), "address") ?? "").toLowerCase(),
    model: attrOf(childOf(node, "model"), "type") ?? "",
    linkState: attrOf(childOf(node, "link"), "state") === "down" ? "down" : "up",
  };
  const network = attrOf(source, "network");
  if (network !== undefined) nic.network = network;
  if (nic.type === "bridge") {
    const bridge = attrOf(source, "bridge");
    if (bridge !== undefined) nic.bridge = bridge;
  }
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
 * disks with device='disk' are listed. Throws `XmlParseError` for
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
    ...parseMachine(root),
    ...parseDevices(devices),
    name: textAt(root, "name") ?? "",
    type: attrOf(root, "type") ?? "",
    memoryMiB,
    currentMemoryMiB: currentNode ? mib(currentNode, "currentMemory") : memoryMiB,
    vcpus: current !== undefined ? count(current, "vcpu current") : maxVcpus,
    maxVcpus,
    disks: childrenOf(devices, "disk")
      .filter((d) => (attrOf(d, "device") ?? "disk") === "disk" && (attrOf(d, "type") ?? "file") === "file")
      .map(parseDisk),
    interfaces: childrenOf(devices, "interface").map(parseInterface),
  };
  const userNet = parseUserNet(root);
  if (userNet) {
    const forward = `${userNet.hostPort}-${userNet.guestPort}`;
    state.interfaces.push({ type: "user", mac: userNet.mac, model: "virtio", linkState: "up", forward });
  }
  const uuid = textAt(root, "uuid");
  if (uuid !== undefined) state.uuid = uuid.trim();
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
    disks[`[${d.device}]`] = {
      path: d.path,
      format: d.format,
      bus: d.bus,
      cache: d.cache,
      io: d.io,
      discard: d.discard,
      detectZeroes: d.detectZeroes,
      serial: d.serial,
    };
  }
  const cdroms: Record<string, unknown> = {};
  for (const c of state.cdroms) cdroms[`[${c.device}]`] = { path: c.path, format: c.format, bus: c.bus };
  const interfaces: Record<string, unknown> = {};
  for (const nic of state.interfaces) {
    interfaces[`[${nic.mac.toLowerCase()}]`] = {
      type: nic.type,
      network: nic.network,
      bridge: nic.bridge,
      dev: nic.dev,
      mode: nic.mode,
      model: nic.model,
      linkState: nic.linkState,
      forward: nic.forward,
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
    cpuTopology: state.cpuTopology,
    cpuFeatures: state.cpuFeatures.join(","),
    machine: state.machine,
    firmware: state.firmware,
    secureBoot: state.secureBoot,
    boot: state.boot.join(","),
    memoryBacking: state.memoryBacking,
    disks,
    cdroms,
    interfaces,
    graphics: state.graphics,
    video: state.video,
    tpm: state.tpm,
    rng: state.rng,
    watchdog: state.watchdog,
    inputs: state.inputs.join(","),
    hostDevices: state.hostDevices.join(","),
    filesystems: state.filesystems,
    // Whether the console is logged, not where: the path is under the controller's LV_HOME, and a standby
    // controller with another LV_HOME must not redefine every domain.
    serialLog: state.serialLog !== undefined,
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
  const seen = sameMachine(want.machine, got.machine) ? { ...got, machine: want.machine } : got;
  return diffPaths(comparable(want), comparable(seen));
}
