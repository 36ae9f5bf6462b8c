/**
 * Manifests: multi-document YAML text in, validated and defaulted resources
 * out, with every problem at its file, line and column.
 *
 * ```ts
 * const { resources, problems } = parseManifests(text, "machine.yaml");
 * for (const p of problems) console.error(formatProblem(p));
 * ```
 *
 * @module
 */

import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseAllDocuments,
} from "yaml";
import { userDataTextProblems } from "./user_data_text.ts";
import {
  attachPositions,
  escapeUnsafe,
  formatPath,
  type PathSegment,
  PositionTable,
  type Problem,
  sortProblems,
} from "../api/problem.ts";
import { MiB } from "../api/quantity.ts";
import type { AnyResource } from "../api/types.ts";
import type { Loose } from "../api/loose.ts";
import { MAX_PROBLEMS, type SpecDefaults, validateResource } from "../api/validate.ts";
import { checkReferences, NO_LOOKUP } from "../api/validate_references.ts";
import { checkForwardedPorts } from "../api/validate_forwarded_ports.ts";
import { unprivilegedPortStart } from "./unprivileged_port_start.ts";

/** Largest manifest file accepted, in bytes. */
export const MAX_MANIFEST_BYTES = 4 * MiB;
/** Most documents accepted in one file. */
export const MAX_DOCUMENTS = 1000;
/** yaml's guard against alias expansion ("billion laughs"): resolved aliases allowed per document. */
export const MAX_ALIAS_COUNT = 100;

/** Options for {@linkcode parseManifests}. */
export interface ParseManifestsOptions {
  /**
   * Cross-document checks after each document is validated:
   * `"file"` (default) checks duplicates and references among this file's
   * resources (a name not defined here is not an error: it may be in the
   * store); `"none"` skips them, for callers that run
   * {@linkcode validateReferences} themselves over several files with a store lookup.
   */
  references?: "file" | "none";
  /** Default {@linkcode MAX_MANIFEST_BYTES}. */
  maxBytes?: number;
  /** Default {@linkcode MAX_DOCUMENTS}. */
  maxDocuments?: number;
  /** Default {@linkcode MAX_ALIAS_COUNT}. */
  maxAliasCount?: number;
  /** Report at most this many problems for the file, then one that says how many more. Default {@linkcode MAX_PROBLEMS}. */
  maxProblems?: number;
  /** Values for spec fields a document leaves out, by kind (the selected context's defaults). */
  specDefaults?: SpecDefaults;
  /** The lowest port this user may listen on (forwardedPorts); default this process's, see unprivileged_port_start.ts. */
  unprivilegedPortStart?: number;
}

/** The valid resources of a file, and every problem found in it. */
export interface ParseManifestsResult {
  /** Resources of the documents that have no problems, in file order. */
  resources: AnyResource[];
  /** Every problem, sorted by line and column. */
  problems: Problem[];
}

function utf8Length(text: string, limit: number): number {
  if (text.length > limit) return text.length * 1; // every UTF-16 unit is at least one byte: over the limit
  if (text.length * 3 <= limit) return text.length; // at most three bytes per unit: under the limit
  return new TextEncoder().encode(text).length;
}

function sizeText(bytes: number): string {
  return bytes >= MiB ? `${(bytes / MiB).toFixed(1)} MiB` : `${bytes} bytes`;
}

/**
 * Parses multi-document YAML into resources. Each non-empty document must be
 * a mapping with `apiVersion: lv.dev/v1alpha1`, a `kind` (Box, Volume,
 * Network, Domain), `metadata.name` and the kind's `spec`; `status` and
 * lv-managed metadata are accepted and ignored. Problems cover YAML syntax,
 * duplicate keys, unknown fields (with suggestions), types, formats, ranges
 * and cross-field rules, and (see {@linkcode ParseManifestsOptions.references})
 * references within the file.
 *
 * Never throws on bad input: oversized files, too many documents and alias
 * bombs become a problem too.
 */
export function parseManifests(
  text: string,
  file: string,
  options: ParseManifestsOptions = {},
): ParseManifestsResult {
  const maxBytes = options.maxBytes ?? MAX_MANIFEST_BYTES;
  const maxDocuments = options.maxDocuments ?? MAX_DOCUMENTS;
  const maxAliasCount = options.maxAliasCount ?? MAX_ALIAS_COUNT;
  const maxProblems = options.maxProblems ?? MAX_PROBLEMS;
  const fileProblem = (message: string, line = 1, column = 1, hint?: string): ParseManifestsResult => ({
    resources: [],
    problems: [{ file, line, column, path: "", message, ...(hint === undefined ? {} : { hint }) }],
  });

  const bytes = utf8Length(text, maxBytes);
  if (bytes > maxBytes) {
    return fileProblem(
      `file is too large: ${sizeText(bytes)}, the limit is ${sizeText(maxBytes)}`,
      1,
      1,
      "split it into several files",
    );
  }

  const lines = new LineCounter();
  const docs = parseYamlDocuments(text, lines);
  if (docs === undefined) return fileProblem("YAML is nested too deeply to parse");
  const at = positionAt(text, lines);
  if (docs.length > maxDocuments) {
    const pos = at(documentStart(docs[maxDocuments]));
    return fileProblem(
      `file has ${docs.length} documents, the limit is ${maxDocuments}`,
      pos.line,
      pos.column,
      "split it into several files",
    );
  }

  const problems = new CappedProblems(maxProblems);
  const resources: AnyResource[] = [];
  const drafts: Loose<AnyResource>[] = [];
  for (const doc of docs) {
    const yamlIssues = [...doc.errors, ...doc.warnings];
    if (yamlIssues.length > 0) {
      for (const issue of yamlIssues) {
        const pos = at(issue.pos[0]);
        problems.add([{ file, ...pos, path: "", message: `invalid YAML: ${yamlMessage(issue.message)}` }]);
      }
      continue;
    }
    if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) continue; // empty document

    const items = listItems(doc.contents);
    for (const node of items ?? [doc.contents]) {
      const done = addDocument(node, doc, { file, at, maxAliasCount, maxProblems, options });
      problems.add(done.problems, done.dropped);
      if (done.draft !== undefined) drafts.push(done.draft);
      if (done.resource !== undefined) resources.push(done.resource);
    }
  }

  if ((options.references ?? "file") === "file") {
    problems.add(checkReferences(drafts, NO_LOOKUP, { missing: false }));
  }
  problems.add(checkForwardedPorts(drafts, {
    unprivilegedPortStart: options.unprivilegedPortStart ?? unprivilegedPortStart(),
  }));
  return { resources, problems: problems.sorted(file) };
}

/** Every document of the text, or undefined when YAML is nested too deeply to parse. */
function parseYamlDocuments(text: string, lines: LineCounter): Document.Parsed[] | undefined {
  try {
    const parsed = parseAllDocuments(text, {
      lineCounter: lines,
      prettyErrors: false,
      uniqueKeys: false, // reported below, with the key's path
      merge: true,
      version: "1.2",
    });
    return Array.isArray(parsed) ? parsed : [];
  } catch (e) {
    if (e instanceof RangeError) return undefined;
    throw e;
  }
}

/** Line and column of an offset; errors found at the end of the input point at its last character. */
function positionAt(text: string, lines: LineCounter): (offset: number) => { line: number; column: number } {
  return (offset) => {
    let o = Math.min(offset, text.length);
    if (o === text.length) {
      while (o > 0 && /\s/.test(text[o - 1])) o--;
      o = Math.max(0, o - 1);
    }
    const { line, col } = lines.linePos(o);
    return { line, column: col };
  };
}

/** The problems of a file up to a cap, and a count of the rest. */
class CappedProblems {
  readonly #problems: Problem[] = [];
  #dropped = 0;
  constructor(readonly max: number) {}

  /** Keeps what fits under the cap; `alreadyDropped` were left out before they came here. */
  add(list: readonly Problem[], alreadyDropped = 0): void {
    this.#dropped += alreadyDropped;
    for (const p of list) {
      if (this.#problems.length < this.max) this.#problems.push(p);
      else this.#dropped++;
    }
  }

  /** Sorted by position, then a line counting what was left out. */
  sorted(file: string): Problem[] {
    const sorted = sortProblems(this.#problems);
    if (this.#dropped > 0) {
      sorted.push({
        file,
        line: 0,
        column: 0,
        path: "",
        message: `${this.#dropped} more ${this.#dropped === 1 ? "problem" : "problems"} not shown`,
        hint: "fix these first",
      });
    }
    return sorted;
  }
}

/** The item nodes of a `kind: List` document (what `lv get -o yaml` prints for several objects). */
function listItems(node: Node | null): Node[] | undefined {
  if (!isMap(node) || node.get("kind") !== "List") return undefined;
  const items = node.get("items", true);
  return isSeq(items) ? items.items as Node[] : [];
}

const rawInputs = new WeakMap<object, unknown>();

/** The parsed document (plain data, before validation and defaults) a resource came from. */
export function rawInputOf(resource: object): unknown {
  return rawInputs.get(resource);
}

interface DocumentContext {
  file: string;
  at: (offset: number) => { line: number; column: number };
  maxAliasCount: number;
  maxProblems: number;
  options: ParseManifestsOptions;
}

interface DocumentResult {
  resource?: AnyResource;
  draft?: Loose<AnyResource>;
  problems: Problem[];
  dropped: number;
}

/** Validates one resource node: a document, or an item of a List. */
function addDocument(node: Node | null, doc: Document.Parsed, c: DocumentContext): DocumentResult {
  const { file, at, maxAliasCount } = c;
  const table = new PositionTable(file);
  const keyProblems: Problem[] = [];
  recordPositions(node, [], { table, at, keyProblems, file });
  if (keyProblems.some((p) => p.message.startsWith("keys must be"))) {
    return { problems: keyProblems, dropped: 0 }; // toJS would stringify them
  }
  let data: unknown;
  try {
    data = node === doc.contents ? doc.toJS({ maxAliasCount }) : node?.toJS(doc, { maxAliasCount });
  } catch (e) {
    const pos = at(node?.range?.[0] ?? 0);
    const message = e instanceof Error && /alias/i.test(e.message)
      ? `too many aliases: expanding them would exceed the limit of ${maxAliasCount} (a "billion laughs" document?)`
      : `cannot read document: ${e instanceof Error ? e.message : String(e)}`;
    return { problems: [...keyProblems, { file, ...pos, path: "", message }], dropped: 0 };
  }
  const result = validateResource(data, {
    file,
    positions: table,
    maxProblems: Math.max(1, c.maxProblems - keyProblems.length),
    specDefaults: c.options.specDefaults,
  });
  if (result.draft !== undefined) attachPositions(result.draft, table);
  const textProblems = result.resource ? userDataTextProblems(result.resource, table) : [];
  const resource = result.resource !== undefined && keyProblems.length === 0 && textProblems.length === 0
    ? result.resource
    : undefined;
  if (resource) rawInputs.set(resource, data);
  return {
    resource,
    draft: result.draft,
    problems: [...keyProblems, ...result.problems, ...textProblems],
    dropped: result.omitted ?? 0,
  };
}

/** Offset of a document's content (after any `---`), or of the document when it has none. */
function documentStart(doc: Document.Parsed): number {
  return doc.contents?.range?.[0] ?? doc.range[0];
}

/** yaml's messages, on one line and without its own "at line N, column M" (we add ours). */
function yamlMessage(message: string): string {
  const line = message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "").trim();
  return escapeUnsafe(line); // it may quote the input: nothing a terminal would act on
}

interface RecordContext {
  table: PositionTable;
  at: (offset: number) => { line: number; column: number };
  /** Duplicate and non-string keys. */
  keyProblems: Problem[];
  file: string;
}

/**
 * Records where each node is, by path, and reports duplicate keys. Aliases
 * are recorded where they appear and not followed (an alias bomb must not
 * expand here).
 */
function recordPositions(
  node: Node | null,
  path: PathSegment[],
  ctx: RecordContext,
  key?: { line: number; column: number },
): void {
  if (node === null) return;
  const start = node.range ? ctx.at(node.range[0]) : key;
  if (start !== undefined) ctx.table.set(path, key ? { ...start, key } : start);
  if (isAlias(node)) return;
  if (isMap(node)) {
    const seen = new Map<string, number>();
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const k = pair.key as Node | null;
      if (!isScalar(k)) {
        const keyPos = k?.range ? ctx.at(k.range[0]) : start;
        ctx.keyProblems.push({
          file: ctx.file,
          line: keyPos?.line ?? 0,
          column: keyPos?.column ?? 0,
          path: formatPath(path),
          message: "keys must be plain strings, not lists or mappings",
        });
        continue;
      }
      const name = String(k.value);
      if (name === "<<") continue; // merge key
      const keyPos = k.range ? ctx.at(k.range[0]) : start;
      const childPath = [...path, name];
      const first = seen.get(name);
      if (first !== undefined) {
        ctx.keyProblems.push({
          file: ctx.file,
          line: keyPos?.line ?? 0,
          column: keyPos?.column ?? 0,
          path: formatPath(childPath),
          message: `duplicate key; first given on line ${first}`,
        });
        continue;
      }
      seen.set(name, keyPos?.line ?? 0);
      const value = pair.value as Node | null;
      if (
        value === null || (isScalar(value) && value.value === null && value.range?.[0] === value.range?.[1])
      ) {
        ctx.table.set(childPath, keyPos ? { ...keyPos, key: keyPos } : { line: 0, column: 0 });
      } else {
        recordPositions(value, childPath, ctx, keyPos);
      }
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => recordPositions(item as Node | null, [...path, i], ctx));
  }
}
