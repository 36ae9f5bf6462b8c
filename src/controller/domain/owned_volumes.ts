/**
 * The Volumes a Domain owns: the copy-on-write overlay its `box:` shortcut makes on the box's first disk,
 * and one more per further disk of a multi-disk box (Vagrant box v2 `disks[]`). Created here, collected
 * by the manager's garbage collection once the Domain is gone.
 */
import { boxDisks, boxOverlayName } from "../../api/box_volumes.ts";
import type { Domain, ObjectMeta, Volume } from "../../api/types.ts";
import { type ControllerContext, TerminalError } from "../context.ts";

/**
 * Makes the Domain's overlay Volumes that are missing; returns the names of those on the box's further
 * disks, in disk order (the first overlay is named after the Domain). The number of disks is known once
 * the Box is uploaded; overlays made before stay while the Box is uploaded again.
 */
export async function ensureOwnedVolumes(ctx: ControllerContext, dom: Domain): Promise<string[]> {
  if (!dom.spec.box) return [];
  const first = await ensureOverlay(ctx, dom, 1, () => ({
    labels: { "lv.dev/domain": dom.metadata.name },
    ownerReferences: [{ kind: "Domain", name: dom.metadata.name, uid: dom.metadata.uid, controller: true }],
    spec: {
      ...(dom.spec.context === undefined ? {} : { context: dom.spec.context }),
      pool: dom.spec.storagePoolName,
      format: "qcow2",
      backingBox: dom.spec.box,
      size: dom.spec.machineVirtualSize,
    },
  }));
  if (!first) return [];
  const box = await ctx.store.get({ kind: "Box", namespace: dom.metadata.namespace, name: dom.spec.box });
  const count = box?.kind === "Box" ? boxDisks(box).length : 0;
  const names: string[] = [];
  for (let n = 2;; n++) {
    const name = boxOverlayName(dom.metadata.name, n);
    const existing = await ctx.store.get({ kind: "Volume", namespace: dom.metadata.namespace, name });
    if (n > count && !ownedBy(existing, dom)) break;
    names.push(name);
    // As the first overlay (pool, context, format), on disk n; machineVirtualSize is the first disk's.
    await ensureOverlay(ctx, dom, n, () => {
      const spec = { ...structuredClone(first.spec), backingBoxDisk: n };
      delete spec.size;
      return {
        labels: { ...first.metadata.labels, "lv.dev/box-disk": String(n) },
        ownerReferences: structuredClone(first.metadata.ownerReferences),
        spec,
      };
    });
  }
  return names;
}

interface OverlayParts {
  labels: Record<string, string>;
  ownerReferences: ObjectMeta["ownerReferences"];
  spec: Volume["spec"];
}

/**
 * The overlay Volume on disk `n` of the Domain's box: the stored one when this Domain owns it, else made
 * from `parts()`. One of that name the Domain does not own is a NameConflict. Undefined: not yet stored
 * (first overlay only: the store may not show it until the next pass).
 */
async function ensureOverlay(
  ctx: ControllerContext,
  dom: Domain,
  n: number,
  parts: () => OverlayParts,
): Promise<Volume | undefined> {
  const key = {
    kind: "Volume" as const,
    namespace: dom.metadata.namespace,
    name: boxOverlayName(dom.metadata.name, n),
  };
  const existing = await ctx.store.get(key);
  if (existing) {
    if (!ownedBy(existing, dom)) {
      throw new TerminalError(
        "NameConflict",
        n === 1
          ? `volume/${key.name} exists and is not owned by this domain; the box: shortcut names its overlay after the domain`
          : `volume/${key.name} exists and is not owned by this domain; the box: shortcut names the overlay of box disk ${n} so`,
      );
    }
    return existing.kind === "Volume" ? existing : undefined;
  }
  const { labels, ownerReferences, spec } = parts();
  const volume: Volume = {
    apiVersion: dom.apiVersion,
    kind: "Volume",
    metadata: newMeta(key.name, key.namespace, labels, ownerReferences),
    spec,
    status: {},
  };
  const stored = await ctx.store.create(volume);
  await ctx.event(
    dom,
    "Normal",
    "VolumeCreated",
    `volume/${key.name} created as a copy-on-write overlay on ${
      n === 1 ? "" : `disk ${n} of `
    }box/${dom.spec.box}`,
  );
  return stored as Volume;
}

function ownedBy(obj: { metadata: ObjectMeta } | undefined, dom: Domain): boolean {
  return !!obj?.metadata.ownerReferences.some((o) => o.uid === dom.metadata.uid);
}

/** Metadata of an object lv creates itself (the store fills uid, generation, versions and timestamps). */
function newMeta(
  name: string,
  namespace: string,
  labels: Record<string, string>,
  ownerReferences: ObjectMeta["ownerReferences"],
): ObjectMeta {
  return {
    name,
    namespace,
    labels,
    annotations: {},
    uid: "",
    generation: 0,
    resourceVersion: "",
    creationTimestamp: "",
    finalizers: [],
    ownerReferences,
  };
}
