/**
 * What a libvirt host offers a domain, from `virsh capabilities` (machine types per arch and domain type)
 * and `virsh domcapabilities` (CPU modes and models, firmware, TPM backends, host device passthrough).
 *
 * @module
 */

import { attrOf, childOf, childrenOf, parseXml, type XmlNode } from "./parse_xml.ts";

/** Machine types the host's emulator offers for an arch and domain type: versioned names and their aliases. */
export function parseMachineTypes(
  capabilitiesXml: string,
  options: { arch: string; virttype: string },
): string[] {
  const root = parseXml(capabilitiesXml);
  const names = new Set<string>();
  for (const guest of childrenOf(root, "guest")) {
    const arch = childOf(guest, "arch");
    if (attrOf(arch, "name") !== options.arch) continue;
    const machines = (node: XmlNode | undefined) => childrenOf(node, "machine").map((m) => m.text.trim());
    for (const m of machines(arch)) names.add(m);
    for (const domain of childrenOf(arch, "domain")) {
      if (attrOf(domain, "type") === options.virttype) { for (const m of machines(domain)) names.add(m); }
    }
  }
  names.delete("");
  return [...names].sort();
}

/** What `virsh domcapabilities` says a domain of one machine type can have. */
export interface DomainCapabilities {
  /** CPU modes offered (supported='yes'). */
  cpuModes: string[];
  /** Custom CPU models libvirt knows, with whether this host can run them. */
  cpuModels: { name: string; usable: boolean }[];
  /** Firmware autoselection values (efi when OVMF descriptors are installed). */
  firmware: string[];
  /** Whether a secure-boot loader is offered. */
  secureBoot: boolean;
  /** TPM backend models (emulator when swtpm is installed). */
  tpmBackends: string[];
}

function enumValues(node: XmlNode | undefined, name: string): string[] {
  const e = childrenOf(node, "enum").find((n) => attrOf(n, "name") === name);
  return childrenOf(e, "value").map((v) => v.text.trim());
}

/** Reads `virsh domcapabilities` output. */
export function parseDomainCapabilities(xml: string): DomainCapabilities {
  const root = parseXml(xml);
  const cpuModes = childrenOf(childOf(root, "cpu"), "mode");
  const custom = cpuModes.find((m) => attrOf(m, "name") === "custom");
  const os = childOf(root, "os");
  const tpm = childOf(childOf(root, "devices"), "tpm");
  return {
    cpuModes: cpuModes.filter((m) => attrOf(m, "supported") === "yes").map((m) => attrOf(m, "name") ?? ""),
    cpuModels: childrenOf(custom, "model").map((m) => ({
      name: m.text.trim(),
      usable: attrOf(m, "usable") !== "no",
    })),
    firmware: attrOf(os, "supported") === "no" ? [] : enumValues(os, "firmware"),
    secureBoot: enumValues(childOf(os, "loader"), "secure").includes("yes"),
    tpmBackends: attrOf(tpm, "supported") === "yes" ? enumValues(tpm, "backendModel") : [],
  };
}
