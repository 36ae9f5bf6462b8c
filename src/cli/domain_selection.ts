/**
 * Which Domains a verb (up, halt, delete, ...) acts on: names, or -l SELECTOR, or -f FILE (every Domain the
 * file declares), or --all (every Domain of the namespace in the selected context). Exactly one way.
 */
import type { Kind } from "../api/types.ts";
import { filenameFlags } from "./commands/filename_flags.ts";
import { UsageError } from "./errors.ts";
import type { Runtime } from "./runtime.ts";
import { type LabelSelector, parseSelector } from "./targets.ts";

export interface Selection {
  names: string[];
  selector?: string;
  files: string[];
  all: boolean;
}

/** The flags of a verb that picks Domains, as declared once for every such verb. */
export const SELECTION_FLAGS = {
  selector: {
    type: "string",
    short: "l",
    value: "SEL",
    kind: "selector",
    description: "every domain whose labels match (key=value, key!=value, key in (a,b), key, !key)",
  },
  ...filenameFlags("every domain FILE declares"),
  all: { type: "boolean", default: false, description: "every domain of the namespace" },
} as const;

/** Checks that exactly one way is used (a usage error otherwise); returns the parsed selector, if any. */
export function checkSelection(selection: Selection, example: string): LabelSelector | undefined {
  const ways = [
    selection.names.length > 0 && "NAME",
    selection.selector && "-l",
    selection.files.length > 0 && "-f",
    selection.all && "--all",
  ].filter((w) => w);
  if (ways.length === 0) {
    throw new UsageError("no domain named", `e.g. ${example}, or -l app=web, -f FILE, --all`);
  }
  if (ways.length > 1) throw new UsageError(`give one of NAME, -l, -f or --all, not ${ways.join(" and ")}`);
  return parseSelector(selection.selector);
}

/** Names of the objects of `kind` the selection picks (names as given; the others looked up). */
export async function selectNames(
  rt: Runtime,
  kind: Kind,
  selection: Selection,
  namespace: string,
): Promise<string[]> {
  if (selection.names.length > 0) return selection.names;
  if (selection.files.length > 0) {
    const { loadManifests } = await import("./manifests.ts");
    const objects = await loadManifests(selection.files, rt.store, { checkContexts: false });
    return objects.filter((o) => o.kind === kind).map((o) => o.metadata.name);
  }
  const selector = parseSelector(selection.selector);
  return (await rt.store.list(kind, { namespace }))
    .filter((o) => o.spec.context === rt.connection.context)
    .filter((o) => !selector || selector.matches(o.metadata.labels))
    .map((o) => o.metadata.name);
}
