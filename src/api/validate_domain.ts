/**
 * Rules of a Domain that relate its fields: interfaces (network or dev,
 * unique MACs and IPs), disks (unique devices and volumes, default device
 * names after the box overlay), box-only fields, provisioners by type, unique synced folder targets (and the folders' own rules: validate_folders.ts).
 *
 * @module
 */

import { assignDiskDevices, BOX_DISK_DEVICE, DEFAULT_MACVTAP_MODE } from "./defaults.ts";
import type { PathSegment, ProblemCollector } from "./problem.ts";
import type { Domain, DomainDisk } from "./types.ts";
import type { Loose } from "./loose.ts";
import { checkMachine } from "./validate_machine.ts";
import { checkProvisioners } from "./validate_provision.ts";
import { checkCloudInit } from "./validate_cloud_init.ts";
import { checkFolders } from "./validate_folders.ts";

/** Reports the second and later occurrences of a value as duplicates. */
class Unique {
  readonly #seen = new Map<string, string>();
  constructor(readonly r: ProblemCollector) {}
  check(value: string | undefined, path: PathSegment[], where: string, what = "must be unique"): void {
    if (value === undefined) return;
    const first = this.#seen.get(value);
    if (first === undefined) this.#seen.set(value, where);
    else this.r.report(path, { message: what, value, hint: `also in ${first}` });
  }
}

/** Checks a walked Domain and fills in interface modes and disk device names. */
export function checkDomain(domain: Loose<Domain>, r: ProblemCollector): void {
  const spec = domain.spec;
  if (spec === undefined) return;
  const name = domain.metadata?.name;

  const macs = new Unique(r);
  const ips = new Unique(r);
  (spec.interfaces ?? []).forEach((itf, i) => {
    if (itf === undefined) return;
    const path: PathSegment[] = ["spec", "interfaces", i];
    const onNetwork = itf.network !== undefined || itf.libvirtNetwork !== undefined ||
      itf.bridge !== undefined;
    if (itf.dev !== undefined && !onNetwork) {
      itf.mode ??= DEFAULT_MACVTAP_MODE;
    } else if (onNetwork && itf.mode !== undefined) {
      r.report([...path, "mode"], {
        message: "applies only to public interfaces (dev), not to an interface on a network or bridge",
        value: itf.mode,
      });
    }
    macs.check(itf.mac, [...path, "mac"], `interfaces[${i}]`);
    ips.check(itf.ip, [...path, "ip"], `interfaces[${i}]`);
    if (itf.prefix !== undefined && itf.ip === undefined) {
      r.report([...path, "prefix"], { message: "applies only with a static ip", value: itf.prefix });
    }
  });

  const disks = spec.disks ?? [];
  const devices = new Unique(r);
  const volumes = new Unique(r);
  if (spec.box !== undefined) devices.check(BOX_DISK_DEVICE, [], "the box overlay");
  disks.forEach((disk, i) => {
    if (disk === undefined) return;
    const path: PathSegment[] = ["spec", "disks", i];
    devices.check(disk.device, [...path, "device"], `disks[${i}]`);
    volumes.check(disk.volume, [...path, "volume"], `disks[${i}]`, "must not be attached twice");
    if (spec.box !== undefined && name !== undefined && disk.volume === name) {
      r.report([...path, "volume"], {
        message:
          `is the name of this domain's box overlay volume (a Domain with box owns a Volume named after it)`,
        value: disk.volume,
        hint: "name the extra volume differently, or drop box",
      });
    }
  });
  if (!r.reported(["spec", "disks"])) {
    spec.disks = assignDiskDevices(disks as Loose<DomainDisk>[], {
      taken: spec.box !== undefined ? [BOX_DISK_DEVICE] : [],
    });
  }

  checkMachine(spec, r, [
    ...(spec.box !== undefined ? [BOX_DISK_DEVICE] : []),
    ...(spec.disks ?? []).flatMap((d) => d?.device !== undefined ? [d.device] : []),
  ]);

  if (spec.box === undefined && spec.machineVirtualSize !== undefined) {
    r.report(["spec", "machineVirtualSize"], {
      message: "applies only with box (it sizes the box overlay)",
      key: true,
    });
  }

  checkProvisioners(spec, r);

  const targets = new Unique(r);
  (spec.syncedFolders ?? []).forEach((folder, i) => {
    if (folder === undefined) return;
    targets.check(folder.target, ["spec", "syncedFolders", i, "target"], `syncedFolders[${i}]`);
  });
  checkFolders(spec, r);
  checkCloudInit(spec.cloudInit, r);
}
