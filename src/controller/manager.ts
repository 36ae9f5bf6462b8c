/**
 * The controller manager: watches the store, feeds keys to a work queue, and runs one reconciler per kind
 * with a bounded number of workers. The same key is never reconciled twice at once.
 */
import { within } from "../api/within.ts";
import { setCondition } from "../api/conditions.ts";
import { referencesOf } from "../api/references.ts";
import { type AnyResource, type Kind, KINDS } from "../api/types.ts";
import { VirshError } from "../libvirt/virsh.ts";
import {
  type Change,
  ConflictError,
  keyString,
  type ObjectKey,
  refString,
  type Watch,
} from "../store/store.ts";
import {
  type ControllerContext,
  type Reconciler,
  RetryableError,
  TerminalError,
  WaitingError,
} from "./context.ts";
import { writeStatus } from "./object_ops.ts";
import { isProgrammingError, programmingErrorMessage } from "../api/programming_error.ts";
import { WorkQueue } from "./work_queue.ts";

export interface ManagerOptions {
  /** Objects reconciled at once. Default 4. */
  workers?: number;
  /** SQLite: how often its change log is read for changes another process made. Default 100 ms. */
  pollMs?: number;
  /** Every object is reconciled again this often (drift healing). Default 0: never. */
  resyncMs?: number;
  /** Retry delays. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** The objects this manager reconciles (one context's); default every object. */
  only?: (obj: AnyResource) => boolean;
  /** Where debugging lines (timings, the stack of an unexpected error) go. Default: stderr with LV_DEBUG set. */
  debug?: (line: string) => void;
  /** Called after each reconcile: a command waiting on its objects looks at them then, not at its next poll. */
  onReconciled?: () => void;
  /**
   * Objects queued before the rest, at start and whenever queued again: what a command waits on, so none of
   * its passes waits behind every other object in the store (a Box imported beside 500 Domains).
   */
  first?: ObjectKey[];
}

function parseKey(key: string): ObjectKey {
  const [kind, namespace, ...rest] = key.split("/");
  return { kind: kind as Kind, namespace, name: rest.join("/") };
}

export class Manager {
  readonly queue: WorkQueue;
  #ctx: ControllerContext;
  #reconcilers = new Map<Kind, Reconciler>();
  #options: Required<
    Omit<ManagerOptions, "baseDelayMs" | "maxDelayMs" | "only" | "debug" | "onReconciled" | "first">
  >;
  #only: (obj: AnyResource) => boolean;
  #debug: (line: string) => void;
  #onReconciled: () => void;
  #first: ObjectKey[];
  #running: Promise<void>[] = [];
  #stopped = false;
  #watch?: Watch;
  #resync?: ReturnType<typeof setInterval>;
  /** Reconciles finished, for tests and benchmarks. */
  reconciles = 0;

  constructor(ctx: ControllerContext, reconcilers: Reconciler[], options: ManagerOptions = {}) {
    this.#ctx = ctx;
    for (const r of reconcilers) this.#reconcilers.set(r.kind, r);
    this.#options = {
      workers: options.workers ?? 4,
      pollMs: options.pollMs ?? 100,
      resyncMs: options.resyncMs ?? 0,
    };
    this.#only = options.only ?? (() => true);
    this.#debug = options.debug ?? debugToStderr;
    this.#onReconciled = options.onReconciled ?? (() => {});
    this.#first = options.first ?? [];
    this.queue = new WorkQueue({ baseDelayMs: options.baseDelayMs, maxDelayMs: options.maxDelayMs });
  }

  /** Queues every object, then follows the store's changes (a store watch). */
  async start(): Promise<void> {
    const since = await this.#ctx.store.head();
    this.queue.prioritize(this.#first.map(keyString));
    for (const key of this.#first) this.queue.add(keyString(key));
    await this.enqueueAll();
    for (let i = 0; i < this.#options.workers; i++) this.#running.push(this.#work());
    this.#watch = this.#ctx.store.watch(since, (changes) => this.#changed(changes), {
      pollMs: this.#options.pollMs,
      onReset: () => this.enqueueAll(),
    });
    if (this.#options.resyncMs > 0) {
      this.#resync = setInterval(() => this.enqueueAll(), this.#options.resyncMs);
    }
  }

  /**
   * Stops taking work and waits for the reconciles running, at most `graceMs` when given; resolves with
   * whether they all finished (else {@linkcode inFlight} names the ones left running).
   */
  async stop(graceMs?: number): Promise<boolean> {
    this.#stopped = true;
    await this.#watch?.close();
    clearInterval(this.#resync);
    this.queue.close();
    const finished = Promise.all(this.#running).then(() => true);
    return await (graceMs === undefined ? finished : within(finished, graceMs, false));
  }

  /** The objects being reconciled now ("domain/web"). */
  inFlight(): string[] {
    return this.queue.active.map((key) => refString(parseKey(key)));
  }

  async enqueueAll(): Promise<void> {
    for (const kind of KINDS) {
      for (const obj of await this.#ctx.store.list(kind)) {
        if (this.#only(obj)) this.queue.add(keyString(objKey(obj)));
      }
    }
  }

  /**
   * Queues an object, the objects it references (a Box counts its Volumes) and the objects whose readiness
   * or deletion depends on it. A status-only change is the controller's own write: it concerns only the
   * dependents; re-queueing the object would defeat the backoff of a failing one, and re-queueing what it
   * references would make every status write cost a pass over them.
   */
  async enqueueRelated(key: ObjectKey, options: { statusOnly?: boolean } = {}): Promise<void> {
    await this.#enqueueRelatedAll([{ key, statusOnly: !!options.statusOnly }]);
  }

  /**
   * {@linkcode enqueueRelated} for a batch of changes: the dependents of all of them are found in one
   * listing of the store, not one per change (a batch of N status writes over N objects would otherwise
   * read N×N objects: minutes at 500 domains).
   */
  async #enqueueRelatedAll(changed: { key: ObjectKey; statusOnly: boolean }[]): Promise<void> {
    const keys = new Set<string>();
    // Namespaces an object left: what it referenced is gone from the store with it, so every object being
    // deleted there is queued (one may be waiting for this user of it to go; else it waits out its retry).
    const removedFrom = new Set<string>();
    for (const { key, statusOnly } of changed) {
      keys.add(keyString(key));
      if (statusOnly) continue;
      this.queue.add(keyString(key));
      const obj = await this.#ctx.store.get(key);
      if (obj) { for (const ref of referencesOf(obj)) this.queue.add(keyString(ref)); }
      else removedFrom.add(key.namespace);
    }
    for (const namespace of new Set(changed.map((c) => c.key.namespace))) {
      for (const kind of KINDS) {
        for (const other of await this.#ctx.store.list(kind, { namespace })) {
          const owned = other.metadata.ownerReferences.some((o) =>
            keys.has(keyString({ kind: o.kind, namespace, name: o.name }))
          );
          const waiting = removedFrom.has(namespace) && other.metadata.deletionTimestamp !== undefined;
          if (owned || waiting || referencesOf(other).some((r) => keys.has(keyString(r)))) {
            this.queue.add(keyString(objKey(other)));
          }
        }
      }
    }
  }

  async #changed(changes: Change[]): Promise<void> {
    const seen = new Set<string>();
    const changed: { key: ObjectKey; statusOnly: boolean }[] = [];
    for (const change of changes) {
      const k = `${keyString(change)}/${change.type === "STATUS"}`;
      if (seen.has(k)) continue;
      seen.add(k);
      changed.push({ key: change, statusOnly: change.type === "STATUS" });
    }
    if (!this.#stopped) await this.#enqueueRelatedAll(changed);
  }

  async #work(): Promise<void> {
    while (true) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.#reconcileKey(key);
      } catch (error) {
        // The store itself failed (etcd without quorum, a busy file): nothing could be recorded; try later.
        this.#debug(`${key}: store error: ${error}`);
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  async #reconcileKey(key: string): Promise<void> {
    const store = this.#ctx.store;
    const obj = await store.get(parseKey(key));
    if (!obj || !this.#only(obj)) return;
    const reconciler = this.#reconcilers.get(obj.kind);
    if (!reconciler) return;
    if (await this.#collectGarbage(obj)) return;
    const started = Date.now();
    try {
      const result = await reconciler.reconcile(obj, this.#ctx);
      this.#debug(
        `${key} reconciled in ${Date.now() - started} ms${
          result?.requeueAfterMs ? `, again in ${result.requeueAfterMs} ms` : ""
        }`,
      );
      this.queue.forget(key);
      if (result?.requeue) this.queue.add(key);
      else if (result?.requeueAfterMs) this.queue.addAfter(key, result.requeueAfterMs);
    } catch (error) {
      this.#debug(`${key} failed after ${Date.now() - started} ms: ${describeForDebug(error)}`);
      await this.#failed(key, obj, error);
    } finally {
      this.reconciles++;
      this.#onReconciled();
    }
  }

  /** Deletes an object whose controlling owner is gone. Returns true when it did. */
  async #collectGarbage(obj: AnyResource): Promise<boolean> {
    if (obj.metadata.deletionTimestamp) return false;
    for (const ref of obj.metadata.ownerReferences) {
      if (!ref.controller) continue;
      const owner = await this.#ctx.store.get({
        kind: ref.kind,
        namespace: obj.metadata.namespace,
        name: ref.name,
      });
      if (!owner || owner.metadata.uid !== ref.uid) {
        await this.#ctx.event(
          obj,
          "Normal",
          "GarbageCollected",
          `owner ${ref.kind.toLowerCase()}/${ref.name} is gone`,
        );
        await this.#ctx.store.delete(objKey(obj));
        return true;
      }
    }
    return false;
  }

  async #failed(key: string, obj: AnyResource, error: unknown): Promise<void> {
    if (error instanceof ConflictError) {
      this.queue.addAfter(key, 50);
      return;
    }
    let reason: string, message: string, retry: number | undefined;
    if (error instanceof WaitingError) {
      [reason, message] = [error.reason, error.message];
      this.queue.addAfter(key, error.retryAfterMs);
    } else if (error instanceof TerminalError) {
      [reason, message] = [error.reason, error.message];
    } else {
      [reason, message] = describeError(error, obj);
      retry = this.queue.addRateLimited(key);
    }
    const retryText = retry !== undefined ? ` (retrying in ${(retry / 1000).toFixed(1)}s)` : "";
    const current = await writeStatus(this.#ctx.store, obj, (status) => {
      // Only a terminal error fails the object; a retried one (libvirt away, a transient error) leaves the
      // phase as it was, so a waiting apply keeps waiting.
      if (obj.metadata.deletionTimestamp) status.phase = "Deleting";
      else if (error instanceof TerminalError) status.phase = "Failed";
      else status.phase ??= "Pending";
      setCondition(status, { type: "Ready", status: "False", reason, message: message + retryText });
      if (error instanceof TerminalError) status.observedGeneration = obj.metadata.generation;
    });
    if (current && !(error instanceof WaitingError)) {
      await this.#ctx.event(current, "Warning", reason, message);
    }
  }
}

/**
 * The Ready reason and message of an error retrying may cure. A programming error (a TypeError and its
 * kin) is lv's bug: it is said so, and its own words and stack go only to debugging output.
 */
export function describeError(error: unknown, obj: AnyResource): [reason: string, message: string] {
  if (error instanceof VirshError) {
    return [error.unreachable ? "LibvirtUnreachable" : "LibvirtError", error.message];
  }
  if (error instanceof RetryableError) return [error.reason, error.message];
  if (isProgrammingError(error)) {
    return [
      "InternalError",
      programmingErrorMessage(`reconciling ${obj.kind.toLowerCase()}/${obj.metadata.name}`),
    ];
  }
  return ["Error", error instanceof Error ? error.message : String(error)];
}

function describeForDebug(error: unknown): string {
  return isProgrammingError(error) ? error.stack ?? String(error) : String(error);
}

const DEBUG = !!Deno.env.get("LV_DEBUG");
function debugToStderr(line: string): void {
  if (DEBUG) console.error(`[${new Date().toISOString().slice(11, 23)}] ${line}`);
}

function objKey(obj: AnyResource): ObjectKey {
  return { kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name };
}
