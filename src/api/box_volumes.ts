/**
 * The names of the volumes that come from Boxes, in one place: the pool volumes a Box's disks are uploaded
 * to (`box-NAME`, `box-NAME-2`, ...) and the overlay Volumes a Domain's `box:` shortcut makes (`DOMAIN`,
 * `DOMAIN-disk2`, ...), and the disks a Box recorded as uploaded.
 */
import type { Box, BoxDiskStatus } from "./types.ts";

/** Every pool volume a Box uploads starts so; `lv box list` counts others of that name as orphans. */
export const BOX_VOLUME_PREFIX = "box-";

/** The pool volume of disk `n` (1-based) of the Box `boxName`: box-NAME for the first, box-NAME-N after. */
export function boxPoolVolumeName(boxName: string, n = 1): string {
  return n === 1 ? `${BOX_VOLUME_PREFIX}${boxName}` : `${BOX_VOLUME_PREFIX}${boxName}-${n}`;
}

/** Which disk (1-based) of the Box `boxName` the pool volume `volume` holds, read from its name. */
export function boxPoolVolumeDisk(boxName: string, volume: string): number {
  const m = volume.slice(boxPoolVolumeName(boxName).length).match(/^-(\d+)$/);
  return m ? Number(m[1]) : 1;
}

/** Whether `volume` is named as a disk of the Box `boxName` (box-NAME or box-NAME-N). */
export function isBoxPoolVolumeOf(boxName: string, volume: string): boolean {
  const first = boxPoolVolumeName(boxName);
  return volume === first || (volume.startsWith(`${first}-`) && /^-\d+$/.test(volume.slice(first.length)));
}

/** Whether a pool volume has the name of one a Box uploads. */
export function isBoxPoolVolume(volume: string): boolean {
  return volume.startsWith(BOX_VOLUME_PREFIX);
}

/**
 * The disks lv recorded as uploaded for a Box, in order. A Box uploaded before lv knew several disks
 * records only `volume`, `path`, `format` and `virtualSize`: that is its one disk.
 */
export function boxDisks(box: Box): BoxDiskStatus[] {
  if (box.status.disks) return box.status.disks;
  if (!box.status.volume) return [];
  return [{
    volume: box.status.volume,
    path: box.status.path ?? "",
    format: box.status.format ?? "qcow2",
    virtualSize: box.status.virtualSize ?? 0,
  }];
}

/** The Volume a Domain's `box:` shortcut creates is named after the domain. */
export function boxVolumeName(domainName: string): string {
  return domainName;
}

/**
 * The Volume of disk `n` (1-based) of a multi-disk box under a Domain's `box:` shortcut: the first is
 * named after the domain, the others `<domain>-disk2`, `<domain>-disk3`, ...
 */
export function boxOverlayName(domainName: string, n: number): string {
  return n === 1 ? boxVolumeName(domainName) : `${domainName}-disk${n}`;
}
