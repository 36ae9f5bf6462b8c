/**
 * The one place the CLI follows the store's changes (lv get -w): Store.watch (SQLite polls its change log,
 * etcd pushes) as an async iterator.
 */
import type { Change, Store } from "../store/store.ts";

/** Resolves after `ms`, or at once when `signal` aborts. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done);
  });
}

/** Every change after `since`, in order, until `signal` aborts (forever without one). */
export async function* storeChanges(
  store: Store,
  since: number,
  options: { signal?: AbortSignal; pollMs?: number } = {},
): AsyncGenerator<Change> {
  const queue: Change[] = [];
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const watch = store.watch(since, (changes) => {
    queue.push(...changes);
    notify();
  }, { pollMs: options.pollMs });
  options.signal?.addEventListener("abort", notify);
  try {
    while (!options.signal?.aborted) {
      const next = queue.shift();
      if (next) yield next;
      else await new Promise<void>((resolve) => wake = resolve);
    }
  } finally {
    options.signal?.removeEventListener("abort", notify);
    await watch.close();
  }
}
