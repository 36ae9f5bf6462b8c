/**
 * Default values of every resource field, in one place. The field table in
 * `schema.ts` uses these constants (so `lv explain` and the JSON Schema show
 * them), the validator applies them; the defaults that depend on other fields
 * (the DHCP range, disk device names) are computed here.
 *
 * Values follow vagrant-libvirt where it has the option.
 *
 * @module
 */

import type { DomainDisk } from "./types.ts";
import { formatIPv4, parseIPv4, subnetOf } from "./validate_ipv4.ts";

/** metadata.namespace. */
export const DEFAULT_NAMESPACE = "default";
/** Box.pool, Volume.pool and Domain.storagePoolName (vagrant-libvirt storage_pool_name). */
export const DEFAULT_POOL = "default";
/** Volume.format. */
export const DEFAULT_VOLUME_FORMAT = "qcow2";

/** Network.mode (vagrant-libvirt forward_mode). */
export const DEFAULT_NETWORK_MODE = "nat";
/** Network.ipv4.prefix when neither prefix nor netmask is given. */
export const DEFAULT_PREFIX = 24;
/** Network.dhcp.enabled. */
export const DEFAULT_DHCP_ENABLED = true;
/** Network.autostart. */
export const DEFAULT_AUTOSTART = true;

/** Domain.cpus (vagrant-libvirt cpus). */
export const DEFAULT_CPUS = 1;
/** Domain.memory in MiB (vagrant-libvirt memory). */
export const DEFAULT_MEMORY_MIB = 512;
/** Domain.nested. */
export const DEFAULT_NESTED = false;
/** Domain.volumeCache (vagrant-libvirt volume_cache). */
export const DEFAULT_VOLUME_CACHE = "default";
/** Domain.state. */
export const DEFAULT_STATE = "Running";
/** Domain.disks[].bus. */
export const DEFAULT_DISK_BUS = "virtio";
/** Domain.interfaces[].model (vagrant-libvirt nic_model_type). */
export const DEFAULT_NIC_MODEL = "virtio";
/** Domain.interfaces[].mode for public (dev) interfaces. */
export const DEFAULT_MACVTAP_MODE = "bridge";

/** Domain.ssh.user. */
export const DEFAULT_SSH_USER = "vagrant";
/** Domain.ssh.port. */
export const DEFAULT_SSH_PORT = 22;

/** Domain.provision[].type. */
export const DEFAULT_PROVISIONER = "shell";
/** Domain.provision[].privileged (run with sudo). */
export const DEFAULT_PRIVILEGED = true;
/** Domain.provision[].run. */
export const DEFAULT_PROVISION_RUN = "once";
/** Domain.provision[].provisioningPath (ansible_local; Vagrant's). */
export const DEFAULT_ANSIBLE_LOCAL_PATH = "/vagrant";
/** Domain.provision[].manifestFile (puppet; Vagrant's). */
export const DEFAULT_PUPPET_MANIFEST = "default.pp";
/** Domain.provision[].logLevel (salt). */
export const DEFAULT_SALT_LOG_LEVEL = "warning";
/** Domain.provision[].containers[].restart (docker, podman; Vagrant's). */
export const DEFAULT_CONTAINER_RESTART = "always";
/** Domain.syncedFolders[].type. */
export const DEFAULT_SYNCED_FOLDER_TYPE = "rsync";

/**
 * The DHCP range a network gets when it names none: from the network address
 * plus 2 to the broadcast address minus 1 (`.2`–`.254` of a /24; `.1` is
 * usually the host). Undefined when the address is not IPv4 or the subnet is
 * too small to have such a range (/31, /32).
 */
export function defaultDhcpRange(
  address: string,
  prefix: number,
): { start: string; end: string } | undefined {
  const ip = parseIPv4(address);
  if (ip === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 30) return undefined;
  const subnet = subnetOf(ip, prefix);
  const start = subnet.network + 2;
  const end = subnet.broadcast - 1;
  if (start > end) return undefined;
  return { start: formatIPv4(start), end: formatIPv4(end) };
}

/** Device name prefix for a disk bus: vd (virtio), sd (sata, scsi), hd (ide). */
export function devicePrefix(bus: DomainDisk["bus"]): string {
  return bus === "virtio" ? "vd" : bus === "ide" ? "hd" : "sd";
}

/** The n-th (0-based) device name with `prefix`: vda … vdz, vdaa, vdab, … */
export function deviceName(prefix: string, index: number): string {
  let suffix = "";
  let n = index;
  do {
    suffix = String.fromCharCode(97 + (n % 26)) + suffix;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return prefix + suffix;
}

/** Options for {@linkcode assignDiskDevices}. */
export interface AssignDiskDevicesOptions {
  /** Device names already taken, e.g. `vda` for the box overlay. Default none. */
  taken?: Iterable<string>;
}

/**
 * Fills in `device` for disks that have none, in order, with the first name
 * for their bus that no other disk (or `taken`) uses: with a box, the overlay
 * is vda and the first virtio disk becomes vdb. Returns new disk objects.
 */
export function assignDiskDevices<D extends { device?: string; bus?: DomainDisk["bus"] }>(
  disks: readonly D[],
  options: AssignDiskDevicesOptions = {},
): D[] {
  const used = new Set<string>(options.taken ?? []);
  for (const d of disks) if (d.device !== undefined) used.add(d.device);
  return disks.map((d) => {
    if (d.device !== undefined || d.bus === undefined) return d;
    const prefix = devicePrefix(d.bus);
    let i = 0;
    while (used.has(deviceName(prefix, i))) i++;
    const device = deviceName(prefix, i);
    used.add(device);
    return { ...d, device };
  });
}

/** Device name of the box overlay disk when a Domain has `box`. */
export const BOX_DISK_DEVICE = "vda";

/** Domain.managementNetwork when neither the Domain nor its context names one: libvirt's own network. */
export const DEFAULT_MANAGEMENT_NETWORK = "default";
/** Domain.managementNetwork value that opts out of the management interface. */
export const NO_MANAGEMENT_NETWORK = "none";
/** Domain.machineType (vagrant-libvirt machine_type; libvirt expands it to the newest versioned name). */
export const DEFAULT_MACHINE_TYPE = "pc";
/** Domain.firmware. */
export const DEFAULT_FIRMWARE = "bios";
/** Domain.graphics.type: headless (the serial console is the console; vagrant-libvirt's default is vnc). */
export const DEFAULT_GRAPHICS_TYPE = "none";
/** Domain.graphics.listen (vagrant-libvirt graphics_ip). */
export const DEFAULT_GRAPHICS_LISTEN = "127.0.0.1";
/** Domain.video.model when graphics is on (vagrant-libvirt video_type). */
export const DEFAULT_VIDEO_MODEL = "cirrus";
/** Domain.video.vram in KiB (vagrant-libvirt video_vram). */
export const DEFAULT_VIDEO_VRAM_KIB = 16384;
/** Domain.cdroms[].bus: SATA works on both pc and q35 (q35 has no IDE). */
export const DEFAULT_CDROM_BUS = "sata";
/** Domain.tpm.model (vagrant-libvirt tpm_model). */
export const DEFAULT_TPM_MODEL = "tpm-tis";
/** Domain.tpm.version. */
export const DEFAULT_TPM_VERSION = "2.0";
/** Domain.rng.backend. */
export const DEFAULT_RNG_BACKEND = "/dev/urandom";
/** Domain.watchdog.model (vagrant-libvirt watchdog). */
export const DEFAULT_WATCHDOG_MODEL = "i6300esb";
/** Domain.watchdog.action. */
export const DEFAULT_WATCHDOG_ACTION = "reset";
/** Domain.inputs[].bus. */
export const DEFAULT_INPUT_BUS = "usb";
