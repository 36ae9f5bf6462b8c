/** lv doctor's checks of the machine options a host supports (OVMF, swtpm) and of the context's pool. */
import { poolPathFor } from "../controller/pool_paths.ts";
import { parseDomainCapabilities } from "../libvirt/xml/capabilities_xml.ts";
import { parsePoolXml } from "../libvirt/xml/pool_xml.ts";
import type { Check } from "./doctor_check.ts";
import type { Runtime } from "./runtime.ts";

export { isSessionUri as isSession } from "../libvirt/session_uri.ts";
import { isSessionUri as isSession } from "../libvirt/session_uri.ts";
import { opensReadWrite } from "../api/file_access.ts";

/** Which kind of libvirt connection applies: system (root libvirtd) or session (rootless). */
export function modeCheck(uri: string): Check {
  if (isSession(uri)) {
    return {
      name: "mode",
      ok: "warn",
      detail:
        `${uri}: rootless session: QEMU runs as you, pools are created under ~/.local/share/lv; the management interface is QEMU's user-mode network with the guest's SSH forwarded to a port on 127.0.0.1; no libvirt networks (lv's Networks and libvirtNetwork need qemu:///system)`,
      fix:
        "interfaces: [{bridge: virbr0}] reach a host bridge through qemu-bridge-helper (see bridge helper)",
    };
  }
  return { name: "mode", ok: true, detail: `${uri}: system libvirtd (root)` };
}

/** Where Debian's QEMU keeps the bridge helper and its access list, and the TUN device it opens. */
export const BRIDGE_HELPER = {
  helper: "/usr/lib/qemu/qemu-bridge-helper",
  conf: "/etc/qemu/bridge.conf",
  tun: "/dev/net/tun",
};

/**
 * qemu-bridge-helper, which attaches a rootless session's `bridge:` interfaces to a host bridge: it must be
 * setuid root, /etc/qemu/bridge.conf must allow the bridge (`allow virbr0`, or `allow all`), and the user
 * must be able to open /dev/net/tun (the helper gives up root but CAP_NET_ADMIN before opening it).
 */
export async function bridgeHelperCheck(paths = BRIDGE_HELPER): Promise<Check> {
  const name = "bridge helper";
  const info = await Deno.stat(paths.helper).catch(() => undefined);
  if (!info?.isFile) {
    return {
      name,
      ok: "warn",
      detail: `${paths.helper} not found`,
      fix: "apt-get install qemu-system-common",
    };
  }
  const conf = await Deno.readTextFile(paths.conf).catch(() => "");
  const allowed = [...conf.matchAll(/^\s*allow\s+(\S+)/gm)].map((m) => m[1]);
  const setuid = ((info.mode ?? 0) & 0o4000) !== 0 && info.uid === 0;
  const missing: string[] = [];
  const fixes: string[] = [];
  if (!setuid) {
    missing.push("is not setuid root");
    fixes.push(`sudo chmod u+s ${paths.helper}`);
  }
  if (allowed.length === 0) {
    missing.push(`${paths.conf} allows no bridge`);
    fixes.push(`echo 'allow virbr0' | sudo tee -a ${paths.conf}`);
  }
  if (!opensReadWrite(paths.tun)) { // the helper opens it as the caller, with CAP_NET_ADMIN only
    missing.push(`cannot open ${paths.tun} as you`);
    fixes.push(`sudo chmod 0666 ${paths.tun}`);
  }
  if (missing.length > 0) {
    return {
      name,
      ok: "warn",
      detail: `${paths.helper} ${missing.join("; ")}: bridge: interfaces cannot start on this session`,
      fix: fixes.join("; "),
    };
  }
  return { name, ok: true, detail: `bridge: interfaces work for ${allowed.join(", ")} (${paths.helper})` };
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
