/**
 * A work queue of keys, as in client-go: a key is never processed by two workers at once, a key added while
 * it is being processed is processed again afterwards, and failures back off exponentially with jitter.
 */

export interface WorkQueueOptions {
  /** First retry delay. Default 200 ms. */
  baseDelayMs?: number;
  /** Longest retry delay. Default 30 s. */
  maxDelayMs?: number;
  /** Random factor applied to delays (0.1 = ±10%). Default 0.1. */
  jitter?: number;
}

export class WorkQueue {
  #ready: string[] = [];
  #queued = new Set<string>();
  #active = new Set<string>();
  #dirty = new Set<string>();
  #urgent = new Set<string>();
  #failures = new Map<string, number>();
  #timers = new Map<string, { at: number; id: ReturnType<typeof setTimeout> }>();
  #waiters: (() => void)[] = [];
  #closed = false;
  readonly #base: number;
  readonly #max: number;
  readonly #jitter: number;

  constructor(options: WorkQueueOptions = {}) {
    this.#base = options.baseDelayMs ?? 200;
    this.#max = options.maxDelayMs ?? 30_000;
    this.#jitter = options.jitter ?? 0.1;
  }

  /** Adds a key now. */
  add(key: string): void {
    if (this.#closed) return;
    if (this.#active.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#queued.has(key)) return;
    this.#queued.add(key);
    if (this.#urgent.has(key)) this.#ready.unshift(key);
    else this.#ready.push(key);
    this.#wake();
  }

  /**
   * Keys handed out before the others whenever they are added (now, after a delay or a backoff): what a
   * command waits on, so each of its passes does not wait behind every other key.
   */
  prioritize(keys: Iterable<string>): void {
    for (const key of keys) this.#urgent.add(key);
  }

  /** Adds a key after delayMs (an earlier pending add wins). */
  addAfter(key: string, delayMs: number): void {
    if (this.#closed) return;
    if (delayMs <= 0) return this.add(key);
    const at = Date.now() + delayMs;
    const pending = this.#timers.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.id);
    const id = setTimeout(() => {
      this.#timers.delete(key);
      this.add(key);
    }, delayMs);
    this.#timers.set(key, { at, id });
  }

  /** Adds a key after this key's next backoff delay; returns the delay. */
  addRateLimited(key: string): number {
    const n = this.#failures.get(key) ?? 0;
    this.#failures.set(key, n + 1);
    const raw = Math.min(this.#max, this.#base * 2 ** n);
    const delay = Math.round(raw * (1 + this.#jitter * (2 * Math.random() - 1)));
    this.addAfter(key, delay);
    return delay;
  }

  /** Forgets a key's failures (after a success). */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** The next key, waiting for one; undefined once the queue is closed. */
  async get(): Promise<string | undefined> {
    while (!this.#closed) {
      const key = this.#ready.shift();
      if (key !== undefined) {
        this.#queued.delete(key);
        this.#active.add(key);
        return key;
      }
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    return undefined;
  }

  /** Marks a key's processing finished; re-adds it if it was added meanwhile. */
  done(key: string): void {
    this.#active.delete(key);
    if (this.#dirty.delete(key)) this.add(key);
  }

  /** Keys being processed now. */
  get active(): string[] {
    return [...this.#active];
  }

  /** Keys waiting, being processed, or scheduled. */
  get size(): number {
    return this.#ready.length + this.#active.size + this.#timers.size;
  }

  get idle(): boolean {
    return this.#ready.length === 0 && this.#active.size === 0;
  }

  close(): void {
    this.#closed = true;
    for (const t of this.#timers.values()) clearTimeout(t.id);
    this.#timers.clear();
    this.#wake(true);
  }

  #wake(all = false): void {
    const waiters = all ? this.#waiters.splice(0) : this.#waiters.splice(0, 1);
    for (const w of waiters) w();
  }
}
