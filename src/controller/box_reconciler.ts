/** Box: a base image uploaded once into a pool, shared read-only by the Volumes backed by it. */
import { join } from "node:path";
import type { AnyResource, Box } from "../api/types.ts";
import { BoxSourceError, resolveBoxSource } from "../box/box_source.ts";
import { parseVolumeXml, volumeXml } from "../libvirt/xml/volume_xml.ts";
import { type ControllerContext, type Reconciler, TerminalError } from "./context.ts";
import { ensureFinalizer, setReady, writeStatus } from "./object_ops.ts";
import { claimVolume, deleteVolumeOf, ensurePool, recordIntent } from "./storage.ts";

/** The pool volume a Box is uploaded to. */
export function boxVolumeNameFor(box: Box): string {
  return `box-${box.metadata.name}`;
}

export const boxReconciler: Reconciler = {
  kind: "Box",
  async reconcile(obj: AnyResource, ctx: ControllerContext) {
    const box = obj as Box;
    const lv = ctx.libvirtFor(box);
    const pool = box.spec.pool;
    const name = boxVolumeNameFor(box);

    if (box.metadata.deletionTimestamp) return await deleteVolumeOf(ctx, box, pool, name);
    await ensureFinalizer(ctx.store, box);
    await ensurePool(lv, pool);

    const claim = await claimVolume(lv, box, pool, name);
    if (claim.state === "ours") {
      const usedBy = await usersOf(ctx, box);
      await setReady(ctx.store, box, { status: "True", reason: "Uploaded", phase: "Ready" }, (status) => {
        status.path = claim.volume.path;
        status.usedBy = usedBy;
      });
      return;
    }
    if (claim.state === "incomplete") {
      // An upload was interrupted: the volume's content cannot be trusted.
      await lv.volDelete(pool, name);
    }

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
    await setReady(ctx.store, box, {
      status: "False",
      reason: "Uploading",
      message: `uploading ${image.path} (${image.format}) to pool "${pool}"`,
      phase: "Uploading",
    });
    await recordIntent(ctx, box, name);
    await lv.volCreate(
      pool,
      volumeXml({ name, capacityBytes: image.virtualSize, format: image.format }),
    );
    const started = Date.now();
    await upload(ctx, box, { pool, name, file: image.path });
    const seconds = (Date.now() - started) / 1000;
    const uploaded = parseVolumeXml((await lv.volGet(pool, name)) ?? "");
    await ctx.event(
      box,
      "Normal",
      "Uploaded",
      `${image.path} uploaded to pool "${pool}" as "${name}" in ${seconds.toFixed(1)}s`,
    );
    const usedBy = await usersOf(ctx, box);
    await writeStatus(ctx.store, box, (status) => {
      delete status.pendingVolume;
      status.volume = name;
      status.path = uploaded.path;
      status.format = image.format;
      status.virtualSize = image.virtualSize;
      status.sha256 = image.sha256;
      if (image.privateKey) status.privateKey = image.privateKey;
      status.usedBy = usedBy;
    });
    await setReady(ctx.store, box, { status: "True", reason: "Uploaded", phase: "Ready" });
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
