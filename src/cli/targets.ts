/** Command-line object references: "domain web db", "domains,networks", "domain/web network/lan". */
import { type Kind, KINDS } from "../api/types.ts";
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
  const kinds = args[0].split(",").filter((w) => w).flatMap((w) => w === "all" ? [...KINDS] : [kindOf(w)]);
  const names = args.slice(1);
  if (kinds.length > 1 && names.length > 0) {
    throw new UsageError("names can only be given with a single resource type", "e.g. lv get domain web db");
  }
  if (options.requireNames && names.length === 0) {
    throw new UsageError(`no name given for ${args[0]}`, `e.g. lv delete ${args[0]} NAME, or -f FILE`);
  }
  return kinds.map((kind) => ({ kind, names }));
}

/** One requirement of a label selector, as Kubernetes has them. */
export type Requirement =
  | { key: string; op: "=" | "!="; value: string }
  | { key: string; op: "in" | "notin"; values: string[] }
  | { key: string; op: "exists" | "!exists" };

/** A parsed -l selector: its requirements (all must hold) and the test of one object's labels. */
export interface LabelSelector {
  requirements: Requirement[];
  matches(labels: Record<string, string> | undefined): boolean;
}

const KEY = String.raw`[A-Za-z0-9][-A-Za-z0-9_./]*`;
const VALUE = String.raw`[-A-Za-z0-9_.]*`;

function requirement(part: string): Requirement {
  const p = part.trim();
  let m = p.match(new RegExp(`^(${KEY})\\s*(==?|!=)\\s*(${VALUE})$`));
  if (m) return { key: m[1], op: m[2] === "!=" ? "!=" : "=", value: m[3] };
  m = p.match(new RegExp(`^(${KEY})\\s+(in|notin)\\s*\\(([^)]*)\\)$`));
  if (m) {
    const values = m[3].split(",").map((v) => v.trim());
    if (values.every((v) => new RegExp(`^${VALUE}$`).test(v))) {
      return { key: m[1], op: m[2] as "in" | "notin", values };
    }
  }
  m = p.match(new RegExp(`^(!?)\\s*(${KEY})$`));
  if (m) return { key: m[2], op: m[1] ? "!exists" : "exists" };
  throw new UsageError(
    `bad label selector "${p}"`,
    "use key=value, key!=value, key in (a,b), key notin (a,b), key or !key, joined by commas",
  );
}

function holds(r: Requirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, r.key);
  switch (r.op) {
    case "=":
      return has && labels[r.key] === r.value;
    case "!=":
      return !has || labels[r.key] !== r.value;
    case "in":
      return has && r.values.includes(labels[r.key]);
    case "notin":
      return !has || !r.values.includes(labels[r.key]);
    case "exists":
      return has;
    case "!exists":
      return !has;
  }
}

/** Parses "app=web,tier!=db,env in (a,b),!legacy"; commas inside parentheses belong to the value list. */
export function parseSelector(text: string | undefined): LabelSelector | undefined {
  if (!text) return undefined;
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if ((c === "," && depth === 0) || i === text.length) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  const requirements = parts.map(requirement);
  return { requirements, matches: (labels) => requirements.every((r) => holds(r, labels ?? {})) };
}
