/**
 * What a write does to a stored object, the same on every backend: the create defaults, what update and
 * updateStatus may change, the compare-and-swap check, when a deletion finishes, when an event repeats.
 * Backends only decide how to read and write atomically.
 */
import type { AnyResource } from "../api/types.ts";
import { ConflictError, keyOf, type LvEvent } from "./store.ts";

/** The object as create stores it: uid (kept when given), generation 1, timestamps, empty metadata, no status. */
export function createdObject(obj: AnyResource, now: Date): AnyResource {
  const fresh = structuredClone(obj);
  fresh.metadata = {
    ...fresh.metadata,
    uid: fresh.metadata.uid || crypto.randomUUID(),
    generation: 1,
    creationTimestamp: now.toISOString(),
    finalizers: fresh.metadata.finalizers ?? [],
    ownerReferences: fresh.metadata.ownerReferences ?? [],
    labels: fresh.metadata.labels ?? {},
    annotations: fresh.metadata.annotations ?? {},
  };
  delete fresh.metadata.deletionTimestamp;
  fresh.status = {};
  return fresh;
}

/** Throws ConflictError when `obj` names a resourceVersion that is not the current one. */
export function checkVersion(obj: AnyResource, current: AnyResource): void {
  if (obj.metadata.resourceVersion && obj.metadata.resourceVersion !== current.metadata.resourceVersion) {
    throw new ConflictError(
      keyOf(obj),
      `the object has been modified (resourceVersion ${obj.metadata.resourceVersion}, now ${current.metadata.resourceVersion}); read it again and retry`,
    );
  }
}

/** update(): metadata and spec from `obj`, status kept; generation bumps on a spec change; spec frozen while deleting. */
export function updatedObject(current: AnyResource, obj: AnyResource): AnyResource {
  const next = structuredClone(current);
  next.metadata.labels = obj.metadata.labels ?? {};
  next.metadata.annotations = obj.metadata.annotations ?? {};
  next.metadata.finalizers = obj.metadata.finalizers ?? [];
  next.metadata.ownerReferences = obj.metadata.ownerReferences ?? [];
  if (JSON.stringify(obj.spec) !== JSON.stringify(current.spec)) {
    if (current.metadata.deletionTimestamp) return next;
    next.spec = structuredClone(obj.spec) as typeof next.spec;
    next.metadata.generation = current.metadata.generation + 1;
  }
  return next;
}

/** updateStatus(): status from `obj`, the rest kept. */
export function statusUpdatedObject(current: AnyResource, obj: AnyResource): AnyResource {
  const next = structuredClone(current);
  next.status = structuredClone(obj.status);
  return next;
}

/** What a compare-and-swap write does: nothing (identical), remove (deleting, no finalizer left), or write. */
export function writeOutcome(current: AnyResource, next: AnyResource): "none" | "remove" | "write" {
  if (JSON.stringify(next) === JSON.stringify(current)) return "none";
  if (next.metadata.deletionTimestamp && next.metadata.finalizers.length === 0) return "remove";
  return "write";
}

/** delete(): remove now (no finalizers), mark with deletionTimestamp, or nothing (already marked). */
export function deletion(current: AnyResource, now: Date): { remove: true } | { mark?: AnyResource } {
  if (current.metadata.finalizers.length === 0) return { remove: true };
  if (current.metadata.deletionTimestamp) return {};
  const next = structuredClone(current);
  next.metadata.deletionTimestamp = now.toISOString();
  return { mark: next };
}

/** Whether a new event repeats the latest one of the same object (then its count grows instead). */
export function repeatsEvent(
  last: Pick<LvEvent, "uid" | "reason" | "message" | "type"> | undefined,
  obj: AnyResource,
  event: Pick<LvEvent, "type" | "reason" | "message">,
): boolean {
  return !!last && last.uid === obj.metadata.uid && last.reason === event.reason &&
    last.message === event.message && last.type === event.type;
}

/** Events kept per object. */
export const EVENTS_KEPT = 50;
