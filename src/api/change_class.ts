/**
 * Change classes: what changing a field does to what already runs. One table for `lv explain`, `lv diff`,
 * apply's refusal of immutable fields and the RestartRequired condition.
 *
 * - `live`: applied to what runs (a label, a DHCP reservation with net-update, a Volume grown with
 *   vol-resize, a running Domain's memory within its maximum (balloon) and vCPUs added within theirs, an
 *   interface's link state, the desired power state, how lv reaches the guest);
 * - `restart`: written to the persistent definition, taking effect at the next boot (a Domain gets
 *   RestartRequired=True naming the fields; `lv reload NAME` or `lv apply --restart` applies it); a Network
 *   is restarted by its controller (guests on it lose connectivity for a moment);
 * - `immutable`: refused by apply ("delete and re-create", or `lv apply --force`);
 * - `immutable-in-use`: immutable while a Domain uses the object (a Network's mode and address).
 *
 * Entries are by field path (`spec.disks` covers `spec.disks[].bus`); a field takes the class of the
 * nearest path in the table.
 *
 * @module
 */

import type { DomainSpec, Kind } from "./types.ts";

export type ChangeClass = "live" | "restart" | "immutable" | "immutable-in-use";

const COMMON: Record<string, ChangeClass> = {
  "metadata.labels": "live",
  "metadata.annotations": "live",
  "spec.context": "immutable",
};

/** The change class of each field path, by kind. */
export const CHANGE_CLASSES: Record<Kind, Record<string, ChangeClass>> = {
  Box: {
    ...COMMON,
    // A base volume already uploaded is kept: a changed source or checksum is taken by the next upload
    // (a catalog Box pins again; Volumes made before keep their base), so apply accepts it. A manifest
    // copied to another directory changes a relative source's absolute path and must still apply.
    "spec.source": "live",
    "spec.checksum": "live",
    // Pinned again: another version is uploaded beside the old one, which the overlays made on it keep.
    "spec.version": "live",
    "spec.pool": "immutable",
  },
  Volume: {
    ...COMMON,
    "spec.pool": "immutable",
    "spec.size": "live", // grown with vol-resize; shrinking is refused
    "spec.format": "immutable",
    "spec.backingBox": "immutable",
    "spec.backingBoxDisk": "immutable",
  },
  Network: {
    ...COMMON,
    "spec.mode": "immutable-in-use",
    "spec.ipv4": "immutable-in-use",
    "spec.bridge": "restart",
    "spec.dhcp": "restart",
    "spec.dhcp.hosts": "live", // net-update
    "spec.forwardDevice": "restart",
    "spec.domainName": "restart",
    "spec.autostart": "live",
  },
  Domain: {
    ...COMMON,
    "spec.box": "immutable",
    "spec.storagePoolName": "immutable",
    "spec.machineVirtualSize": "immutable",
    "spec.driver": "restart",
    // live within the maximum the domain runs with (domainChangeClass); beyond it at the next boot
    "spec.cpus": "live",
    "spec.maxVcpus": "restart",
    "spec.memory": "live",
    "spec.maxMemory": "restart",
    "spec.nested": "restart",
    "spec.volumeCache": "restart",
    "spec.disks": "restart",
    "spec.interfaces": "restart",
    "spec.interfaces.linkState": "live", // virsh domif-setlink
    "spec.managementNetwork": "restart",
    // Machine and devices (schema_machine.ts): written to the definition, taken at the next boot.
    "spec.machineType": "restart",
    "spec.firmware": "restart",
    "spec.secureBoot": "restart",
    "spec.cpu": "restart",
    "spec.bootOrder": "restart",
    "spec.memoryBacking": "restart",
    "spec.graphics": "restart",
    "spec.video": "restart",
    "spec.cdroms": "restart",
    "spec.tpm": "restart",
    "spec.rng": "restart",
    "spec.watchdog": "restart",
    "spec.inputs": "restart",
    "spec.hostDevices": "restart",
    "spec.hostname": "live", // set in the guest by the controller
    "spec.ssh": "live", // how lv reaches the guest
    "spec.provision": "live", // run on `lv provision` or the next boot (run: always)
    "spec.syncedFolders": "live", // synced on `lv rsync`, `lv up` and every boot
    "spec.state": "live",
    "spec.communicator": "live",
    "spec.gracefulHaltTimeout": "live",
    "spec.cloudInit": "restart", // a new seed (new instance-id) read by cloud-init at the next boot
  },
};

/** What each class means, for `lv explain` and `lv diff`. */
export const CHANGE_CLASS_TEXT: Record<ChangeClass, string> = {
  live: "applied live",
  restart: "applied at the next boot (RestartRequired; lv reload or lv apply --restart)",
  immutable: "immutable: delete and re-create (or lv apply --force)",
  "immutable-in-use": "immutable while Domains use it: delete and re-create (or lv apply --force)",
};

/**
 * What a change of class `cls` does to the field at `path` of an object of `kind` (a Network is restarted,
 * not rebooted; a Volume only grows).
 */
export function changeClassText(kind: Kind, cls: ChangeClass, path = ""): string {
  if (kind === "Volume" && path === "spec.size") {
    return "applied live: grown with vol-resize; shrinking is refused";
  }
  if (kind === "Domain" && cls === "live" && path === "spec.memory") {
    return "applied live within spec.maxMemory (the balloon, virsh setmem); beyond it at the next boot (RestartRequired; lv reload or lv apply --restart)";
  }
  if (kind === "Domain" && cls === "live" && path === "spec.cpus") {
    return "vCPUs added live within spec.maxVcpus (hot-plug, virsh setvcpus); fewer, or beyond it, at the next boot (RestartRequired; lv reload or lv apply --restart)";
  }
  if (kind === "Network" && cls === "restart") {
    return "applied by restarting the network (guests on it lose connectivity for a moment)";
  }
  if (kind === "Network" && cls === "immutable-in-use") {
    return "applied by restarting the network while no Domain uses it; immutable while Domains use it: delete and re-create (or lv apply --force)";
  }
  return CHANGE_CLASS_TEXT[cls];
}

/** Drops list indexes: `spec.disks[2].bus` and `spec.disks[].bus` are `spec.disks.bus`. */
function plain(path: string): string {
  return path.replace(/\[[^\]]*\]/g, "");
}

/**
 * The class of the field at `path` (`spec.memory`, `spec.interfaces[0].ip`), from the nearest entry;
 * undefined when no entry covers it.
 */
export function changeClassOf(kind: Kind, path: string): ChangeClass | undefined {
  const table = CHANGE_CLASSES[kind];
  const parts = plain(path).split(".");
  for (let n = parts.length; n > 0; n--) {
    const found = table[parts.slice(0, n).join(".")];
    if (found) return found;
  }
  return undefined;
}

/**
 * The class of a change of a Domain's field from `before` to `after`: memory within the maximum the
 * domain runs with (`before`'s maxMemory, else its memory) and vCPUs added within theirs are live; memory
 * beyond it and fewer vCPUs (QEMU cannot unplug them from every guest) wait for the next boot.
 */
export function domainChangeClass(
  path: string,
  before: DomainSpec,
  after: DomainSpec,
): ChangeClass | undefined {
  if (path === "spec.memory") {
    return after.memory <= (before.maxMemory ?? before.memory) ? "live" : "restart";
  }
  if (path === "spec.cpus") {
    return after.cpus > before.cpus && after.cpus <= (before.maxVcpus ?? before.cpus) ? "live" : "restart";
  }
  return changeClassOf("Domain", path);
}

/** For a Network class: which classes refuse a change, given whether Domains use the object. */
export function refuses(cls: ChangeClass | undefined, inUse: boolean): boolean {
  return cls === "immutable" || (cls === "immutable-in-use" && inUse);
}
