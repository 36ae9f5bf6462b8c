/** Box: a base image uploaded once into a pool, shared read-only by the Volumes backed by it. */
import { join } from "node:path";
import { boxDisks, boxPoolVolumeDisk, boxPoolVolumeName } from "../api/box_volumes.ts";
import type { Box, BoxDiskStatus } from "../api/types.ts";
import { type BoxDiskImage, BoxSourceError, resolveBoxSource } from "../box/box_source.ts";
import { parseVolumeXml, volumeXml } from "../libvirt/xml/volume_xml.ts";
import { type ControllerContext, TerminalError } from "./context.ts";
import { kindReconciler } from "./kind_reconciler.ts";
import { setReady, writeStatus } from "./object_ops.ts";
import { claimVolume, deleteVolumeOf, ensurePool, recordIntent } from "./storage.ts";

export const boxReconciler = kindReconciler<Box>({
  kind: "Box",
  reconcileDelete: (box, ctx) => deleteVolumeOf(ctx, box, box.spec.pool),
  async reconcileNormal(box, ctx) {
    await ensurePool(ctx.libvirtFor(box), box.spec.pool);
    // Uploaded completely before (status.volume is written last): only look that every disk is still there.
    if (box.status.volume && await stillUploaded(ctx, box)) return;
    let image;
    try {
      image = await resolveBoxSource(box.spec.source, box.spec.checksum, {
        cacheDir: join(ctx.home, "cache"),
        progress: (line) => ctx.event(box, "Normal", "Downloading", line),
        onTransfer: ctx.transfer && ((p) => ctx.transfer!(box, p)),
      });
    } catch (e) {
      if (e instanceof BoxSourceError) throw new TerminalError("InvalidSource", e.message);
      throw e;
    }
    let disks = boxDisks(box);
    for (const [i, disk] of image.disks.entries()) {
      disks = await uploadDisk(ctx, box, { disks, disk, n: i + 1, count: image.disks.length });
    }
    const first = disks[0];
    const usedBy = await usersOf(ctx, box);
    await setReady(ctx.store, box, { status: "True", reason: "Uploaded", phase: "Ready" }, (status) => {
      status.volume = first.volume;
      status.path = first.path;
      status.format = first.format;
      status.virtualSize = first.virtualSize;
      status.disks = disks;
      status.sha256 = image.sha256;
      if (image.privateKey) status.privateKey = image.privateKey;
      status.usedBy = usedBy;
    });
  },
});

/** A Box uploaded before whose every disk is still in its pool: Ready again, true. False: upload again. */
async function stillUploaded(ctx: ControllerContext, box: Box): Promise<boolean> {
  const lv = ctx.libvirtFor(box);
  const recorded = boxDisks(box);
  const paths: string[] = [];
  for (const disk of recorded) {
    const claim = await claimVolume(lv, box, box.spec.pool, disk.volume);
    if (claim.state !== "ours") break;
    paths.push(claim.volume.path);
  }
  if (paths.length !== recorded.length) return false;
  const usedBy = await usersOf(ctx, box);
  await setReady(ctx.store, box, { status: "True", reason: "Uploaded", phase: "Ready" }, (status) => {
    status.path = paths[0];
    status.disks = recorded.map((d, i) => ({ ...d, path: paths[i] }));
    status.usedBy = usedBy;
  });
  return true;
}

/**
 * Uploads disk `n` of `count` of the box image to its pool volume unless it is there from before; returns
 * the disks recorded after it. The record is written before (intent) and after (done) the upload.
 */
async function uploadDisk(
  ctx: ControllerContext,
  box: Box,
  step: { disks: BoxDiskStatus[]; disk: BoxDiskImage; n: number; count: number },
): Promise<BoxDiskStatus[]> {
  const { disk, n, count } = step;
  const lv = ctx.libvirtFor(box);
  const pool = box.spec.pool;
  const name = boxPoolVolumeName(box.metadata.name, n);
  const claim = await claimVolume(lv, box, pool, name);
  if (claim.state === "ours" && step.disks.some((d) => d.volume === name)) return step.disks; // uploaded before
  // An interrupted upload: the volume's content cannot be trusted.
  if (claim.state === "incomplete") await lv.volDelete(pool, name);
  // Until every disk is there again, the box is not complete: no record may call this volume done.
  let disks = step.disks.filter((d) => d.volume !== name);
  const of = count > 1 ? ` (disk ${n} of ${count})` : "";
  await setReady(ctx.store, box, {
    status: "False",
    reason: "Uploading",
    message: `uploading ${disk.path} (${disk.format})${of} to pool "${pool}"`,
    phase: "Uploading",
  }, (status) => {
    delete status.volume;
    status.disks = disks;
  });
  box.status.volume = undefined;
  box.status.disks = disks;
  await recordIntent(ctx, box, name);
  await lv.volCreate(pool, volumeXml({ name, capacityBytes: disk.virtualSize, format: disk.format }));
  const started = Date.now();
  await upload(ctx, box, { pool, name, file: disk.path });
  const seconds = (Date.now() - started) / 1000;
  const uploaded = parseVolumeXml((await lv.volGet(pool, name)) ?? "");
  const byDisk = (a: BoxDiskStatus, b: BoxDiskStatus) =>
    boxPoolVolumeDisk(box.metadata.name, a.volume) - boxPoolVolumeDisk(box.metadata.name, b.volume);
  disks = [...disks, {
    volume: name,
    path: uploaded.path,
    format: disk.format,
    virtualSize: disk.virtualSize,
  }]
    .sort(byDisk);
  await writeStatus(ctx.store, box, (status) => {
    delete status.pendingVolume;
    status.disks = disks;
  });
  box.status.pendingVolume = undefined;
  box.status.disks = disks;
  await ctx.event(
    box,
    "Normal",
    "Uploaded",
    `${disk.path}${of} uploaded to pool "${pool}" as "${name}" in ${seconds.toFixed(1)}s`,
  );
  return disks;
}

/** vol-upload, with its byte progress shown through ctx.transfer; a failed upload says where it stopped. */
async function upload(
  ctx: ControllerContext,
  box: Box,
  what: { pool: string; name: string; file: string },
): Promise<void> {
  const lv = ctx.libvirtFor(box);
  const show = ctx.transfer;
  if (!show) return await lv.volUpload(what.pool, what.name, what.file);
  const label = what.name;
  let last = { done: 0, total: undefined as number | undefined };
  try {
    await lv.volUpload(what.pool, what.name, what.file, {
      onProgress: (done, total) => {
        last = { done, total };
        show(box, { direction: "upload", label, done, total });
      },
    });
  } catch (e) {
    show(box, { direction: "upload", label, ...last, finished: true, ok: false });
    throw e;
  }
  show(box, { direction: "upload", label, ...last, finished: true, ok: true });
}

async function usersOf(ctx: ControllerContext, box: Box): Promise<string[]> {
  return (await ctx.store.list("Volume", { namespace: box.metadata.namespace }))
    .filter((v) => v.kind === "Volume" && v.spec.backingBox === box.metadata.name)
    .map((v) => v.metadata.name);
}
