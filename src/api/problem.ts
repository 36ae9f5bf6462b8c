/**
 * Problems found in user input (YAML syntax, validation, references), each with
 * the file, line and column of the offending node and the field path:
 *
 *     machine.yaml:12:7: spec.interfaces[1].ip: must be inside 10.20.30.0/24; got "10.9.9.9"
 *
 * Also the side table that remembers where each parsed resource's fields came
 * from, so checks that run later (references against the store) can still
 * point at a line.
 *
 * @module
 */

/** One step of a field path: a mapping key or a list index. */
export type PathSegment = string | number;

/** Something wrong with the input, located as precisely as the input allows. */
export interface Problem {
  /** File name as given to the parser ("" when the input did not come from a file). */
  file: string;
  /** 1-based line; 0 when unknown. */
  line: number;
  /** 1-based column; 0 when unknown. */
  column: number;
  /** Field path such as `spec.interfaces[1].ip`; "" for the document or the file itself. */
  path: string;
  /** What is wrong, phrased as the rule: "must be inside 10.20.30.0/24". */
  message: string;
  /** The offending value, shown as `; got ...`. Absent when showing it would not help. */
  value?: unknown;
  /** A suggestion, shown in parentheses: `did you mean "memory"?`. */
  hint?: string;
}

// C1 controls, soft hyphen, zero-width and bidirectional formatting characters, line/paragraph
// separators, BOM: JSON.stringify leaves them as they are, and a terminal would act on them.
const INVISIBLE =
  /[\u0080-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/g;

const escapeChar = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;

/** JSON-quotes text with every control, invisible and bidi character escaped (safe to print). */
export function quoteSafe(text: string): string {
  return JSON.stringify(text).replace(INVISIBLE, escapeChar);
}

/** Text with control, invisible and bidi characters escaped as \uXXXX, nothing else changed. */
export function escapeUnsafe(text: string): string {
  // deno-lint-ignore no-control-regex -- escaping control characters is the point
  return text.replace(/[\u0000-\u001f\u007f]/g, escapeChar).replace(INVISIBLE, escapeChar);
}

/** Formats a path: `spec.interfaces[1].ip`, `metadata.labels["app.kubernetes.io/name"]`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(seg)) out += out === "" ? seg : `.${seg}`;
    else out += `[${quoteSafe(seg)}]`;
  }
  return out;
}

const MAX_SHOWN = 60;

/**
 * Shows a found value in a message: strings JSON-quoted (control characters
 * escaped, long ones cut), numbers and booleans as written, `a list` and
 * `a mapping` for collections.
 */
export function formatValue(value: unknown): string {
  if (typeof value === "string") {
    const chars = [...value];
    return quoteSafe(chars.length > MAX_SHOWN ? chars.slice(0, MAX_SHOWN).join("") + "…" : value);
  }
  if (value === null) return "null";
  if (Array.isArray(value)) return value.length === 0 ? "an empty list" : "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return String(value);
  }
  return typeof value;
}

/** Quotes a name or key for use inside a message. */
export function quote(text: string): string {
  return formatValue(text);
}

/**
 * One line per problem: `file:line:col: path: message; got value (hint)`.
 * The position is left out when unknown, the path when empty.
 */
export function formatProblem(problem: Problem): string {
  let where = "";
  if (problem.file !== "") where = problem.file + ":";
  if (problem.line > 0) where += `${problem.line}:${problem.column}:`;
  let text = where === "" ? "" : where + " ";
  if (problem.path !== "") text += problem.path + ": ";
  text += problem.message;
  if (problem.value !== undefined) text += `; got ${formatValue(problem.value)}`;
  if (problem.hint !== undefined && problem.hint !== "") text += ` (${problem.hint})`;
  return text;
}

/** Sorts by file, then line, then column; stable otherwise. Returns a new array. */
export function sortProblems(problems: readonly Problem[]): Problem[] {
  return [...problems].sort((a, b) =>
    a.file < b.file ? -1 : a.file > b.file ? 1 : (a.line - b.line) || (a.column - b.column)
  );
}

/** Thrown by callers that want an exception instead of a list; carries every problem. */
export class ValidationError extends Error {
  readonly problems: Problem[];
  constructor(problems: Problem[], options?: ErrorOptions) {
    const lines = problems.map(formatProblem);
    super(
      problems.length === 1 ? lines[0] : `${problems.length} problems:\n  ${lines.join("\n  ")}`,
      options,
    );
    this.name = "ValidationError";
    this.problems = problems;
  }
}

// ---------------------------------------------------------------- "did you mean"

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const m = a.length, n = b.length;
  if (Math.abs(m - n) > 3) return Math.abs(m - n);
  const d: number[][] = Array.from({ length: m + 1 }, (_, i) => [i, ...new Array<number>(n).fill(0)]);
  for (let j = 0; j <= n; j++) d[0][j] = j;
  for (let i = 1; i <= m; i++) {
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[m][n];
}

function squash(text: string): string {
  return text.toLowerCase().replace(/[-_ ]/g, "");
}

/**
 * The candidate closest to `input` when it is close enough to be a likely typo:
 * same letters ignoring case, `_` and `-` (`volume_cache` → `volumeCache`),
 * or an edit distance of 1 (2 for words of 5 letters or more).
 */
export function closest(input: string, candidates: Iterable<string>): string | undefined {
  const list = [...candidates];
  const squashed = squash(input);
  const same = list.find((c) => squash(c) === squashed);
  if (same !== undefined) return same;
  if (input.length > 64) return undefined;
  let best: string | undefined;
  let bestDistance = Infinity;
  const limit = squashed.length >= 5 ? 2 : 1;
  for (const c of list) {
    const distance = editDistance(squashed, squash(c));
    if (distance < bestDistance) {
      best = c;
      bestDistance = distance;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/** `did you mean "x"?` for the closest candidate, or undefined. */
export function didYouMean(input: string, candidates: Iterable<string>): string | undefined {
  const match = closest(input, candidates);
  return match === undefined ? undefined : `did you mean ${quote(match)}?`;
}

// ---------------------------------------------------------------- positions

/** Where a node starts in its file (1-based). */
export interface Position {
  line: number;
  column: number;
}

/** Where a field's value starts, and where its key starts when it is a mapping entry. */
export interface NodePosition extends Position {
  key?: Position;
}

/** Positions of one document's nodes by formatted path (`spec.disks[0].volume`). */
export class PositionTable {
  readonly file: string;
  readonly #nodes = new Map<string, NodePosition>();
  constructor(file: string) {
    this.file = file;
  }

  /** Records the position of the node at `path`. */
  set(path: readonly PathSegment[], position: NodePosition): void {
    this.#nodes.set(formatPath(path), position);
  }

  /** The exact entry for `path`, if the input had that node. */
  get(path: readonly PathSegment[]): NodePosition | undefined {
    return this.#nodes.get(formatPath(path));
  }

  /**
   * Best position for a problem at `path`: the value node; with `key`, the
   * key of that entry; with `missing`, the parent mapping (the field is not
   * there). Falls back to the nearest ancestor the input has.
   */
  locate(path: readonly PathSegment[], options: LocateOptions = {}): Position | undefined {
    if (!options.missing) {
      const own = this.#nodes.get(formatPath(path));
      if (own !== undefined) return options.key && own.key ? own.key : { line: own.line, column: own.column };
    }
    for (let n = path.length - 1; n >= 0; n--) {
      const found = this.#nodes.get(formatPath(path.slice(0, n)));
      if (found !== undefined) return { line: found.line, column: found.column };
    }
    return undefined;
  }
}

/** Options for {@linkcode PositionTable.locate} and {@linkcode positionOf}. */
export interface LocateOptions {
  /** Point at the key of the entry instead of its value (unknown or duplicate fields). Default false. */
  key?: boolean;
  /** The field is absent: point at its parent mapping. Default false. */
  missing?: boolean;
}

const positionTables = new WeakMap<object, PositionTable>();

/** Remembers where `resource` came from (called by the manifest parser). */
export function attachPositions(resource: object, table: PositionTable): void {
  positionTables.set(resource, table);
}

/** The position table recorded for `resource`, if it came from a parsed manifest. */
export function positionsOf(resource: object): PositionTable | undefined {
  return positionTables.get(resource);
}

/**
 * File, line and column of the field at `path` (a formatted string such as
 * `spec.interfaces[0].ip`, or segments) in the manifest `resource` was parsed
 * from. Falls back to the nearest enclosing node; undefined for resources
 * that did not come from {@linkcode parseManifests}.
 */
export function positionOf(
  resource: object,
  path: string | readonly PathSegment[],
  options: LocateOptions = {},
): (Position & { file: string }) | undefined {
  const table = positionTables.get(resource);
  if (table === undefined) return undefined;
  const segments = typeof path === "string" ? parsePath(path) : path;
  const found = table.locate(segments, options);
  return found === undefined ? undefined : { file: table.file, ...found };
}

/** Parses a formatted path back into segments (inverse of {@linkcode formatPath}). */
export function parsePath(path: string): PathSegment[] {
  const out: PathSegment[] = [];
  const re = /\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/y;
  let m: RegExpExecArray | null;
  while (re.lastIndex < path.length && (m = re.exec(path)) !== null) {
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else out.push(JSON.parse(m[3]) as string);
  }
  return out;
}

/**
 * A problem at `path` of `resource`, positioned with {@linkcode positionOf}
 * (line 0 when the resource has no recorded positions).
 */
export function problemAt(
  resource: object,
  path: readonly PathSegment[],
  detail: ProblemDetail,
): Problem {
  const pos = positionOf(resource, detail.at ?? path, detail);
  return makeProblem(pos?.file ?? "", pos, path, detail);
}

/** A problem of `file` at `pos` (line 0 without one) and `path`. */
function makeProblem(
  file: string,
  pos: Position | undefined,
  path: readonly PathSegment[],
  detail: ProblemDetail,
): Problem {
  const problem: Problem = {
    file,
    line: pos?.line ?? 0,
    column: pos?.column ?? 0,
    path: formatPath(path),
    message: detail.message,
  };
  if (detail.value !== undefined) problem.value = detail.value;
  if (detail.hint !== undefined) problem.hint = detail.hint;
  return problem;
}

/** The parts of a problem other than its position and path. */
export interface ProblemDetail extends LocateOptions {
  message: string;
  value?: unknown;
  hint?: string;
  /** Take the position from this path instead of the problem's own. */
  at?: readonly PathSegment[];
}

/** Options for {@linkcode ProblemCollector}. */
export interface ProblemCollectorOptions {
  /** Keep at most this many problems; count the rest in `dropped`. Default: no limit. */
  limit?: number;
}

/**
 * Collects problems for one document, positioning each from the document's
 * {@linkcode PositionTable} (line 0 without one).
 */
export class ProblemCollector {
  readonly problems: Problem[] = [];
  readonly file: string;
  readonly positions: PositionTable | undefined;
  readonly limit: number;
  /** Problems reported beyond the limit (counted, not kept). */
  dropped = 0;
  constructor(file: string, positions?: PositionTable, options: ProblemCollectorOptions = {}) {
    this.file = file;
    this.positions = positions;
    this.limit = options.limit ?? Infinity;
  }

  /** Whether the limit is reached: further problems are only counted (skip expensive hints). */
  get full(): boolean {
    return this.problems.length >= this.limit;
  }

  /** Adds a problem at `path`. */
  report(path: readonly PathSegment[], detail: ProblemDetail): void {
    if (this.problems.length >= this.limit) {
      this.dropped++;
      return;
    }
    const pos = this.positions?.locate(detail.at ?? path, detail);
    this.problems.push(makeProblem(this.file, pos, path, detail));
  }

  /** Whether a problem was already reported at `path` or inside it (so a rule need not add a second one). */
  reported(path: readonly PathSegment[]): boolean {
    const p = formatPath(path);
    return this.problems.some((q) =>
      q.path === p || q.path.startsWith(p + ".") || q.path.startsWith(p + "[")
    );
  }
}
