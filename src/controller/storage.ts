/** Pools and volume ownership, shared by the Box and Volume reconcilers. */
import type { Box, Volume } from "../api/types.ts";
import type { Libvirt } from "../libvirt/libvirt.ts";
import { parsePoolXml } from "../libvirt/xml/pool_xml.ts";
import { poolXml } from "../libvirt/xml/pool_xml.ts";
import { parseVolumeXml, type VolumeXmlState } from "../libvirt/xml/volume_xml.ts";
import { type ControllerContext, TerminalError, WaitingError } from "./context.ts";
import { blockingReferrers, removeFinalizer, writeStatus } from "./object_ops.ts";

/** Where lv creates the `default` pool when a host has none (libvirt's own default). */
export const DEFAULT_POOL_PATH = "/var/lib/libvirt/images";

/**
 * Makes sure a pool is there and running; returns its target path. The pool "default" is created as a dir
 * pool when missing (as vagrant-libvirt does); any other missing pool is an error naming the fix.
 */
export function ensurePool(lv: Libvirt, name: string): Promise<string> {
  // Reconcilers run concurrently: one check-and-create per connection and pool at a time.
  const locks = poolLocks.get(lv) ?? new Map<string, Promise<string>>();
  poolLocks.set(lv, locks);
  const next = (locks.get(name) ?? Promise.resolve("")).catch(() => "").then(() => ensurePoolNow(lv, name));
  locks.set(name, next);
  return next;
}

const poolLocks = new WeakMap<Libvirt, Map<string, Promise<string>>>();

async function ensurePoolNow(lv: Libvirt, name: string): Promise<string> {
  let pool = await lv.poolGet(name);
  if (!pool) {
    if (name !== "default") {
      throw new WaitingError(
        "PoolNotFound",
        `storage pool "${name}" does not exist on ${lv.uri}; create it (virsh pool-define-as ${name} dir --target /path; virsh pool-build ${name}; virsh pool-start ${name}) or use pool "default"`,
        10_000,
      );
    }
    await lv.poolDefine(poolXml({ name, path: DEFAULT_POOL_PATH }));
    pool = await lv.poolGet(name);
    if (!pool) {
      throw new WaitingError(
        "PoolVanished",
        `storage pool "${name}" disappeared from ${lv.uri} right after lv defined it (removed by someone else?); defining it again`,
        1000,
      );
    }
  }
  const path = parsePoolXml(pool.xml).path ?? DEFAULT_POOL_PATH;
  if (!pool.active) {
    // Building a dir pool that exists changes nothing; one lv defined but did not build (a crash) is built now.
    await lv.poolBuild(name);
    await lv.poolStart(name);
  }
  // The pool lv creates autostarts; finish that after a crash too.
  if (name === "default" && path === DEFAULT_POOL_PATH && !pool.autostart) await lv.poolAutostart(name);
  return path;
}

export type Claim =
  | { state: "absent" }
  | { state: "ours"; volume: VolumeXmlState }
  /** lv started creating it (recorded the intent) but did not finish: delete and create again. */
  | { state: "incomplete"; volume: VolumeXmlState };

/**
 * Whether the volume `name` in `pool` is lv's for this object. libvirt volumes carry no metadata, so the
 * object's status is the record: `pendingVolume` is written before vol-create and `volume` after the volume
 * is complete. A volume of that name with neither record was not made by lv: NameConflict.
 */
export async function claimVolume(
  lv: Libvirt,
  obj: Box | Volume,
  pool: string,
  name: string,
): Promise<Claim> {
  const xml = await lv.volGet(pool, name);
  if (xml === undefined) return { state: "absent" };
  const volume = parseVolumeXml(xml);
  if (obj.status.volume === name) return { state: "ours", volume };
  if (obj.kind === "Box" && obj.status.disks?.some((d) => d.volume === name)) {
    return { state: "ours", volume };
  }
  if (obj.status.pendingVolume === name) return { state: "incomplete", volume };
  throw new TerminalError(
    "NameConflict",
    `pool "${pool}" already has a volume "${name}" (${volume.path}) that lv did not create; lv will not modify or delete it. Rename this ${obj.kind} or remove that volume by hand.`,
  );
}

/** Records that lv is about to create `name`, before it does. */
export async function recordIntent(ctx: ControllerContext, obj: Box | Volume, name: string): Promise<void> {
  await writeStatus(ctx.store, obj, (status) => {
    status.pendingVolume = name;
  });
  obj.status.pendingVolume = name;
}

/**
 * The pool volumes lv recorded for an object, complete or being created: its volume, a Box's disks (each
 * its own volume) and a pending one. What deleting the object removes.
 */
export function recordedVolumes(obj: Box | Volume): string[] {
  const names = [
    obj.status.volume,
    ...(obj.kind === "Box" ? (obj.status.disks ?? []).map((d) => d.volume) : []),
    obj.status.pendingVolume,
  ];
  return [...new Set(names.filter((n): n is string => !!n))];
}

/**
 * Deletion of a Box's or Volume's pool volumes: waits for the objects still using it, deletes each volume
 * lv recorded for it ({@linkcode recordedVolumes}; not one a foreign volume took the name of), then lets
 * the object go.
 */
export async function deleteVolumeOf(
  ctx: ControllerContext,
  obj: Box | Volume,
  pool: string,
): Promise<void> {
  await blockingReferrers(ctx, obj, obj.kind);
  const lv = ctx.libvirtFor(obj);
  for (const name of recordedVolumes(obj)) {
    const claim = await claimVolume(lv, obj, pool, name).catch((e) => {
      if (e instanceof TerminalError) return { state: "foreign" }; // NameConflict: not ours to delete
      throw e;
    });
    if (claim.state === "ours" || claim.state === "incomplete") {
      await lv.volDelete(pool, name);
      await ctx.event(obj, "Normal", "Deleted", `volume "${name}" deleted from pool "${pool}"`);
    }
  }
  await removeFinalizer(ctx.store, obj);
}
