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
  /** Writes metadata (labels, annotations, finalizers, ownerReferences) and spec; status is kept. */
  update(obj: AnyResource): Promise<AnyResource>;
  /** Writes status only. */
  updateStatus(obj: AnyResource): Promise<AnyResource>;
  /** Marks for deletion (or removes when no finalizer is left). Not found is not an error: returns false. */
  delete(key: ObjectKey): Promise<boolean>;
  /** Changes after resourceVersion `since`, oldest first. */
  changes(since: number): Promise<Change[]>;
  /** The newest resourceVersion. */
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
