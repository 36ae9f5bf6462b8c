/**
 * The machine parts of a Domain's libvirt XML: `<os>` (machine type, firmware, boot order), `<cpu>`,
 * `<memoryBacking>`, SMM for secure boot; and how each reads back for drift detection.
 *
 * Firmware uses libvirt's autoselection (`<os firmware='efi'>`): libvirt picks OVMF from the firmware
 * descriptors Debian's ovmf package installs, copies the per-domain NVRAM from its template at first start
 * and removes it with `undefine --nvram`. Secure boot asks for a descriptor with secure-boot and enrolled keys
 * (and SMM); plain efi asks for one without secure boot, so the choice does not depend on descriptor order.
 *
 * CPU, following vagrant-libvirt (whose default `cpu_mode` is host-model and whose custom mode defaults to
 * the qemu64 model):
 * - kvm: `<cpu mode='host-model' check='partial'/>`;
 * - kvm with `nested`: `<cpu mode='host-passthrough' check='none'/>`, which hands the host's vmx or svm flag
 *   to the guest as it is;
 * - qemu (TCG): `<cpu mode='custom' match='exact' check='none'><model fallback='forbid'>qemu64</model></cpu>`,
 *   which is what libvirt fills in itself when the element is absent.
 * `spec.cpu` overrides the mode and model and adds topology and features.
 *
 * @module
 */

import type { BootDevice, Domain, DomainDriver } from "../../api/types.ts";
import { el, type XmlElement } from "./escape.ts";
import { attrOf, childOf, childrenOf, pathOf, type XmlNode } from "./parse_xml.ts";

/** The CPU model used in custom mode when none is named (vagrant-libvirt's default). */
export const DEFAULT_CUSTOM_CPU_MODEL = "qemu64";

/** What the machine parts read back as. */
export interface MachineState {
  /** `<os><type machine>`, as libvirt wrote it (it expands pc and q35 to versioned names). */
  machine?: string;
  firmware: "bios" | "efi";
  secureBoot: boolean;
  /** `<cpu mode>`; custom when a `<cpu>` has no mode; absent without `<cpu>`. */
  cpuMode?: string;
  /** `<cpu><model>` when given. */
  cpuModel?: string;
  /** "sockets/cores/threads" when `<topology>` is given. */
  cpuTopology?: string;
  /** "policy:name", sorted. */
  cpuFeatures: string[];
  /** `<os><boot dev>` in order. */
  boot: string[];
  /** "access/source" when `<memoryBacking>` says either. */
  memoryBacking?: string;
}

function cpuMode(dom: Domain, driver: DomainDriver): { mode: string; model?: string } {
  const cpu = dom.spec.cpu;
  const mode = cpu?.mode ?? (cpu?.model !== undefined ? "custom" : undefined);
  if (mode === "custom") return { mode, model: cpu?.model ?? DEFAULT_CUSTOM_CPU_MODEL };
  if (mode !== undefined) return { mode };
  if (driver === "qemu") return { mode: "custom", model: DEFAULT_CUSTOM_CPU_MODEL };
  return { mode: dom.spec.nested ? "host-passthrough" : "host-model" };
}

/** `<cpu>`: mode and model (see the module comment), topology, features. */
export function cpuElement(dom: Domain, driver: DomainDriver): XmlElement {
  const cpu = dom.spec.cpu;
  const { mode, model } = cpuMode(dom, driver);
  const topology = cpu?.sockets !== undefined || cpu?.cores !== undefined || cpu?.threads !== undefined;
  return el(
    "cpu",
    mode === "custom"
      ? { mode, match: "exact", check: "none" }
      : { mode, check: mode === "host-model" ? "partial" : "none" },
    model !== undefined && el("model", { fallback: "forbid" }, model),
    topology && el("topology", {
      sockets: cpu?.sockets ?? 1,
      cores: cpu?.cores ?? 1,
      threads: cpu?.threads ?? 1,
    }),
    ...(cpu?.features ?? []).map((f) => el("feature", { policy: f.policy, name: f.name })),
  );
}

/** Boot devices in order: the spec's, else the first disk (and the network when there is no disk). */
export function bootDevices(dom: Domain, hasDisks: boolean, hasInterfaces: boolean): BootDevice[] {
  const order = dom.spec.bootOrder ?? [];
  if (order.length > 0) return order;
  return !hasDisks && hasInterfaces ? ["hd", "network"] : ["hd"];
}

/**
 * `<os>`: machine type, firmware, boot order. A headless BIOS domain has SeaBIOS write to the serial port
 * (`<bios useserial>`), so `lv logs` shows the firmware's lines too (OVMF writes there by itself).
 */
export function osElement(dom: Domain, boot: BootDevice[], machine?: string): XmlElement {
  const efi = dom.spec.firmware === "efi";
  const secure = efi && dom.spec.secureBoot === true;
  const headless = (dom.spec.graphics?.type ?? "none") === "none";
  return el(
    "os",
    { firmware: efi ? "efi" : undefined },
    el("type", { arch: "x86_64", machine: machine ?? dom.spec.machineType ?? "pc" }, "hvm"),
    efi && el(
      "firmware",
      {},
      el("feature", { enabled: secure ? "yes" : "no", name: "enrolled-keys" }),
      el("feature", { enabled: secure ? "yes" : "no", name: "secure-boot" }),
    ),
    ...boot.map((dev) => el("boot", { dev })),
    !efi && headless && el("bios", { useserial: "yes" }),
  );
}

/** `<features>`: ACPI, APIC, and SMM for secure boot. */
export function featuresElement(dom: Domain): XmlElement {
  const smm = dom.spec.firmware === "efi" && dom.spec.secureBoot === true;
  return el("features", {}, el("acpi"), el("apic"), smm && el("smm", { state: "on" }));
}

/** `<memoryBacking>` when the spec asks for one (shared memory for virtiofs). */
export function memoryBackingElement(dom: Domain): XmlElement | undefined {
  const mb = dom.spec.memoryBacking;
  if (mb === undefined || (mb.access === undefined && mb.source === undefined)) return undefined;
  const source = mb.source ?? (mb.access === "shared" ? "memfd" : undefined);
  return el(
    "memoryBacking",
    {},
    source !== undefined && el("source", { type: source }),
    mb.access !== undefined && el("access", { mode: mb.access }),
  );
}

/** Reads the machine parts of a `<domain>`. */
export function parseMachine(root: XmlNode): MachineState {
  const os = childOf(root, "os");
  const features = childrenOf(childOf(os, "firmware"), "feature");
  const secureBoot = features.some((f) =>
    attrOf(f, "name") === "secure-boot" && attrOf(f, "enabled") === "yes"
  );
  const loaderType = attrOf(childOf(os, "loader"), "type");
  const state: MachineState = {
    firmware: attrOf(os, "firmware") === "efi" || loaderType === "pflash" ? "efi" : "bios",
    secureBoot,
    cpuFeatures: [],
    boot: childrenOf(os, "boot").map((b) => attrOf(b, "dev") ?? ""),
  };
  const machine = attrOf(childOf(os, "type"), "machine");
  if (machine !== undefined) state.machine = machine;
  const cpu = childOf(root, "cpu");
  if (cpu) {
    state.cpuMode = attrOf(cpu, "mode") ?? "custom";
    const model = pathOf(cpu, "model")?.text.trim();
    if (model) state.cpuModel = model;
    const topology = childOf(cpu, "topology");
    if (topology) {
      state.cpuTopology = ["sockets", "cores", "threads"].map((k) => attrOf(topology, k) ?? "1").join("/");
    }
    state.cpuFeatures = childrenOf(cpu, "feature")
      .map((f) => `${attrOf(f, "policy") ?? "require"}:${attrOf(f, "name") ?? ""}`)
      .sort();
  }
  const mb = childOf(root, "memoryBacking");
  const access = attrOf(childOf(mb, "access"), "mode");
  const source = attrOf(childOf(mb, "source"), "type");
  if (access !== undefined || source !== undefined) state.memoryBacking = `${access ?? ""}/${source ?? ""}`;
  return state;
}

const MACHINE_ALIASES: [RegExp, string][] = [[/^pc-i440fx-/, "pc"], [/^pc-q35-/, "q35"]];

/**
 * Whether libvirt's machine type `got` is what `want` asks for: the same name, or a versioned name of the
 * unversioned alias asked for (libvirt writes pc as pc-i440fx-7.2).
 */
export function sameMachine(want: string | undefined, got: string | undefined): boolean {
  if (want === got) return true;
  if (want === undefined || got === undefined) return false;
  return MACHINE_ALIASES.some(([re, alias]) => want === alias && re.test(got));
}
