/**
 * Controller leases, one per context: whoever holds a context's lease in the store runs its controllers;
 * anyone else stands by and takes the lease when the holder stops renewing it (it died: the TTL runs out,
 * or, on this host, its process is gone).
 */
import type { Store } from "../store/store.ts";

/** The lease of a context's controllers; `undefined`: objects without a context (where a bare URI points). */
export function controllerLease(context: string | undefined): string {
  return context === undefined ? "controller" : `controller/${context}`;
}

export interface LeaseKeeperOptions {
  store: Store;
  /** Who this process is ("host:pid"). */
  holder: string;
  ttlMs: number;
  /** The lease was taken: start what it guards. */
  gained(name: string): Promise<void>;
  /** The lease was lost or released: stop what it guards. */
  lost(name: string): Promise<void>;
  /** Another process holds the lease (told once per holder). */
  waiting?(name: string, holder: string): void;
  /** A holder known to be dead (a process of this host that is gone): its lease need not be waited out. */
  dead?(holder: string): boolean;
}

/** Keeps a set of leases: tick() takes free ones, renews held ones, and gives up those it cannot renew. */
export class LeaseKeeper {
  readonly names: string[];
  #options: LeaseKeeperOptions;
  /** Held leases and when each was last renewed. */
  #held = new Map<string, number>();
  #told = new Map<string, string>();

  constructor(names: string[], options: LeaseKeeperOptions) {
    this.names = names;
    this.#options = options;
  }

  held(): string[] {
    return [...this.#held.keys()];
  }

  /** One round: every lease is taken or renewed where possible. Call it every ttlMs / 3. */
  async tick(): Promise<void> {
    const { store, holder, ttlMs } = this.#options;
    for (const name of this.names) {
      let ok: boolean;
      try {
        const other = this.#held.has(name) ? undefined : await store.leaseHolder(name);
        const takeFrom = other && other !== holder && this.#options.dead?.(other) ? other : undefined;
        ok = await store.acquireLease(name, holder, ttlMs, { takeFrom });
        if (!ok && other && this.#told.get(name) !== other) {
          this.#told.set(name, other);
          this.#options.waiting?.(name, other);
        }
      } catch {
        // The store did not answer: keep running until the lease may have run out elsewhere.
        const renewed = this.#held.get(name);
        ok = renewed !== undefined && Date.now() - renewed < ttlMs * 2 / 3;
        if (ok) continue;
      }
      if (ok && !this.#held.has(name)) {
        this.#held.set(name, Date.now());
        this.#told.delete(name);
        await this.#options.gained(name);
      } else if (ok) {
        this.#held.set(name, Date.now());
      } else if (this.#held.has(name)) {
        this.#held.delete(name);
        await this.#options.lost(name);
      }
    }
  }

  /** Stops what every held lease guards, then releases the leases. */
  async release(): Promise<void> {
    for (const name of this.held()) {
      this.#held.delete(name);
      await this.#options.lost(name);
      await this.#options.store.releaseLease(name, this.#options.holder).catch(() => {});
    }
  }
}
