/**
 * Copies every object from one store to another (SQLite to etcd and back), as it is: uids, generations,
 * timestamps, finalizers and statuses kept. Events and leases stay behind.
 */
import { type AnyResource, KINDS } from "../api/types.ts";
import { keyOf, refString, type Store } from "./store.ts";

export interface MigrateResult {
  copied: AnyResource[];
  /** Already in the destination with the same uid (an earlier, interrupted migrate copied them). */
  skipped: AnyResource[];
}

/** A destination object of the same name but another uid: migrating would mix two stores. */
export class MigrateConflictError extends Error {
  constructor(readonly objects: string[], where: string) {
    super(
      `${where} already holds ${
        objects.join(", ")
      } with other uids; nothing was copied (migrate into an empty store)`,
    );
    this.name = "MigrateConflictError";
  }
}

/** Checks every object first, then copies; running it again after an interruption finishes the copy. */
export async function migrateStore(from: Store, to: Store): Promise<MigrateResult> {
  const objects: AnyResource[] = [];
  for (const kind of KINDS) objects.push(...await from.list(kind));
  const result: MigrateResult = { copied: [], skipped: [] };
  const conflicts: string[] = [];
  const todo: AnyResource[] = [];
  for (const obj of objects) {
    const there = await to.get(keyOf(obj));
    if (!there) todo.push(obj);
    else if (there.metadata.uid === obj.metadata.uid) result.skipped.push(obj);
    else conflicts.push(refString(obj));
  }
  if (conflicts.length > 0) throw new MigrateConflictError(conflicts, to.location);
  for (const obj of todo) result.copied.push(await to.restore(obj));
  return result;
}
