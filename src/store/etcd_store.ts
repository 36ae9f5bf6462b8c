/**
 * The shared store: lv's objects in etcd v3, with the same semantics as the SQLite file.
 *
 *     PREFIX/meta/schema                       the store layout's version (a newer one is refused)
 *     PREFIX/objects/KIND/NAMESPACE/NAME       an object's JSON; resourceVersion = the key's mod revision
 *     PREFIX/events/KIND/NAMESPACE/NAME/SEQ    its events (the newest EVENTS_KEPT)
 *     PREFIX/leases/NAME                       a lease's holder, attached to an etcd lease with the TTL
 *
 * Every write is a transaction comparing the revision it read (compare-and-swap). A write whose answer was
 * lost and which was sent again to another member is recognised by its content, so it is neither reported
 * as a conflict nor applied twice.
 */
import type { AnyResource, Kind } from "../api/types.ts";
import { type Compare, EtcdClient, type EtcdClientOptions, type Kv, type Op } from "./etcd_client.ts";
import { etcdWatch } from "./etcd_watch.ts";
import { batchFailure, type BatchPlan, landed } from "./etcd_batch.ts";
import {
  checkVersion,
  createdObject,
  deletion,
  EVENTS_KEPT,
  repeatsEvent,
  statusUpdatedObject,
  updatedObject,
  writeOutcome,
} from "./object_writes.ts";
import {
  AlreadyExistsError,
  type BatchWrite,
  type Change,
  ConflictError,
  keyOf,
  type ListOptions,
  type LvEvent,
  NotFoundError,
  type ObjectKey,
  type Store,
  STORE_SCHEMA_VERSION,
  StoreVersionError,
  type Watch,
  type WatchOptions,
} from "./store.ts";

export interface EtcdStoreOptions extends EtcdClientOptions {
  /** Key prefix of everything lv writes. Default "/lv/". */
  prefix?: string;
  /** Clock for timestamps (tests). */
  now?: () => Date;
}

/** Plain code-unit order, as SQLite's BINARY collation sorts. */
function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Attempts of a read-modify-write without a resourceVersion before giving up. */
const RETRIES = 20;

export class EtcdStore implements Store {
  readonly client: EtcdClient;
  readonly prefix: string;
  #now: () => Date;
  /** etcd lease IDs of the leases this handle holds, by lease name. */
  #held = new Map<string, { id: string; holder: string }>();

  private constructor(client: EtcdClient, options: EtcdStoreOptions) {
    this.client = client;
    this.prefix = options.prefix ?? "/lv/";
    this.#now = options.now ?? (() => new Date());
  }

  /** Connects (within the client's deadline) and checks the store's schema version, marking a new store. */
  static async open(endpoints: string[], options: EtcdStoreOptions = {}): Promise<EtcdStore> {
    const store = new EtcdStore(new EtcdClient(endpoints, options), options);
    try {
      await store.#checkSchema();
    } catch (e) {
      store.close();
      throw e;
    }
    return store;
  }

  get location(): string {
    return `etcd ${this.client.endpoints.join(",")} (prefix ${this.prefix})`;
  }

  close(): void {
    this.client.close();
  }

  async #checkSchema(): Promise<void> {
    const key = `${this.prefix}meta/schema`;
    const { kvs } = await this.client.range(key);
    if (kvs.length === 0) {
      await this.client.txn([{ key, target: "CREATE", createRevision: 0 }], [{
        put: { key, value: String(STORE_SCHEMA_VERSION) },
      }]);
      return;
    }
    const found = Number(kvs[0].value);
    if (found > STORE_SCHEMA_VERSION) throw new StoreVersionError(this.location, found);
  }

  #objectKey(key: ObjectKey): string {
    return `${this.prefix}objects/${key.kind}/${key.namespace}/${key.name}`;
  }

  #eventPrefix(key: ObjectKey): string {
    return `${this.prefix}events/${key.kind}/${key.namespace}/${key.name}/`;
  }

  #leaseKey(name: string): string {
    return `${this.prefix}leases/${name}`;
  }

  #decode(kv: Kv): AnyResource {
    const obj = JSON.parse(kv.value) as AnyResource;
    obj.metadata.resourceVersion = String(kv.modRevision);
    return obj;
  }

  /** The stored form: resourceVersion is etcd's, not part of the value. */
  #encode(obj: AnyResource): string {
    const copy = structuredClone(obj);
    copy.metadata.resourceVersion = "";
    return JSON.stringify(copy);
  }

  async #readKv(key: ObjectKey): Promise<Kv | undefined> {
    return (await this.client.range(this.#objectKey(key))).kvs[0];
  }

  async get(key: ObjectKey): Promise<AnyResource | undefined> {
    const kv = await this.#readKv(key);
    return kv ? this.#decode(kv) : undefined;
  }

  async list(kind: Kind, options: ListOptions = {}): Promise<AnyResource[]> {
    const prefix = `${this.prefix}objects/${kind}/${
      options.namespace === undefined ? "" : `${options.namespace}/`
    }`;
    const objects = (await this.client.range(prefix, { prefix: true })).kvs.map((kv) => this.#decode(kv));
    const labels = Object.entries(options.labels ?? {});
    return objects
      .filter((o) => labels.every(([k, v]) => o.metadata.labels?.[k] === v))
      .sort((a, b) =>
        byteOrder(a.metadata.namespace, b.metadata.namespace) || byteOrder(a.metadata.name, b.metadata.name)
      );
  }

  /**
   * Writes `value` at `key` when the key is still at `expected` (0: absent); `value` undefined deletes.
   * Returns the new revision, or undefined when the key moved on. A retried request whose effect is
   * already there counts as done.
   */
  async #swap(key: string, expected: number, value: string | undefined): Promise<number | undefined> {
    const compare: Compare = expected === 0
      ? { key, target: "CREATE", createRevision: 0 }
      : { key, target: "MOD", modRevision: expected };
    const op: Op = value === undefined ? { deleteRange: { key } } : { put: { key, value } };
    const result = await this.client.txn([compare], [op], [{ range: { key } }]);
    if (result.succeeded) return result.revision;
    if (result.retried) {
      const now = result.ranges[0]?.[0];
      if (value !== undefined && now?.value === value) return now.modRevision;
      if (value === undefined && !now) return result.revision;
    }
    return undefined;
  }

  async create(obj: AnyResource): Promise<AnyResource> {
    const fresh = createdObject(obj, this.#now());
    const revision = await this.#swap(this.#objectKey(keyOf(obj)), 0, this.#encode(fresh));
    if (revision === undefined) throw new AlreadyExistsError(keyOf(obj));
    fresh.metadata.resourceVersion = String(revision);
    return fresh;
  }

  async restore(obj: AnyResource): Promise<AnyResource> {
    const copy = structuredClone(obj);
    const revision = await this.#swap(this.#objectKey(keyOf(obj)), 0, this.#encode(copy));
    if (revision === undefined) throw new AlreadyExistsError(keyOf(obj));
    copy.metadata.resourceVersion = String(revision);
    return copy;
  }

  async #compareAndSwap(
    obj: AnyResource,
    mutate: (current: AnyResource) => AnyResource,
  ): Promise<AnyResource> {
    const key = keyOf(obj);
    for (let attempt = 0; attempt < RETRIES; attempt++) {
      const kv = await this.#readKv(key);
      if (!kv) throw new NotFoundError(key);
      const current = this.#decode(kv);
      checkVersion(obj, current);
      const next = mutate(current);
      const outcome = writeOutcome(current, next);
      if (outcome === "none") return current;
      const value = outcome === "remove" ? undefined : this.#encode(next);
      const revision = await this.#swap(this.#objectKey(key), kv.modRevision, value);
      if (revision !== undefined) {
        next.metadata.resourceVersion = String(revision);
        return next;
      }
      // Someone wrote in between: a caller that named a resourceVersion gets the conflict on the next read.
    }
    throw new ConflictError(key, `still changing after ${RETRIES} attempts`);
  }

  update(obj: AnyResource): Promise<AnyResource> {
    return this.#compareAndSwap(obj, (current) => updatedObject(current, obj));
  }

  /** etcd's --max-txn-ops default: the most operations one transaction may hold. */
  readonly maxBatch = 128;

  /** One transaction: a compare per key (absent, or at the revision read) and a put or delete per change. */
  async writeAll(writes: BatchWrite[]): Promise<AnyResource[]> {
    if (writes.length === 0) return [];
    if (writes.length > this.maxBatch) {
      throw new RangeError(`writeAll: ${writes.length} writes; one etcd transaction holds ${this.maxBatch}`);
    }
    const planned: BatchPlan[] = [];
    for (const { op, obj } of writes) {
      const key = this.#objectKey(keyOf(obj));
      if (op === "create") {
        const next = createdObject(obj, this.#now());
        const put = { put: { key, value: this.#encode(next) } };
        planned.push({ key, compare: { key, target: "CREATE", createRevision: 0 }, next, op: put });
        continue;
      }
      const kv = await this.#readKv(keyOf(obj));
      if (!kv) throw new NotFoundError(keyOf(obj));
      const current = this.#decode(kv);
      checkVersion(obj, current);
      const next = updatedObject(current, obj);
      const outcome = writeOutcome(current, next);
      const change: Op | undefined = outcome === "none"
        ? undefined
        : outcome === "remove"
        ? { deleteRange: { key } }
        : { put: { key, value: this.#encode(next) } };
      const compare: Compare = { key, target: "MOD", modRevision: kv.modRevision };
      planned.push({ key, compare, next: change ? next : current, op: change });
    }
    const result = await this.client.txn(
      planned.map((p) => p.compare),
      planned.flatMap((p) => p.op ? [p.op] : []),
      planned.map((p) => ({ range: { key: p.key } })),
    );
    const now = result.ranges.map((r) => r[0]);
    // A request sent again after a lost answer, whose first attempt was applied: done, not a conflict.
    const applied = result.succeeded || (result.retried && planned.every((p, i) => landed(p, now[i])));
    if (!applied) throw batchFailure(writes, planned, now);
    return planned.map((p, i) => {
      if (!p.op) return p.next;
      p.next.metadata.resourceVersion = String(result.succeeded ? result.revision : now[i]?.modRevision ?? 0);
      return p.next;
    });
  }

  updateStatus(obj: AnyResource): Promise<AnyResource> {
    return this.#compareAndSwap(obj, (current) => statusUpdatedObject(current, obj));
  }

  async delete(key: ObjectKey): Promise<boolean> {
    for (let attempt = 0; attempt < RETRIES; attempt++) {
      const kv = await this.#readKv(key);
      if (!kv) return false;
      const what = deletion(this.#decode(kv), this.#now());
      if (!("remove" in what) && !what.mark) return true;
      const value = "remove" in what ? undefined : this.#encode(what.mark!);
      if (await this.#swap(this.#objectKey(key), kv.modRevision, value) !== undefined) return true;
    }
    throw new ConflictError(key, `still changing after ${RETRIES} attempts`);
  }

  watch(
    since: number,
    onChanges: (changes: Change[]) => void | Promise<void>,
    options: WatchOptions = {},
  ): Watch {
    return etcdWatch(this.client, `${this.prefix}objects/`, since, onChanges, {
      ...options,
      head: () => this.head(),
    });
  }

  async head(): Promise<number> {
    return (await this.client.range(`${this.prefix}meta/schema`)).revision;
  }

  async recordEvent(obj: AnyResource, event: Pick<LvEvent, "type" | "reason" | "message">): Promise<void> {
    const key = keyOf(obj);
    const prefix = this.#eventPrefix(key);
    const now = this.#now().toISOString();
    for (let attempt = 0; attempt < RETRIES; attempt++) {
      const lastKv = (await this.client.range(prefix, { prefix: true, limit: 1, descend: true })).kvs[0];
      const last = lastKv ? JSON.parse(lastKv.value) as LvEvent : undefined;
      let done: number | undefined;
      if (lastKv && repeatsEvent(last, obj, event)) {
        const value = JSON.stringify({ ...last, count: last!.count + 1, lastTimestamp: now });
        done = await this.#swap(lastKv.key, lastKv.modRevision, value);
      } else {
        const seq = lastKv ? Number(lastKv.key.slice(prefix.length)) + 1 : 1;
        const value: LvEvent = {
          ...key,
          uid: obj.metadata.uid,
          ...event,
          count: 1,
          firstTimestamp: now,
          lastTimestamp: now,
        };
        done = await this.#swap(`${prefix}${String(seq).padStart(12, "0")}`, 0, JSON.stringify(value));
      }
      if (done !== undefined) break;
    }
    const { kvs } = await this.client.range(prefix, { prefix: true, keysOnly: true });
    if (kvs.length > EVENTS_KEPT) {
      await this.client.deleteRange(prefix, { rangeEnd: kvs[kvs.length - EVENTS_KEPT].key });
    }
  }

  async events(key: ObjectKey): Promise<LvEvent[]> {
    return (await this.client.range(this.#eventPrefix(key), { prefix: true })).kvs.map((kv) =>
      JSON.parse(kv.value) as LvEvent
    );
  }

  async acquireLease(
    name: string,
    holder: string,
    ttlMs: number,
    options: { takeFrom?: string } = {},
  ): Promise<boolean> {
    const key = this.#leaseKey(name);
    const mine = this.#held.get(name);
    const kv = (await this.client.range(key)).kvs[0];
    if (kv && kv.value === holder && mine?.holder === holder && await this.client.leaseKeepAlive(mine.id)) {
      return true;
    }
    if (kv && kv.value !== holder && kv.value !== options.takeFrom) return false;
    const id = await this.client.leaseGrant(Math.max(1, Math.ceil(ttlMs / 1000)));
    const compare: Compare = kv
      ? { key, target: "MOD", modRevision: kv.modRevision }
      : { key, target: "CREATE", createRevision: 0 };
    const result = await this.client.txn([compare], [{ put: { key, value: holder, lease: id } }]);
    if (!result.succeeded) {
      await this.client.leaseRevoke(id);
      return false;
    }
    if (mine) await this.client.leaseRevoke(mine.id).catch(() => {});
    this.#held.set(name, { id, holder });
    return true;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    const key = this.#leaseKey(name);
    await this.client.txn([{ key, target: "VALUE", value: holder }], [{ deleteRange: { key } }]);
    const mine = this.#held.get(name);
    if (mine?.holder === holder) {
      this.#held.delete(name);
      await this.client.leaseRevoke(mine.id);
    }
  }

  async leaseHolder(name: string): Promise<string | undefined> {
    return (await this.client.range(this.#leaseKey(name))).kvs[0]?.value;
  }
}
