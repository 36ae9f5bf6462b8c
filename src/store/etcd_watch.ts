/**
 * An etcd watch on lv's objects as a stream of store Changes: resumes on another endpoint from the last
 * revision seen when a member goes away, and reports a compacted history as a reset.
 */
import type { Kind } from "../api/types.ts";
import type { Change, Watch, WatchOptions } from "./store.ts";
import { b64, type EtcdClient, prefixEnd, toKv } from "./etcd_client.ts";

/** `prefix/Kind/namespace/name` → the key's parts. */
function parseObjectKey(prefix: string, key: string): Omit<Change, "resourceVersion" | "type"> {
  const [kind, namespace, ...rest] = key.slice(prefix.length).split("/");
  return { kind: kind as Kind, namespace, name: rest.join("/") };
}

/** Everything but status, to tell a status-only write from the others. */
function withoutStatus(value: string): string {
  const { status: _status, ...rest } = JSON.parse(value);
  return JSON.stringify(rest);
}

// deno-lint-ignore no-explicit-any
function toChange(prefix: string, event: any): Change {
  const kv = toKv(event.kv);
  const base = { ...parseObjectKey(prefix, kv.key), resourceVersion: kv.modRevision };
  if (event.type === "DELETE") return { ...base, type: "DELETED" };
  if (kv.version === 1) return { ...base, type: "ADDED" };
  const prev = event.prev_kv ? toKv(event.prev_kv) : undefined;
  const statusOnly = prev !== undefined && withoutStatus(prev.value) === withoutStatus(kv.value);
  return { ...base, type: statusOnly ? "STATUS" : "MODIFIED" };
}

/** Splits a stream of newline-separated JSON messages. */
async function* messages(body: ReadableStream<Uint8Array>): AsyncGenerator<Record<string, unknown>> {
  let buffered = "";
  for await (const chunk of body.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    let newline;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) yield JSON.parse(line);
    }
  }
  if (buffered.trim()) yield JSON.parse(buffered);
}

export interface EtcdWatchOptions extends WatchOptions {
  /** The newest revision, for a reset after compaction. */
  head: () => Promise<number>;
}

/** Watches every key under `prefix` (objects) from revision since + 1. */
export function etcdWatch(
  client: EtcdClient,
  prefix: string,
  since: number,
  onChanges: (changes: Change[]) => void | Promise<void>,
  options: EtcdWatchOptions,
): Watch {
  const stop = new AbortController();
  let next = since + 1;
  const follow = async (): Promise<void> => {
    const { res } = await client.open("/v3/watch", {
      create_request: {
        key: b64(prefix),
        range_end: b64(prefixEnd(prefix)),
        start_revision: String(next),
        prev_kv: true,
      },
    }, { timeoutMs: 0, signal: stop.signal });
    if (!res.body) return;
    for await (const message of messages(res.body)) {
      // deno-lint-ignore no-explicit-any
      const result = message.result as any;
      if (!result) continue;
      if (result.canceled) {
        if (Number(result.compact_revision ?? 0) > 0) {
          const head = await options.head();
          next = head + 1;
          await options.onReset?.(head);
        }
        return;
      }
      const events = result.events ?? [];
      if (events.length === 0) continue;
      const changes = events.map((e: unknown) => toChange(prefix, e));
      next = changes.at(-1)!.resourceVersion + 1;
      await onChanges(changes);
    }
  };
  const loop = async () => {
    let delay = 50;
    while (!stop.signal.aborted) {
      try {
        await follow();
        delay = 50;
      } catch {
        if (stop.signal.aborted) return;
        delay = Math.min(delay * 2, 2000);
      }
      if (stop.signal.aborted) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        stop.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve();
        }, { once: true });
      });
    }
  };
  const running = loop();
  return {
    close: async () => {
      stop.abort();
      await running;
    },
  };
}
