/**
 * The one place the CLI follows the store's changes (lv get -w, lv get events -w): the store's changes feed,
 * read every `pollMs`. A backend with a push watch (Store.watch, etcd) plugs in here and nowhere else.
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
  let rv = since;
  while (!options.signal?.aborted) {
    const changes = await store.changes(rv);
    for (const change of changes) {
      rv = change.resourceVersion;
      yield change;
    }
    if (changes.length === 0) await pause(options.pollMs ?? 200, options.signal);
  }
}
