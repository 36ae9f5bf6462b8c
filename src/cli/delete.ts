/** lv delete: mark for deletion, then wait until libvirt is clean (the object and what it owns are gone). */
import { type AnyResource, KINDS } from "../api/types.ts";
import { keyOf, type ObjectKey, refString } from "../store/store.ts";
import { awaitObjects } from "./await_objects.ts";
import { CommandFailed } from "./errors.ts";
import type { Runtime } from "./runtime.ts";

export interface DeleteOptions {
  wait: boolean;
  timeoutMs: number;
  ignoreNotFound: boolean;
}

/** Objects owned (transitively) by `obj`. */
async function ownedBy(rt: Runtime, obj: AnyResource): Promise<ObjectKey[]> {
  const owned: ObjectKey[] = [];
  for (const kind of KINDS) {
    for (const other of await rt.store.list(kind, { namespace: obj.metadata.namespace })) {
      if (other.metadata.ownerReferences.some((o) => o.uid === obj.metadata.uid)) {
        owned.push(keyOf(other), ...await ownedBy(rt, other));
      }
    }
  }
  return owned;
}

export async function deleteObjects(rt: Runtime, keys: ObjectKey[], options: DeleteOptions): Promise<void> {
  const waitFor: ObjectKey[] = [];
  const gone: ObjectKey[] = [];
  const missing: string[] = [];
  for (const key of keys) {
    const obj = await rt.store.get(key);
    if (!obj) {
      missing.push(refString(key));
      continue;
    }
    waitFor.push(key, ...await ownedBy(rt, obj));
    await rt.store.delete(key);
    gone.push(key);
  }
  if (options.wait && waitFor.length > 0) {
    await awaitObjects(rt, waitFor, (obj) => obj ? "pending" : "done", {
      timeoutMs: options.timeoutMs,
      what: "be deleted",
    });
  }
  for (const key of gone) rt.output.out(`${refString(key)} deleted\n`);
  if (missing.length > 0 && !options.ignoreNotFound) {
    throw new CommandFailed(`${missing.join(", ")} not found`);
  }
}
