/** Small store operations every reconciler needs: finalizers, status writes, owned objects. */
import { setCondition } from "../api/conditions.ts";
import { refersTo } from "../api/references.ts";
import { type AnyResource, KINDS, type Status } from "../api/types.ts";
import { ConflictError, keyOf, type Store } from "../store/store.ts";
import { type ControllerContext, FINALIZER, WaitingError } from "./context.ts";

/**
 * Adds lv's finalizer. Returns true when it wrote it: the caller's copy is then stale, so its pass ends
 * there and the next pass starts from the stored object (as Cluster API does). No write when it is there.
 */
export async function ensureFinalizer(store: Store, obj: AnyResource): Promise<boolean> {
  if (obj.metadata.finalizers.includes(FINALIZER)) return false;
  const next = structuredClone(obj);
  next.metadata.finalizers = [...next.metadata.finalizers, FINALIZER];
  await store.update(next);
  return true;
}

/** Removes lv's finalizer: the store then drops an object being deleted. */
export async function removeFinalizer(store: Store, obj: AnyResource): Promise<void> {
  if (!obj.metadata.finalizers.includes(FINALIZER)) return;
  const next = structuredClone(obj);
  next.metadata.finalizers = next.metadata.finalizers.filter((f) => f !== FINALIZER);
  await store.update(next);
}

/**
 * Writes status computed by `mutate` from the object's latest status. Nothing is written when the result
 * equals what is stored. The controller owns status, so this reads the latest copy rather than failing
 * on a spec write that happened meanwhile.
 */
export async function writeStatus(
  store: Store,
  obj: AnyResource,
  mutate: (status: Status) => void,
): Promise<AnyResource | undefined> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await store.get(keyOf(obj));
    if (!current || current.metadata.uid !== obj.metadata.uid) return undefined;
    const status = structuredClone(current.status ?? {}) as Status;
    mutate(status);
    if (JSON.stringify(status) === JSON.stringify(current.status ?? {})) return current;
    try {
      return await store.updateStatus({ ...current, status } as AnyResource);
    } catch (e) {
      if (!(e instanceof ConflictError)) throw e;
    }
  }
  throw new ConflictError(keyOf(obj), "status kept changing under five attempts");
}

/** Sets Ready and phase in one status write, with observedGeneration. */
export async function setReady(
  store: Store,
  obj: AnyResource,
  ready: { status: "True" | "False" | "Unknown"; reason: string; message?: string; phase: string },
  extra?: (status: Status) => void,
): Promise<AnyResource | undefined> {
  return await writeStatus(store, obj, (status) => {
    extra?.(status);
    status.observedGeneration = obj.metadata.generation;
    status.phase = ready.phase;
    setCondition(status, {
      type: "Ready",
      status: ready.status,
      reason: ready.reason,
      message: ready.message,
    });
  });
}

/**
 * Objects that still reference `obj` (a Domain using a Volume or Network, a Volume backed by a Box).
 * Deleting `obj` waits for them: throws WaitingError naming them while any exist.
 */
export async function blockingReferrers(
  ctx: ControllerContext,
  obj: AnyResource,
  what: string,
): Promise<void> {
  const users: string[] = [];
  for (const kind of KINDS) {
    for (const other of await ctx.store.list(kind, { namespace: obj.metadata.namespace })) {
      if (refersTo(other, keyOf(obj))) users.push(`${kind.toLowerCase()}/${other.metadata.name}`);
    }
  }
  if (users.length > 0) {
    throw new WaitingError(
      "InUse",
      `${what} is still used by ${users.join(", ")}; deleting once they are gone`,
    );
  }
}
