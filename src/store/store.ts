/** The store interface: what controllers and commands need from a place that keeps resources. */
import type { AnyResource, Kind, ObjectKey } from "../api/types.ts";

export type { ObjectKey };

export interface ListOptions {
  namespace?: string;
  /** Equality selectors: every key must be present with that value. */
  labels?: Record<string, string>;
}

/** One recorded change, in resourceVersion order. */
export interface Change extends ObjectKey {
  resourceVersion: number;
  /** STATUS: only status changed (a controller's write): dependents care, the object's own controller not. */
  type: "ADDED" | "MODIFIED" | "STATUS" | "DELETED";
}

export interface WatchOptions {
  /**
   * The history after `since` is gone (trimmed or compacted): changes were missed, so the watcher must
   * re-list; the watch goes on from `head`.
   */
  onReset?: (head: number) => void | Promise<void>;
  /** SQLite: how often the change log is read. Default 100 ms. */
  pollMs?: number;
}

/** A running watch. */
export interface Watch {
  /** Stops it; resolves once no onChanges call runs any more. */
  close(): Promise<void>;
}

/** The version of the store's layout this lv writes; a store marked with a newer one is refused. */
export const STORE_SCHEMA_VERSION = 1;

/** The store was written by a newer lv. */
export class StoreVersionError extends Error {
  constructor(readonly where: string, readonly found: number) {
    super(
      `the store ${where} was written by a newer lv (store schema ${found}; this lv knows up to ${STORE_SCHEMA_VERSION}): upgrade lv`,
    );
    this.name = "StoreVersionError";
  }
}

export interface LvEvent extends ObjectKey {
  uid: string;
  type: "Normal" | "Warning";
  reason: string;
  message: string;
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
}

/** A write lost a compare-and-swap race: re-read and try again. */
export class ConflictError extends Error {
  constructor(readonly key: ObjectKey, detail: string) {
    super(`Operation cannot be fulfilled on ${key.kind.toLowerCase()}/${key.name}: ${detail}`);
    this.name = "ConflictError";
  }
}

export class NotFoundError extends Error {
  constructor(readonly key: ObjectKey) {
    super(`${key.kind.toLowerCase()}/${key.name} not found`);
    this.name = "NotFoundError";
  }
}

export class AlreadyExistsError extends Error {
  constructor(readonly key: ObjectKey) {
    super(`${key.kind.toLowerCase()}/${key.name} already exists`);
    this.name = "AlreadyExistsError";
  }
}

/** One write of {@linkcode Store.writeAll}: a create (the key must be free) or an update (metadata and spec). */
export interface BatchWrite {
  op: "create" | "update";
  obj: AnyResource;
}

/**
 * Keeps resources with Kubernetes semantics: uid and creationTimestamp set on create; generation bumps only
 * when spec changes; every write gets a new store-wide resourceVersion; update and updateStatus are
 * compare-and-swap on metadata.resourceVersion (a stale one throws ConflictError); delete sets
 * deletionTimestamp while finalizers remain and removes the object once they are gone.
 */
export interface Store {
  get(key: ObjectKey): Promise<AnyResource | undefined>;
  list(kind: Kind, options?: ListOptions): Promise<AnyResource[]>;
  /** Creates the object; throws AlreadyExistsError when the key is taken. */
  create(obj: AnyResource): Promise<AnyResource>;
  /**
   * Writes an object exactly as another store had it (uid, generation, timestamps, finalizers, status kept;
   * a new resourceVersion): `lv store migrate`. Throws AlreadyExistsError when the key is taken.
   */
  restore(obj: AnyResource): Promise<AnyResource>;
  /** Writes metadata (labels, annotations, finalizers, ownerReferences) and spec; status is kept. */
  update(obj: AnyResource): Promise<AnyResource>;
  /** Writes status only. */
  updateStatus(obj: AnyResource): Promise<AnyResource>;
  /**
   * Writes several objects all or none, in one transaction: each `create` as create(), each `update` as
   * update() (compare-and-swap on the resourceVersion it carries, else on the one read). When one fails
   * (AlreadyExistsError, ConflictError, NotFoundError, or the store's own error) none is written. Returns
   * what was stored, in order. Each key at most once; at most `maxBatch` writes.
   */
  writeAll(writes: BatchWrite[]): Promise<AnyResource[]>;
  /** The most writes one writeAll takes (etcd: its --max-txn-ops default, 128). */
  readonly maxBatch: number;
  /** Marks for deletion (or removes when no finalizer is left). Not found is not an error: returns false. */
  delete(key: ObjectKey): Promise<boolean>;
  /**
   * Follows the changes to objects after resourceVersion `since` (0: every change still in the history),
   * oldest first: `onChanges` gets them in batches, one call at a time. SQLite polls its change log every
   * pollMs; etcd pushes them (an etcd watch).
   */
  watch(since: number, onChanges: (changes: Change[]) => void | Promise<void>, options?: WatchOptions): Watch;
  /** A resourceVersion no older than the newest write; unchanged while nothing is written. */
  head(): Promise<number>;
  recordEvent(obj: AnyResource, event: Pick<LvEvent, "type" | "reason" | "message">): Promise<void>;
  events(key: ObjectKey): Promise<LvEvent[]>;
  /**
   * Takes or renews the named lease for `holder` for ttlMs. Returns true when held by `holder` afterwards.
   * A lease whose holder did not renew it in time can be taken by another; so can one held by `takeFrom`
   * (a holder the caller knows is dead).
   */
  acquireLease(
    name: string,
    holder: string,
    ttlMs: number,
    options?: { takeFrom?: string },
  ): Promise<boolean>;
  releaseLease(name: string, holder: string): Promise<void>;
  /** The current holder of a lease that has not expired. */
  leaseHolder(name: string): Promise<string | undefined>;
  /** Where the store is, for messages: a file path or etcd endpoints (never credentials). */
  readonly location: string;
  close(): void;
}

export function keyOf(obj: AnyResource): ObjectKey {
  return { kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name };
}

export function keyString(key: ObjectKey): string {
  return `${key.kind}/${key.namespace}/${key.name}`;
}

/** "domain/web", for a key or an object. */
export function refString(ref: ObjectKey | AnyResource): string {
  return `${ref.kind.toLowerCase()}/${"metadata" in ref ? ref.metadata.name : ref.name}`;
}
