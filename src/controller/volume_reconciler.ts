/** Volume: a blank disk, or a copy-on-write qcow2 overlay on a Box. */
import type { Box, BoxDiskStatus, Volume } from "../api/types.ts";
import { boxDisks } from "../api/box_volumes.ts";
import { isTrue } from "../api/conditions.ts";
import { parseVolumeXml, volumeXml } from "../libvirt/xml/volume_xml.ts";
import { type ControllerContext, TerminalError, WaitingError } from "./context.ts";
import { kindReconciler } from "./kind_reconciler.ts";
import { setReady } from "./object_ops.ts";
import { claimVolume, deleteVolumeOf, ensurePool, recordIntent } from "./storage.ts";

export const volumeReconciler = kindReconciler<Volume>({
  kind: "Volume",
  reconcileDelete: (vol, ctx) => deleteVolumeOf(ctx, vol, vol.spec.pool),
  async reconcileNormal(vol, ctx) {
    const lv = ctx.libvirtFor(vol);
    const pool = vol.spec.pool;
    const name = vol.metadata.name;
    await ensurePool(lv, pool);

    let backing: Box | undefined;
    if (vol.spec.backingBox) {
      backing = await ctx.store.get({
        kind: "Box",
        namespace: vol.metadata.namespace,
        name: vol.spec.backingBox,
      }) as
        | Box
        | undefined;
      if (!backing || !isTrue(backing.status, "Ready") || !backing.status.path) {
        throw new WaitingError("WaitingForBox", `waiting for box/${vol.spec.backingBox} to be uploaded`);
      }
    }
    const onBox = backing && { box: backing, disk: boxDisk(backing, vol.spec.backingBoxDisk ?? 1) };

    let claim = await claimVolume(lv, vol, pool, name);
    if (claim.state === "incomplete") {
      // Created before a crash but never recorded complete: an empty overlay or blank disk, safe to redo.
      await lv.volDelete(pool, name);
      claim = { state: "absent" };
    }
    if (claim.state === "absent") {
      await createVolume(ctx, vol, onBox);
    } else if (vol.spec.size && vol.spec.size > claim.volume.capacity) {
      await lv.volResize(pool, name, vol.spec.size);
      await ctx.event(vol, "Normal", "Resized", `volume "${name}" grown to ${vol.spec.size} bytes`);
    }

    const state = parseVolumeXml((await lv.volGet(pool, name)) ?? "");
    const shrink = vol.spec.size && vol.spec.size < state.capacity;
    await setReady(
      ctx.store,
      vol,
      {
        status: "True",
        reason: "Created",
        phase: "Ready",
        message: shrink
          ? `size ${vol.spec.size} is below the volume's ${state.capacity} bytes: volumes only grow`
          : "",
      },
      (status) => {
        delete status.pendingVolume;
        status.volume = name;
        status.path = state.path;
        status.capacity = state.capacity;
        status.backingStore = state.backingStore?.path;
      },
    );
  },
});

/** Creates the volume: a blank disk, or an overlay on its disk of the (uploaded) backing Box. */
async function createVolume(
  ctx: ControllerContext,
  vol: Volume,
  backingBox: { box: Box; disk: BoxDiskStatus } | undefined,
): Promise<void> {
  const lv = ctx.libvirtFor(vol);
  const { pool, format } = vol.spec;
  const name = vol.metadata.name;
  const backing = backingBox?.box;
  const backingDisk = backingBox?.disk;
  const capacity = Math.max(vol.spec.size ?? 0, backingDisk?.virtualSize ?? 0);
  await recordIntent(ctx, vol, name);
  await lv.volCreate(
    pool,
    volumeXml({
      name,
      capacityBytes: capacity,
      format,
      backingPath: backingDisk?.path,
      backingFormat: backingDisk?.format,
    }),
  );
  const which = backing?.status.disks && backing.status.disks.length > 1
    ? ` disk ${vol.spec.backingBoxDisk ?? 1}`
    : "";
  await ctx.event(
    vol,
    "Normal",
    "Created",
    backing
      ? `overlay "${name}" on box/${backing.metadata.name}${which} created in pool "${pool}"`
      : `volume "${name}" (${capacity} bytes) created in pool "${pool}"`,
  );
}

/** Disk `n` (1-based) of an uploaded Box; a box from before multi-disk support records only disk 1. */
export function boxDisk(box: Box, n: number): BoxDiskStatus {
  const disks = boxDisks(box);
  const disk = disks[n - 1];
  if (!disk) {
    throw new TerminalError(
      "NoSuchBoxDisk",
      `box/${box.metadata.name} has ${disks.length} disk${
        disks.length === 1 ? "" : "s"
      }; backingBoxDisk ${n} does not exist`,
    );
  }
  return disk;
}
