/** Command-line object references: "domain web db", "domains,networks", "domain/web network/lan". */
import type { Kind } from "../api/types.ts";
import { UsageError } from "./errors.ts";
import { closest } from "../api/problem.ts";
import { KIND_WORDS, kindFromWord } from "./kinds.ts";

export interface Target {
  kind: Kind;
  /** Empty: every object of the kind. */
  names: string[];
}

function kindOf(word: string): Kind {
  const kind = kindFromWord(word);
  if (!kind) {
    const near = closest(word, KIND_WORDS);
    throw new UsageError(
      `unknown resource type "${word}"`,
      `${
        near ? `did you mean "${near}"? ` : ""
      }use one of: boxes, volumes, networks, domains (or box, vol, net, dom, vm)`,
    );
  }
  return kind;
}

/** Parses targets; `requireNames` rejects a bare kind (describe with no name is allowed; delete is not). */
export function parseTargets(args: string[], options: { requireNames?: boolean } = {}): Target[] {
  if (args.length === 0) {
    throw new UsageError("no resource type given", "e.g. lv get domains, or lv get domain/web");
  }
  const targets: Target[] = [];
  if (args.every((a) => a.includes("/"))) {
    for (const arg of args) {
      const [word, name, ...rest] = arg.split("/");
      if (!name || rest.length > 0) throw new UsageError(`"${arg}" is not KIND/NAME`, "e.g. domain/web");
      const kind = kindOf(word);
      const t = targets.find((x) => x.kind === kind);
      if (t) t.names.push(name);
      else targets.push({ kind, names: [name] });
    }
    return targets;
  }
  if (args.slice(1).some((a) => a.includes("/"))) {
    throw new UsageError("mix of KIND NAME and KIND/NAME forms", "use either 'domain web' or 'domain/web'");
  }
  const kinds = args[0].split(",").filter((w) => w).map(kindOf);
  const names = args.slice(1);
  if (kinds.length > 1 && names.length > 0) {
    throw new UsageError("names can only be given with a single resource type", "e.g. lv get domain web db");
  }
  if (options.requireNames && names.length === 0) {
    throw new UsageError(`no name given for ${args[0]}`, `e.g. lv delete ${args[0]} NAME, or -f FILE`);
  }
  return kinds.map((kind) => ({ kind, names }));
}

/** "key=value,key2=value2" → map. */
export function parseSelector(text: string | undefined): Record<string, string> | undefined {
  if (!text) return undefined;
  const labels: Record<string, string> = {};
  for (const part of text.split(",")) {
    const m = part.match(/^\s*([^=!\s]+)\s*==?\s*([^=\s]*)\s*$/);
    if (!m) throw new UsageError(`bad label selector "${part}"`, "use key=value[,key=value]");
    labels[m[1]] = m[2];
  }
  return labels;
}
