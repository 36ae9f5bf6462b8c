/**
 * `lv rsync NAME --watch`, Vagrant's rsync-auto: after a first sync, watches the host sources of the Domains'
 * rsync folders and syncs a Domain again when a file under one of its sources changes, until Ctrl-C. Changes are
 * debounced (a burst of writes is one sync, made once the burst has been quiet for a moment), and changes made
 * while a sync runs give one more sync after it.
 */
import type { Domain } from "../api/types.ts";
import { CommandFailed } from "./errors.ts";
import type { Runtime } from "./runtime.ts";
import { request, type VerbOptions } from "./verbs.ts";

/** How long a burst of changes must be quiet before the sync. */
export const WATCH_DEBOUNCE_MS = 300;

export interface ResyncOptions {
  /** Quiet time after the last change before syncing. */
  debounceMs: number;
  /** Aborted: stop (after a sync that runs). */
  signal: AbortSignal;
  /** The Domains a changed path belongs to. */
  namesOf(path: string): string[];
  /** A sync that failed: reported, and watching goes on. */
  onError(error: Error): void;
}

/** Resolves after `ms`, or at once when `signal` is aborted. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}

/**
 * Calls `sync` with the Domains whose sources changed, debounced, until `events` ends or the signal aborts.
 * Returns how many syncs ran.
 */
export async function resyncOnChanges(
  events: AsyncIterable<Deno.FsEvent>,
  sync: (names: string[]) => Promise<void>,
  options: ResyncOptions,
): Promise<number> {
  const { signal } = options;
  const dirty = new Set<string>();
  let lastChange = 0;
  let ended = false;
  let wake = () => {};
  const pump = (async () => {
    for await (const event of events) {
      if (event.kind === "access") continue;
      for (const path of event.paths) for (const name of options.namesOf(path)) dirty.add(name);
      lastChange = performance.now();
      wake();
    }
  })().finally(() => {
    ended = true;
    wake();
  });
  let syncs = 0;
  while (!signal.aborted && !(ended && dirty.size === 0)) {
    if (dirty.size === 0) {
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener("abort", done);
          resolve();
        };
        wake = done;
        signal.addEventListener("abort", done);
      });
      continue;
    }
    const quiet = performance.now() - lastChange;
    if (quiet < options.debounceMs) {
      await pause(options.debounceMs - quiet, signal);
      continue;
    }
    const names = [...dirty].sort();
    dirty.clear();
    try {
      await sync(names);
    } catch (e) {
      options.onError(e as Error);
    }
    syncs++;
  }
  if (ended) await pump;
  return syncs;
}

/** The Domains a path belongs to: those with an rsync folder whose source is the path or contains it. */
export function domainsOfPath(sources: Map<string, string[]>, path: string): string[] {
  const names = new Set<string>();
  for (const [source, owners] of sources) {
    const dir = source.endsWith("/") ? source : `${source}/`;
    if (path === source || path.startsWith(dir)) { for (const n of owners) names.add(n); }
  }
  return [...names];
}

/** lv rsync NAME... --watch: a first sync, then a sync after each change, until Ctrl-C (exit 0). */
export async function watchRsync(rt: Runtime, names: string[], options: VerbOptions): Promise<void> {
  const sources = new Map<string, string[]>();
  for (const name of names) {
    const dom = await rt.store.get({ kind: "Domain", namespace: options.namespace, name }) as
      | Domain
      | undefined;
    const folders = dom?.spec.syncedFolders.filter((f) => f.type === "rsync") ?? [];
    if (dom && folders.length === 0) throw new CommandFailed(`domain/${name} has no rsync folders to watch`);
    for (const f of folders) sources.set(f.source, [...(sources.get(f.source) ?? []), name]);
  }
  await request(rt, "rsync", names, options);
  const watcher = Deno.watchFs([...sources.keys()], { recursive: true });
  const stop = new AbortController();
  const onInterrupt = () => {
    stop.abort();
    watcher.close();
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  rt.output.err(`Watching ${[...sources.keys()].join(", ")} for changes (Ctrl-C to stop)\n`);
  try {
    await resyncOnChanges(watcher, (changed) => request(rt, "rsync", changed, options), {
      debounceMs: WATCH_DEBOUNCE_MS,
      signal: stop.signal,
      namesOf: (path) => domainsOfPath(sources, path),
      onError: (e) => rt.output.err(`rsync failed: ${e.message}\n`),
    });
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
    if (!stop.signal.aborted) watcher.close();
  }
}
