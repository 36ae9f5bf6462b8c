/** lv get: list objects as a table or in a machine format. */
import type { AnyResource } from "../api/types.ts";
import { CommandFailed } from "./errors.ts";
import { plural } from "./kinds.ts";
import { type OutputFormat, printObjects, printTable } from "./printers.ts";
import type { Runtime } from "./runtime.ts";
import type { Target } from "./targets.ts";

export interface GetOptions {
  output: OutputFormat;
  labels?: Record<string, string>;
  /** undefined: all namespaces. */
  namespace?: string;
  /** Every context (-A), with NAMESPACE and CONTEXT columns; else only the selected context's objects. */
  allContexts?: boolean;
}

export async function get(rt: Runtime, targets: Target[], options: GetOptions): Promise<void> {
  const groups: { target: Target; objects: AnyResource[] }[] = [];
  const missing: string[] = [];
  for (const target of targets) {
    let objects = (await rt.store.list(target.kind, { namespace: options.namespace, labels: options.labels }))
      .filter((o) => options.allContexts || o.spec.context === rt.connection.context);
    if (target.names.length > 0) {
      const found = target.names.map((n) => objects.find((o) => o.metadata.name === n));
      target.names.forEach((n, i) => {
        if (!found[i]) missing.push(`${target.kind.toLowerCase()}/${n}`);
      });
      objects = found.filter((o): o is AnyResource => !!o);
    }
    groups.push({ target, objects });
  }
  const all = groups.flatMap((g) => g.objects);
  if (options.output === "table" || options.output === "wide") {
    const shown = groups.filter((g) => g.objects.length > 0);
    rt.output.out(
      shown.map((g) =>
        printTable(g.target.kind, g.objects, options.output === "wide", {
          withKind: groups.length > 1,
          contextOf: options.allContexts ? (o) => o.spec.context ?? `(${rt.libvirtFor(o).uri})` : undefined,
        })
      )
        .join("\n"),
    );
    if (all.length === 0 && missing.length === 0) {
      const kinds = targets.map((t) => plural(t.kind)).join(", ");
      const where = [
        options.namespace ? `in namespace ${options.namespace}` : "",
        !options.allContexts && rt.connection.context ? `in context ${rt.connection.context}` : "",
      ].filter((w) => w).join(" ");
      rt.output.err(`No ${kinds} found${where ? ` ${where}` : ""}.\n`);
    }
  } else {
    const single = targets.length === 1 && targets[0].names.length === 1;
    if (all.length > 0 || !single) rt.output.out(await printObjects(all, options.output, single));
  }
  if (missing.length > 0) throw new CommandFailed(`${missing.join(", ")} not found`);
}
