/**
 * kubectl's JSONPath on lv's objects: `-o jsonpath={.items[*].metadata.name}` templates (text, `{expr}`,
 * `{"\n"}` literals, `{range EXPR}...{end}`), and the relaxed single paths of custom-columns and --sort-by
 * (`.metadata.name`, `{.status.ip}`). The paths themselves are evaluated by jsonpath-plus.
 */
import { JSONPath } from "jsonpath-plus";
import { UsageError } from "./errors.ts";

/** Every value `path` (".status.phase", "{.items[*].metadata.name}", "$.spec") selects in `doc`. */
export function select(path: string, doc: unknown): unknown[] {
  let p = path.trim();
  if (p.startsWith("{") && p.endsWith("}")) p = p.slice(1, -1).trim();
  if (!p.startsWith("$")) p = `$${p.startsWith(".") || p.startsWith("[") ? "" : "."}${p}`;
  try {
    return JSONPath({ path: p, json: doc as object, wrap: true, eval: "safe" }) as unknown[];
  } catch (e) {
    throw new UsageError(`bad JSONPath "${path}": ${(e as Error).message}`, "e.g. {.items[*].metadata.name}");
  }
}

/** A value as kubectl prints it: strings bare, everything else as JSON. */
export function show(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

type Node = { text: string } | { path: string } | { range: string; body: Node[] };

function parseTemplate(template: string): Node[] {
  const root: Node[] = [];
  const stack: Node[][] = [root];
  const re = /\{((?:"(?:[^"\\]|\\.)*"|[^}])*)\}/g;
  let last = 0;
  for (const m of template.matchAll(re)) {
    const top = stack[stack.length - 1];
    if (m.index! > last) top.push({ text: template.slice(last, m.index) });
    last = m.index! + m[0].length;
    const inner = m[1].trim();
    if (inner.startsWith('"')) top.push({ text: JSON.parse(inner) });
    else if (inner.startsWith("range ")) {
      const node = { range: inner.slice(6), body: [] as Node[] };
      top.push(node);
      stack.push(node.body);
    } else if (inner === "end") {
      if (stack.length === 1) {
        throw new UsageError(`jsonpath template "${template}" has {end} without {range}`);
      }
      stack.pop();
    } else top.push({ path: inner });
  }
  if (stack.length > 1) throw new UsageError(`jsonpath template "${template}" has {range} without {end}`);
  if (last < template.length) stack[0].push({ text: template.slice(last) });
  return root;
}

function render(nodes: Node[], doc: unknown): string {
  return nodes.map((n) => {
    if ("text" in n) return n.text;
    if ("path" in n) return select(n.path, doc).map(show).join(" ");
    return select(n.range, doc).map((item) => render(n.body, item)).join("");
  }).join("");
}

/**
 * Checks a -o jsonpath template now (a usage error before anything runs) and returns its printer. A template
 * with no braces is one path (kubectl accepts `.metadata.name` too).
 */
export function jsonpathPrinter(template: string): (doc: unknown) => string {
  const nodes = parseTemplate(template.includes("{") ? template : `{${template}}`);
  return (doc) => render(nodes, doc);
}
