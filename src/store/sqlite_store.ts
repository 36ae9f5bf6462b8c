/**
 * The embedded store: one SQLite file (node:sqlite), mode 0600 (or 0660 for a group: the system store),
 * shared safely by several lv processes.
 */
import { DatabaseSync } from "node:sqlite";
import type { AnyResource, Kind } from "../api/types.ts";
import {
  AlreadyExistsError,
  type BatchWrite,
  type Change,
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
import { prepareSharedStore, type SharedStoreOptions } from "./shared_store_file.ts";

const SCHEMA = `
create table if not exists objects (
  kind text not null, namespace text not null, name text not null,
  rv integer not null, body text not null,
  primary key (kind, namespace, name));
create table if not exists changes (
  rv integer primary key autoincrement, kind text not null, namespace text not null, name text not null,
  type text not null);
create table if not exists events (
  id integer primary key autoincrement, kind text not null, namespace text not null, name text not null,
  uid text not null, type text not null, reason text not null, message text not null,
  count integer not null, first_ts text not null, last_ts text not null);
create index if not exists events_by_object on events (kind, namespace, name);
create table if not exists leases (name text primary key, holder text not null, expires integer not null);
`;

/** How many change rows to keep; watchers further behind re-list. */
const CHANGES_KEPT = 10_000;

export interface SqliteStoreOptions {
  /** Clock for timestamps (tests). */
  now?: () => Date;
  /**
   * The file is shared by the members of a group (the system store): 0660 in a setgid directory
   * (shared_store_file.ts) instead of a private 0600 file.
   */
  shared?: SharedStoreOptions;
}

/** Runs synchronous store work as a promise: errors reject instead of throwing at the call. */
function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e);
  }
}

export class SqliteStore implements Store {
  readonly path: string;
  /** The group sharing the file (the system store); undefined: a private file. */
  readonly group?: string;
  #db: DatabaseSync;
  #now: () => Date;
  /** This handle's running watches, woken by its own writes (another process's are seen at the next poll). */
  #watches = new Set<() => void>();

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.path = path;
    this.#now = options.now ?? (() => new Date());
    this.group = options.shared?.group;
    if (options.shared) {
      prepareSharedStore(path, options.shared);
    } else if (path !== ":memory:") {
      // Create the file 0600 before SQLite does, so it never exists with wider permissions.
      Deno.openSync(path, { create: true, append: true, mode: 0o600 }).close();
      Deno.chmodSync(path, 0o600);
    }
    this.#db = new DatabaseSync(path);
    // Several lv processes may open a new store at once: wait on locks first, then switch to WAL (which
    // SQLite does not wait for: retried) and create the schema in a transaction.
    this.#db.exec("pragma busy_timeout = 10000; pragma synchronous = normal;");
    for (let attempt = 0;; attempt++) {
      try {
        this.#db.exec("pragma journal_mode = wal;");
        break;
      } catch (e) {
        if (attempt >= 100 || !/locked|busy/i.test(String(e))) throw e;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      }
    }
    // A store at this version has its schema: no write lock taken (lv get beside a writer does not wait).
    if (this.#schemaVersion(path) === STORE_SCHEMA_VERSION) return;
    this.#tx(() => {
      const found = this.#schemaVersion(path);
      this.#db.exec(SCHEMA);
      if (found < STORE_SCHEMA_VERSION) this.#db.exec(`pragma user_version = ${STORE_SCHEMA_VERSION}`);
    });
  }

  /** The file's schema version; a newer lv's file is refused. */
  #schemaVersion(path: string): number {
    const found = Number(
      (this.#db.prepare("pragma user_version").get() as { user_version: number }).user_version,
    );
    if (found > STORE_SCHEMA_VERSION) throw new StoreVersionError(path, found);
    return found;
  }

  get location(): string {
    return this.path;
  }

  close(): void {
    this.#db.close();
  }

  #tx<T>(fn: () => T): T {
    this.#db.exec("begin immediate");
    try {
      const result = fn();
      this.#db.exec("commit");
      for (const wake of this.#watches) wake();
      return result;
    } catch (e) {
      this.#db.exec("rollback");
      throw e;
    }
  }

  #read(key: ObjectKey): AnyResource | undefined {
    const row = this.#db.prepare("select body from objects where kind = ? and namespace = ? and name = ?")
      .get(key.kind, key.namespace, key.name) as { body: string } | undefined;
    return row ? JSON.parse(row.body) : undefined;
  }

  #write(obj: AnyResource, type: Change["type"]): AnyResource {
    const { kind, namespace, name } = keyOf(obj);
    const rv = Number(
      this.#db.prepare("insert into changes (kind, namespace, name, type) values (?, ?, ?, ?)")
        .run(kind, namespace, name, type).lastInsertRowid,
    );
    if (rv % 1000 === 0) this.#db.prepare("delete from changes where rv <= ?").run(rv - CHANGES_KEPT);
    const stored = structuredClone(obj);
    stored.metadata.resourceVersion = String(rv);
    if (type === "DELETED") {
      this.#db.prepare("delete from objects where kind = ? and namespace = ? and name = ?").run(
        kind,
        namespace,
        name,
      );
    } else {
      this.#db.prepare(
        "insert or replace into objects (kind, namespace, name, rv, body) values (?, ?, ?, ?, ?)",
      )
        .run(kind, namespace, name, rv, JSON.stringify(stored));
    }
    return stored;
  }

  get(key: ObjectKey): Promise<AnyResource | undefined> {
    return Promise.resolve(this.#read(key));
  }

  list(kind: Kind, options: ListOptions = {}): Promise<AnyResource[]> {
    const rows =
      (options.namespace === undefined
        ? this.#db.prepare("select body from objects where kind = ? order by namespace, name").all(kind)
        : this.#db.prepare("select body from objects where kind = ? and namespace = ? order by name").all(
          kind,
          options.namespace,
        )) as { body: string }[];
    const objects = rows.map((r) => JSON.parse(r.body) as AnyResource);
    const labels = Object.entries(options.labels ?? {});
    return Promise.resolve(objects.filter((o) => labels.every(([k, v]) => o.metadata.labels?.[k] === v)));
  }

  /** create() inside a transaction. */
  #createRow(obj: AnyResource): AnyResource {
    if (this.#read(keyOf(obj))) throw new AlreadyExistsError(keyOf(obj));
    return this.#write(createdObject(obj, this.#now()), "ADDED");
  }

  create(obj: AnyResource): Promise<AnyResource> {
    return settle(() => this.#tx(() => this.#createRow(obj)));
  }

  readonly maxBatch = Infinity;

  writeAll(writes: BatchWrite[]): Promise<AnyResource[]> {
    return settle(() =>
      this.#tx(() =>
        writes.map((w) =>
          w.op === "create" ? this.#createRow(w.obj) : this.#swapRow(w.obj, (c) => updatedObject(c, w.obj))
        )
      )
    );
  }

  restore(obj: AnyResource): Promise<AnyResource> {
    return settle(() =>
      this.#tx(() => {
        if (this.#read(keyOf(obj))) throw new AlreadyExistsError(keyOf(obj));
        return this.#write(structuredClone(obj), "ADDED");
      })
    );
  }

  /** A compare-and-swap write inside a transaction. */
  #swapRow(
    obj: AnyResource,
    mutate: (current: AnyResource) => AnyResource,
    type: "MODIFIED" | "STATUS" = "MODIFIED",
  ): AnyResource {
    const key = keyOf(obj);
    const current = this.#read(key);
    if (!current) throw new NotFoundError(key);
    checkVersion(obj, current);
    const next = mutate(current);
    const outcome = writeOutcome(current, next);
    if (outcome === "none") return current;
    return this.#write(next, outcome === "remove" ? "DELETED" : type);
  }

  #compareAndSwap(
    obj: AnyResource,
    mutate: (current: AnyResource) => AnyResource,
    type: "MODIFIED" | "STATUS" = "MODIFIED",
  ): AnyResource {
    return this.#tx(() => this.#swapRow(obj, mutate, type));
  }

  update(obj: AnyResource): Promise<AnyResource> {
    return settle(() => this.#compareAndSwap(obj, (current) => updatedObject(current, obj)));
  }

  updateStatus(obj: AnyResource): Promise<AnyResource> {
    return settle(() => this.#compareAndSwap(obj, (current) => statusUpdatedObject(current, obj), "STATUS"));
  }

  delete(key: ObjectKey): Promise<boolean> {
    return settle(() =>
      this.#tx(() => {
        const current = this.#read(key);
        if (!current) return false;
        const what = deletion(current, this.#now());
        if ("remove" in what) this.#write(current, "DELETED");
        else if (what.mark) this.#write(what.mark, "MODIFIED");
        return true;
      })
    );
  }

  /** Changes after resourceVersion `since`, oldest first (at most 5000). */
  changes(since: number): Promise<Change[]> {
    const rows = this.#db.prepare(
      "select rv, kind, namespace, name, type from changes where rv > ? order by rv limit 5000",
    ).all(since) as { rv: number; kind: Kind; namespace: string; name: string; type: Change["type"] }[];
    return Promise.resolve(rows.map((r) => ({
      resourceVersion: Number(r.rv),
      kind: r.kind,
      namespace: r.namespace,
      name: r.name,
      type: r.type,
    })));
  }

  watch(
    since: number,
    onChanges: (changes: Change[]) => void | Promise<void>,
    options: WatchOptions = {},
  ): Watch {
    let stopped = false;
    const pollMs = options.pollMs ?? 100;
    // A write of this handle is read soon after it, not at the next poll (lv delete waits on what its own
    // controllers write), but never sooner than 10 times what the last read took: many writes in a row are
    // still read in batches, as by the poll (bench item 9, 500 domains).
    let written = false;
    let onWrite = () => void (written = true);
    let stopSleep = () => {};
    const watcher = () => onWrite();
    this.#watches.add(watcher);
    const loop = async () => {
      while (!stopped) {
        const started = performance.now();
        written = false;
        try {
          const oldest = this.#db.prepare("select min(rv) as rv from changes").get() as { rv: number | null };
          if (oldest.rv !== null && since < Number(oldest.rv) - 1 && options.onReset) {
            since = await this.head();
            await options.onReset(since);
          }
          const changes = await this.changes(since);
          if (changes.length > 0) {
            since = changes.at(-1)!.resourceVersion;
            await onChanges(changes);
          }
        } catch {
          // A busy file or a failing handler: the next poll reads again from where it got.
        }
        if (stopped) break;
        const ended = performance.now();
        const soonest = ended + Math.min(pollMs, 10 * (ended - started));
        await new Promise<void>((resolve) => {
          let timer = setTimeout(resolve, written ? soonest - ended : pollMs);
          onWrite = () => {
            clearTimeout(timer);
            timer = setTimeout(resolve, Math.max(0, soonest - performance.now()));
            onWrite = () => {};
          };
          stopSleep = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        onWrite = () => void (written = true);
      }
    };
    const running = loop();
    return {
      close: async () => {
        stopped = true;
        this.#watches.delete(watcher);
        stopSleep();
        await running;
      },
    };
  }

  head(): Promise<number> {
    const row = this.#db.prepare("select max(rv) as rv from changes").get() as { rv: number | null };
    return Promise.resolve(Number(row.rv ?? 0));
  }

  recordEvent(obj: AnyResource, event: Pick<LvEvent, "type" | "reason" | "message">): Promise<void> {
    const { kind, namespace, name } = keyOf(obj);
    const now = this.#now().toISOString();
    this.#tx(() => {
      const last = this.#db.prepare(
        "select id, uid, reason, message, type from events where kind = ? and namespace = ? and name = ? order by id desc limit 1",
      ).get(kind, namespace, name) as
        | { id: number; uid: string; reason: string; message: string; type: LvEvent["type"] }
        | undefined;
      if (last && repeatsEvent(last, obj, event)) {
        this.#db.prepare("update events set count = count + 1, last_ts = ? where id = ?").run(now, last.id);
        return;
      }
      this.#db.prepare(
        "insert into events (kind, namespace, name, uid, type, reason, message, count, first_ts, last_ts) values (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
      ).run(kind, namespace, name, obj.metadata.uid, event.type, event.reason, event.message, now, now);
      this.#db.prepare(
        "delete from events where kind = ? and namespace = ? and name = ? and id not in (select id from events where kind = ? and namespace = ? and name = ? order by id desc limit ?)",
      ).run(kind, namespace, name, kind, namespace, name, EVENTS_KEPT);
    });
    return Promise.resolve();
  }

  events(key: ObjectKey): Promise<LvEvent[]> {
    const rows = this.#db.prepare(
      "select * from events where kind = ? and namespace = ? and name = ? order by id",
    ).all(key.kind, key.namespace, key.name) as {
      kind: Kind;
      namespace: string;
      name: string;
      uid: string;
      type: LvEvent["type"];
      reason: string;
      message: string;
      count: number;
      first_ts: string;
      last_ts: string;
    }[];
    return Promise.resolve(rows.map((r) => ({
      kind: r.kind,
      namespace: r.namespace,
      name: r.name,
      uid: r.uid,
      type: r.type,
      reason: r.reason,
      message: r.message,
      count: Number(r.count),
      firstTimestamp: r.first_ts,
      lastTimestamp: r.last_ts,
    })));
  }

  acquireLease(
    name: string,
    holder: string,
    ttlMs: number,
    options: { takeFrom?: string } = {},
  ): Promise<boolean> {
    const now = this.#now().getTime();
    return settle(() =>
      this.#tx(() => {
        const row = this.#db.prepare("select holder, expires from leases where name = ?").get(name) as
          | { holder: string; expires: number }
          | undefined;
        if (row && row.holder !== holder && row.holder !== options.takeFrom && Number(row.expires) > now) {
          return false;
        }
        this.#db.prepare("insert or replace into leases (name, holder, expires) values (?, ?, ?)").run(
          name,
          holder,
          now + ttlMs,
        );
        return true;
      })
    );
  }

  releaseLease(name: string, holder: string): Promise<void> {
    this.#db.prepare("delete from leases where name = ? and holder = ?").run(name, holder);
    return Promise.resolve();
  }

  leaseHolder(name: string): Promise<string | undefined> {
    const row = this.#db.prepare("select holder, expires from leases where name = ?").get(name) as
      | { holder: string; expires: number }
      | undefined;
    return Promise.resolve(row && Number(row.expires) > this.#now().getTime() ? row.holder : undefined);
  }
}
