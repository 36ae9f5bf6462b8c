/**
 * Where a Domain's serial console is logged for `lv logs` (lines from boot, readable when SSH never comes up):
 * - libvirt on this machine: `$LV_HOME/logs/NAME-serial0.log`, in a directory lv makes (0700) before libvirt's
 *   log daemon opens the file; lv reads the file.
 * - libvirt on another host: the volume `NAME-serial0.log` in the Domain's pool (a directory pool), which lv
 *   creates empty before the definition names its path; that host's log daemon appends to it, and lv reads
 *   it with `vol-download` and deletes it with the Domain. Another host's files are reached only through
 *   libvirt, with the connection's own rights.
 *
 * @module
 */

import { dirname, join } from "node:path";
import type { Domain } from "../../api/types.ts";
import type { Libvirt } from "../../libvirt/libvirt.ts";
import { parsePoolXml } from "../../libvirt/xml/pool_xml.ts";
import { parseVolumeXml, volumeXml } from "../../libvirt/xml/volume_xml.ts";
import type { ControllerContext } from "../context.ts";
import { ensurePool } from "../storage.ts";

/** Whether the connection's libvirt runs on this machine (its files are ours to look at). */
export function isLocal(uri: string): boolean {
  return !/^[a-z0-9+]+:\/\/[^/]/i.test(uri);
}

/** Pool types whose volumes are files a log daemon can append to. */
const FILE_POOL_TYPES = new Set(["dir", "fs", "netfs"]);

/** Name of the volume holding the serial log of domain `name` on a remote host. */
export function serialLogVolume(name: string): string {
  return `${name}-serial0.log`;
}

/**
 * The file the serial console of domain `name` is logged to where libvirt runs on this machine; undefined
 * for another host (see {@linkcode ensureSerialLog}).
 */
export function serialLogPath(uri: string, home: string, name: string): string | undefined {
  return isLocal(uri) ? join(home, "logs", `${name}-serial0.log`) : undefined;
}

/** Makes the local log's directory (0700); the path when that works, else undefined (no log). */
async function localLog(path: string): Promise<string | undefined> {
  try {
    await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
    return path;
  } catch {
    return undefined;
  }
}

/** The remote log volume, created empty when missing; its path, or undefined where the pool holds no files. */
async function remoteLog(lv: Libvirt, dom: Domain): Promise<string | undefined> {
  const pool = dom.spec.storagePoolName;
  let info = await lv.poolGet(pool);
  if (!info) {
    try {
      await ensurePool(lv, pool);
    } catch {
      return undefined; // a pool lv cannot make: the Domain runs without a log rather than wait for one
    }
    info = await lv.poolGet(pool);
  }
  if (!info || !FILE_POOL_TYPES.has(parsePoolXml(info.xml).type)) return undefined;
  const name = serialLogVolume(dom.metadata.name);
  let xml = await lv.volGet(pool, name);
  if (xml === undefined) {
    await lv.volCreate(pool, volumeXml({ name, capacityBytes: 0, format: "raw" }));
    xml = await lv.volGet(pool, name);
  }
  return xml === undefined ? undefined : parseVolumeXml(xml).path;
}

/** Where the definition logs the serial console (made ready for libvirt's log daemon); undefined: no log. */
export async function ensureSerialLog(ctx: ControllerContext, dom: Domain): Promise<string | undefined> {
  const lv = ctx.libvirtFor(dom);
  const local = serialLogPath(lv.uri, ctx.home, dom.metadata.name);
  return local !== undefined ? await localLog(local) : await remoteLog(lv, dom);
}

/** With the Domain: its serial log goes (the file here, or the volume on the remote host). */
export async function removeSerialLog(ctx: ControllerContext, lv: Libvirt, dom: Domain): Promise<void> {
  const local = serialLogPath(lv.uri, ctx.home, dom.metadata.name);
  if (local !== undefined) await Deno.remove(local).catch(() => {});
  else await lv.volDelete(dom.spec.storagePoolName, serialLogVolume(dom.metadata.name));
}
