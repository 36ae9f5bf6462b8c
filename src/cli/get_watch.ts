/** lv get KIND [NAME] -w / --watch-only: the listing (unless --watch-only), then one line per change. */
import type { AnyResource } from "../api/types.ts";
import { get, type GetOptions } from "./get.ts";
import { printObjects, printTable } from "./printers.ts";
import type { StoreRuntime } from "./store_runtime.ts";
import { storeChanges } from "./store_changes.ts";
import type { Target } from "./targets.ts";

export interface WatchOptions extends GetOptions {
  /** Skip the initial listing. */
  watchOnly: boolean;
  signal?: AbortSignal;
}

function wanted(targets: Target[], obj: AnyResource): boolean {
  return targets.some((t) =>
    t.kind === obj.kind && (t.names.length === 0 || t.names.includes(obj.metadata.name))
  );
}

async function line(obj: AnyResource, options: WatchOptions, header: boolean): Promise<string> {
  const spec = options.output;
  if (spec.format === "table" || spec.format === "wide") {
    const table = printTable(obj.kind, [obj], spec.format === "wide", {
      labelColumns: options.labelColumns,
      showLabels: options.showLabels,
    });
    return header && !options.noHeaders ? table : table.slice(table.indexOf("\n") + 1);
  }
  if (spec.format === "custom-columns") {
    const { printCustomColumns } = await import("./output_format.ts");
    return await printCustomColumns(spec.columns, [obj], !header || !!options.noHeaders);
  }
  if (spec.format === "jsonpath") return spec.print(obj);
  return await printObjects([obj], spec.format, true);
}

export async function watch(rt: StoreRuntime, targets: Target[], options: WatchOptions): Promise<void> {
  const since = await rt.store.head();
  if (!options.watchOnly) await get(rt, targets, options);
  let header = options.watchOnly;
  const last = new Map<string, AnyResource>();
  for (const t of targets) {
    for (const o of await rt.store.list(t.kind, { namespace: options.namespace })) {
      last.set(`${o.kind}/${o.metadata.namespace}/${o.metadata.name}`, o);
    }
  }
  for await (const change of storeChanges(rt.store, since, { signal: options.signal })) {
    if (options.namespace && change.namespace !== options.namespace) continue;
    const id = `${change.kind}/${change.namespace}/${change.name}`;
    const obj = change.type === "DELETED" ? last.get(id) : await rt.store.get(change);
    if (!obj || !wanted(targets, obj)) continue;
    if (!options.allContexts && obj.spec.context !== rt.connection.context) continue;
    if (options.selector && !options.selector.matches(obj.metadata.labels)) continue;
    if (change.type === "DELETED") last.delete(id);
    else last.set(id, obj);
    rt.output.out(await line(obj, options, header));
    header = false;
  }
}
