/** Box: a base image uploaded once into a pool, shared read-only by the Volumes backed by it. */
import { join } from "node:path";
import type { AnyResource, Box, BoxDiskStatus } from "../api/types.ts";
import { BoxSourceError, resolveBoxSource } from "../box/box_source.ts";
import { parseVolumeXml, volumeXml } from "../libvirt/xml/volume_xml.ts";
import { type ControllerContext, type Reconciler, TerminalError } from "./context.ts";
import { asBoxCondition, fetchTarget } from "./box_version.ts";
import { ensureFinalizer, setReady, writeStatus } from "./object_ops.ts";
import { claimVolume, deleteVolumeOf, ensurePool, recordIntent } from "./storage.ts";

/** The pool volume a Box's first disk is uploaded to. */
export function boxVolumeNameFor(box: Box): string {
  return boxDiskVolumeName(box, 1);
}

/**
 * The pool volume of disk `n` (1-based) of a Box: box-NAME for the first, box-NAME-2, box-NAME-3, ...; after
 * `lv box update` the base carries the version (box-NAME-v1.2.0, box-NAME-v1.2.0-2), so the volumes of the
 * version before stay for the overlays on them.
 */
export function boxDiskVolumeName(box: Box, n: number): string {
  const base = boxVolumeBase(box);
  return n === 1 ? base : `${base}-${n}`;
}

/** The name of a Box's first volume: status.volumeBase (set by lv box update), else box-NAME. */
export function boxVolumeBase(box: Box): string {
  return box.status.volumeBase ?? `box-${box.metadata.name}`;
}

/** Which disk (1-based) a volume of this Box holds, from its name. */
export function boxDiskNumber(box: Box, volume: string): number {
  const m = volume.slice(boxVolumeBase(box).length).match(/^-(\d+)$/);
  return m ? Number(m[1]) : 1;
}

/**
 * The disks lv recorded as uploaded, in order. A Box uploaded before lv knew several disks records only
 * `volume`, `path`, `format` and `virtualSize`: that is its one disk.
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

export const boxReconciler: Reconciler = {
  kind: "Box",
  async reconcile(obj: AnyResource, ctx: ControllerContext) {
    const box = obj as Box;
    const lv = ctx.libvirtFor(box);
    const pool = box.spec.pool;

    if (box.metadata.deletionTimestamp) return await deleteVolumeOf(ctx, box, pool);
    await ensureFinalizer(ctx.store, box);
    await ensurePool(lv, pool);

    // Uploaded completely before (status.volume is written last): only look that every disk is still there.
    if (box.status.volume) {
      const recorded = boxDisks(box);
      const paths: string[] = [];
      for (const disk of recorded) {
        const claim = await claimVolume(lv, box, pool, disk.volume);
        if (claim.state !== "ours") break;
        paths.push(claim.volume.path);
      }
      if (paths.length === recorded.length) {
        const usedBy = await usersOf(ctx, box);
        await setReady(ctx.store, box, { status: "True", reason: "Uploaded", phase: "Ready" }, (status) => {
          status.path = paths[0];
          status.disks = recorded.map((d, i) => ({ ...d, path: paths[i] }));
          status.usedBy = usedBy;
        });
        return;
      }
    }

    const target = await fetchTarget(ctx, box);
    let image;
    try {
      image = await resolveBoxSource(target.source, target.checksum, {
        cacheDir: join(ctx.home, "cache"),
        progress: (line) => ctx.event(box, "Normal", "Downloading", line),
        onTransfer: ctx.transfer && ((p) => ctx.transfer!(box, p)),
      });
    } catch (e) {
      if (e instanceof BoxSourceError) throw new TerminalError("InvalidSource", e.message);
      throw asBoxCondition(e);
    }
    const count = image.disks.length;
    let disks = boxDisks(box);
    for (const [i, disk] of image.disks.entries()) {
      const name = boxDiskVolumeName(box, i + 1);
      const claim = await claimVolume(lv, box, pool, name);
      if (claim.state === "ours" && disks.some((d) => d.volume === name)) continue; // uploaded before
      if (claim.state === "incomplete") {
        // An upload was interrupted: the volume's content cannot be trusted.
        await lv.volDelete(pool, name);
      }
      // Until every disk is there again, the box is not complete: no record may call this volume done.
      disks = disks.filter((d) => d.volume !== name);
      const of = count > 1 ? ` (disk ${i + 1} of ${count})` : "";
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
      disks = [...disks, {
        volume: name,
        path: uploaded.path,
        format: disk.format,
        virtualSize: disk.virtualSize,
      }]
        .sort((a, b) => boxDiskNumber(box, a.volume) - boxDiskNumber(box, b.volume));
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
};

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
