/**
 * -o on lv get: the fixed formats (table, wide, yaml, json, name), `jsonpath=TEMPLATE` and
 * `custom-columns=HEADER:PATH,...`, checked before anything runs. The JSONPath library loads only for the
 * forms that take a path (and --sort-by): a plain `lv get` starts without it.
 */
import type { AnyResource } from "../api/types.ts";
import { UsageError } from "./errors.ts";
import { OUTPUT_FORMATS, OUTPUT_FORMS, type OutputFormat, renderTable } from "./printers.ts";

export interface CustomColumn {
  header: string;
  path: string;
}

export type OutputSpec =
  | { format: OutputFormat }
  | { format: "jsonpath"; print(doc: unknown): string }
  | { format: "custom-columns"; columns: CustomColumn[] };

/** Reads -o's value; a usage error naming the forms when it is none of them. */
export async function parseOutput(text: string): Promise<OutputSpec> {
  if ((OUTPUT_FORMATS as readonly string[]).includes(text)) return { format: text as OutputFormat };
  const [form, ...restParts] = text.split("=");
  const rest = restParts.join("=");
  if (form === "jsonpath" && rest) {
    return { format: "jsonpath", print: (await import("./jsonpath.ts")).jsonpathPrinter(rest) };
  }
  if (form === "custom-columns" && rest) {
    return { format: "custom-columns", columns: customColumns(rest, (await import("./jsonpath.ts")).select) };
  }
  throw new UsageError(`-o ${text} is not an output format`, `use one of: ${OUTPUT_FORMS.join(", ")}`);
}

function customColumns(spec: string, select: (path: string, doc: unknown) => unknown[]): CustomColumn[] {
  return spec.split(",").map((part) => {
    const i = part.indexOf(":");
    if (i <= 0 || i === part.length - 1) {
      throw new UsageError(
        `custom-columns entry "${part}" is not HEADER:JSONPATH`,
        "e.g. -o custom-columns=NAME:.metadata.name,IP:.status.ip",
      );
    }
    const path = part.slice(i + 1);
    select(path, {}); // a bad path is a usage error now, not after the store is read
    return { header: part.slice(0, i), path };
  });
}

/** A custom-columns table: one row per object, several values joined by commas, none as <none>. */
export async function printCustomColumns(
  columns: CustomColumn[],
  objects: AnyResource[],
  noHeaders: boolean,
): Promise<string> {
  const { select, show } = await import("./jsonpath.ts");
  const rows = objects.map((o) =>
    columns.map((c) => {
      const values = select(c.path, o);
      return values.length === 0 ? "<none>" : values.map(show).join(",");
    })
  );
  return renderTable(noHeaders ? rows : [columns.map((c) => c.header), ...rows]);
}

/** --sort-by: objects ordered by the first value `path` selects (numbers as numbers; missing ones last). */
export async function sortBy(objects: AnyResource[], path: string): Promise<AnyResource[]> {
  const { select, show } = await import("./jsonpath.ts");
  const keyed = objects.map((o) => ({ o, v: select(path, o)[0] }));
  keyed.sort((a, b) => {
    if (a.v === undefined || b.v === undefined) return a.v === undefined ? (b.v === undefined ? 0 : 1) : -1;
    if (typeof a.v === "number" && typeof b.v === "number") return a.v - b.v;
    return show(a.v) < show(b.v) ? -1 : show(a.v) > show(b.v) ? 1 : 0;
  });
  return keyed.map((k) => k.o);
}
