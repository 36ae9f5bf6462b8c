/** lv rsync --watch: which Domains a change belongs to, and the debounced re-sync loop on a scripted event stream. */
import assert from "node:assert/strict";
import { domainsOfPath, resyncOnChanges } from "../../src/cli/rsync_watch.ts";

/** An event stream the test writes to, like Deno.watchFs's, ended by `end()`. */
class Events implements AsyncIterable<Deno.FsEvent> {
  #queue: Deno.FsEvent[] = [];
  #waiting?: () => void;
  #ended = false;
  push(...paths: string[]): void {
    for (const path of paths) this.#queue.push({ kind: "modify", paths: [path] });
    this.#waiting?.();
  }
  access(path: string): void {
    this.#queue.push({ kind: "access", paths: [path] });
    this.#waiting?.();
  }
  end(): void {
    this.#ended = true;
    this.#waiting?.();
  }
  async *[Symbol.asyncIterator](): AsyncIterator<Deno.FsEvent> {
    while (true) {
      const next = this.#queue.shift();
      if (next) yield next;
      else if (this.#ended) return;
      else await new Promise<void>((resolve) => this.#waiting = resolve);
    }
  }
}

/** Polls until `check` holds; fails naming `what` after 5 s. */
async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const SOURCES = new Map([["/src/web", ["web"]], ["/src/shared", ["web", "db"]], ["/src/db/", ["db"]]]);
const options = (signal: AbortSignal, errors: string[] = []) => ({
  debounceMs: 20,
  signal,
  namesOf: (path: string) => domainsOfPath(SOURCES, path),
  onError: (e: Error) => errors.push(e.message),
});

Deno.test("domainsOfPath() gives the Domains whose rsync source holds the path, not a sibling with the same prefix", () => {
  assert.deepEqual(domainsOfPath(SOURCES, "/src/web/a/b.txt"), ["web"]);
  assert.deepEqual(domainsOfPath(SOURCES, "/src/web"), ["web"]);
  assert.deepEqual(domainsOfPath(SOURCES, "/src/shared/x").sort(), ["db", "web"]);
  assert.deepEqual(domainsOfPath(SOURCES, "/src/db/x"), ["db"]);
  assert.deepEqual(domainsOfPath(SOURCES, "/src/website/x"), []);
});

Deno.test("resyncOnChanges(): a burst of changes is one sync of the Domains they belong to; reads are no change", async () => {
  const events = new Events();
  const syncs: string[][] = [];
  const stop = new AbortController();
  const done = resyncOnChanges(events, (names) => {
    syncs.push(names);
    return Promise.resolve();
  }, options(stop.signal));
  events.access("/src/web/read-only.txt");
  events.push("/src/web/a", "/src/web/b", "/src/web/c", "/src/db/x");
  await until(() => syncs.length === 1, "the first sync");
  events.push("/src/website/unrelated");
  events.end();
  assert.equal(await done, 1);
  assert.deepEqual(syncs, [["db", "web"]]);
});

Deno.test("resyncOnChanges(): changes during a sync give one more sync after it; a failed sync is reported and watching goes on", async () => {
  const events = new Events();
  const syncs: string[][] = [];
  const errors: string[] = [];
  let release = () => {};
  const stop = new AbortController();
  const done = resyncOnChanges(events, async (names) => {
    syncs.push(names);
    if (syncs.length === 1) {
      await new Promise<void>((resolve) => release = resolve);
      throw new Error("rsync exited 12");
    }
  }, options(stop.signal, errors));
  events.push("/src/web/a");
  await until(() => syncs.length === 1, "the first sync to start");
  events.push("/src/web/b", "/src/shared/c", "/src/web/d");
  release();
  await until(() => syncs.length === 2, "the second sync");
  stop.abort();
  assert.equal(await done, 2);
  assert.deepEqual(syncs, [["web"], ["db", "web"]]);
  assert.deepEqual(errors, ["rsync exited 12"]);
});

Deno.test("resyncOnChanges(): aborting (Ctrl-C) while idle or during the debounce ends without another sync", async () => {
  const events = new Events();
  let syncs = 0;
  const stop = new AbortController();
  const done = resyncOnChanges(events, () => {
    syncs++;
    return Promise.resolve();
  }, { ...options(stop.signal), debounceMs: 60_000 });
  events.push("/src/web/a");
  await new Promise((r) => setTimeout(r, 0));
  stop.abort();
  assert.equal(await done, 0);
  assert.equal(syncs, 0);
});
