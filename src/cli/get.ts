/** lv get: list objects as a table or in a machine format. */
import type { AnyResource } from "../api/types.ts";
import { colourWanted } from "./colour.ts";
import { CommandFailed } from "./errors.ts";
import { plural } from "./kinds.ts";
import { type OutputSpec, printCustomColumns, sortBy } from "./output_format.ts";
import { printObjects, printTable } from "./printers.ts";
import type { StoreRuntime } from "./store_runtime.ts";
import type { LabelSelector, Target } from "./targets.ts";

export interface GetOptions {
  output: OutputSpec;
  selector?: LabelSelector;
  /** undefined: all namespaces. */
  namespace?: string;
  /** Every context (-A), with NAMESPACE and CONTEXT columns; else only the selected context's objects. */
  allContexts?: boolean;
  /** --sort-by JSONPATH. */
  sortBy?: string;
  /** -L keys: a column each. */
  labelColumns?: string[];
  showLabels?: boolean;
  noHeaders?: boolean;
}

interface Group {
  target: Target;
  objects: AnyResource[];
}

/** The objects each target names (or all of its kind), and the names not found. */
export async function findTargets(
  rt: StoreRuntime,
  targets: Target[],
  options: Pick<GetOptions, "selector" | "namespace" | "allContexts" | "sortBy">,
): Promise<{ groups: Group[]; missing: string[] }> {
  const groups: Group[] = [];
  const missing: string[] = [];
  for (const target of targets) {
    let objects = (await rt.store.list(target.kind, { namespace: options.namespace }))
      .filter((o) => options.allContexts || o.spec.context === rt.connection.context)
      .filter((o) => !options.selector || options.selector.matches(o.metadata.labels));
    if (target.names.length > 0) {
      const found = target.names.map((n) => objects.find((o) => o.metadata.name === n));
      target.names.forEach((n, i) => {
        if (!found[i]) missing.push(`${target.kind.toLowerCase()}/${n}`);
      });
      objects = found.filter((o): o is AnyResource => !!o);
    }
    groups.push({ target, objects: options.sortBy ? await sortBy(objects, options.sortBy) : objects });
  }
  return { groups, missing };
}

export async function get(rt: StoreRuntime, targets: Target[], options: GetOptions): Promise<void> {
  const { groups, missing } = await findTargets(rt, targets, options);
  const all = groups.flatMap((g) => g.objects);
  const spec = options.output;
  const single = targets.length === 1 && targets[0].names.length === 1;
  if (spec.format === "table" || spec.format === "wide") {
    const shown = groups.filter((g) => g.objects.length > 0);
    rt.output.out(
      shown.map((g) =>
        printTable(g.target.kind, g.objects, spec.format === "wide", {
          withKind: groups.length > 1,
          contextOf: options.allContexts ? (o) => o.spec.context ?? `(${rt.uriFor(o)})` : undefined,
          labelColumns: options.labelColumns,
          showLabels: options.showLabels,
          noHeaders: options.noHeaders,
          colour: colourWanted(),
        })
      )
        .join(options.noHeaders ? "" : "\n"),
    );
    if (all.length === 0 && missing.length === 0) rt.output.err(nothingFound(rt, targets, options));
  } else if (spec.format === "custom-columns") {
    const sorted = options.sortBy ? await sortBy(all, options.sortBy) : all;
    if (sorted.length > 0) {
      rt.output.out(await printCustomColumns(spec.columns, sorted, options.noHeaders ?? false));
    } else if (missing.length === 0) rt.output.err(nothingFound(rt, targets, options));
  } else if (spec.format === "jsonpath") {
    const doc = single && all.length === 1 ? all[0] : { apiVersion: "v1", kind: "List", items: all };
    if (all.length > 0 || !single) rt.output.out(spec.print(doc));
  } else if (all.length > 0 || !single) {
    rt.output.out(await printObjects(all, spec.format, single));
  }
  if (missing.length > 0) throw new CommandFailed(`${missing.join(", ")} not found`);
}

function nothingFound(rt: StoreRuntime, targets: Target[], options: GetOptions): string {
  const kinds = targets.map((t) => plural(t.kind)).join(", ");
  const where = [
    options.namespace ? `in namespace ${options.namespace}` : "",
    !options.allContexts && rt.connection.context ? `in context ${rt.connection.context}` : "",
  ].filter((w) => w).join(" ");
  return `No ${kinds} found${where ? ` ${where}` : ""}.\n`;
}
