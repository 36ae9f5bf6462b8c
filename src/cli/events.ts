/** lv get events [--for KIND/NAME] [-w]: every object's events, newest last, like kubectl events. */
import { KINDS } from "../api/types.ts";
import type { LvEvent, ObjectKey } from "../store/store.ts";
import { kindWord } from "./kinds.ts";
import { age, renderTable } from "./printers.ts";
import type { StoreRuntime } from "./store_runtime.ts";
import { pause } from "./store_changes.ts";

export interface EventsOptions {
  /** undefined: every namespace. */
  namespace?: string;
  /** --for: only this object's events. */
  for?: ObjectKey;
  watch: boolean;
  noHeaders?: boolean;
  signal?: AbortSignal;
  now?: () => Date;
}

/** The events of the objects in the store (or of one), oldest first. */
export async function listEvents(rt: StoreRuntime, options: Pick<EventsOptions, "namespace" | "for">) {
  const keys: ObjectKey[] = options.for ? [options.for] : [];
  if (!options.for) {
    for (const kind of KINDS) {
      for (const o of await rt.store.list(kind, { namespace: options.namespace })) {
        keys.push({ kind, namespace: o.metadata.namespace, name: o.metadata.name });
      }
    }
  }
  const all: LvEvent[] = [];
  for (const key of keys) all.push(...await rt.store.events(key));
  return all.sort((a, b) => a.lastTimestamp.localeCompare(b.lastTimestamp));
}

const HEADER = ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"];

function row(e: LvEvent, now: Date): string[] {
  return [age(e.lastTimestamp, now), e.type, e.reason, `${kindWord(e.kind)}/${e.name}`, e.message];
}

function identity(e: LvEvent): string {
  return `${e.kind}/${e.namespace}/${e.name}/${e.type}/${e.reason}/${e.message}`;
}

export async function events(rt: StoreRuntime, options: EventsOptions): Promise<void> {
  const now = options.now ?? (() => new Date());
  const seen = new Map<string, string>();
  const first = await listEvents(rt, options);
  for (const e of first) seen.set(identity(e), `${e.count}@${e.lastTimestamp}`);
  if (first.length > 0) {
    const rows = first.map((e) => row(e, now()));
    rt.output.out(renderTable(options.noHeaders ? rows : [HEADER, ...rows]));
  } else if (!options.watch) {
    rt.output.err(`No events found${options.namespace ? ` in namespace ${options.namespace}` : ""}.\n`);
  }
  let header = first.length === 0 && !options.noHeaders;
  while (options.watch && !options.signal?.aborted) {
    await pause(500, options.signal);
    const fresh = (await listEvents(rt, options)).filter((e) => {
      const id = identity(e);
      const version = `${e.count}@${e.lastTimestamp}`;
      if (seen.get(id) === version) return false;
      seen.set(id, version);
      return true;
    });
    if (fresh.length === 0) continue;
    const rows = fresh.map((e) => row(e, now()));
    rt.output.out(renderTable(header ? [HEADER, ...rows] : rows));
    header = false;
  }
}
