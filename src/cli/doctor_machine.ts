/** lv doctor's checks of the machine options a host supports (OVMF, swtpm) and of the context's pool. */
import { poolPathFor } from "../controller/pool_paths.ts";
import { parseDomainCapabilities } from "../libvirt/xml/capabilities_xml.ts";
import { parsePoolXml } from "../libvirt/xml/pool_xml.ts";
import type { Check } from "./doctor.ts";
import type { Runtime } from "./runtime.ts";

/** Which kind of libvirt connection applies: system (root libvirtd) or session (rootless). */
export function modeCheck(uri: string): Check {
  if (/^qemu(\+\w+)?:\/\/[^/]*\/session/.test(uri)) {
    return {
      name: "mode",
      ok: "warn",
      detail:
        `${uri}: rootless session; pools are created under ~/.local/share/lv, but lv's networks and the management interface need the system daemon`,
      fix: "use interfaces: [] with managementNetwork: none, or qemu:///system",
    };
  }
  return { name: "mode", ok: true, detail: `${uri}: system libvirtd (root)` };
}

/** The storage pool the selected context names (default "default"): there, or where lv will create it. */
export async function poolCheck(rt: Runtime): Promise<Check> {
  const name = rt.connection.settings?.storagePoolName ?? "default";
  const pool = await rt.libvirt.poolGet(name);
  const target = poolPathFor(rt.libvirt.uri, name);
  if (pool) {
    return {
      name: `pool ${name}`,
      ok: pool.active ? true : "warn",
      detail: `${parsePoolXml(pool.xml).path} (${pool.active ? "active" : "inactive"})`,
      fix: pool.active ? undefined : `virsh pool-start ${name}`,
    };
  }
  return {
    name: `pool ${name}`,
    ok: "warn",
    detail: target ? `missing; lv creates it as a dir pool at ${target} at first use` : "missing",
    fix: target
      ? undefined
      : `virsh pool-define-as ${name} dir --target /path; virsh pool-build ${name}; virsh pool-start ${name}`,
  };
}

/** UEFI firmware (firmware: efi, secureBoot) and the TPM emulator (tpm), from domcapabilities of a q35 machine. */
export async function machineChecks(rt: Runtime, virttype: string): Promise<Check[]> {
  const result = await rt.libvirt.virsh.run(["domcapabilities", "--virttype", virttype, "--machine", "q35"]);
  if (result.code !== 0) {
    return [{
      name: "machine options",
      ok: "warn",
      detail: `domcapabilities failed: ${result.stderr.trim()}`,
    }];
  }
  const caps = parseDomainCapabilities(result.stdout);
  const efi = caps.firmware.includes("efi");
  const tpm = caps.tpmBackends.includes("emulator");
  return [
    {
      name: "uefi",
      ok: efi ? true : "warn",
      detail: efi
        ? `OVMF found: firmware: efi works${caps.secureBoot ? ", with secureBoot" : ""}`
        : "no UEFI firmware: Domains with firmware: efi stay FirmwareNotFound",
      fix: efi ? undefined : "apt-get install ovmf",
    },
    {
      name: "tpm",
      ok: tpm ? true : "warn",
      detail: tpm ? "swtpm found: tpm works" : "no TPM emulator: Domains with tpm stay TpmUnavailable",
      fix: tpm ? undefined : "apt-get install swtpm swtpm-tools",
    },
  ];
}
