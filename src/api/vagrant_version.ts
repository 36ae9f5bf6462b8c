/**
 * Vagrant's box version constraints (`config.vm.box_version`): a comma-separated list of RubyGems
 * requirements (`1.2.3`, `>= 4.0, < 5.0`, `~> 4.3`, `!= 4.3.1`), turned into a range in npm semver's
 * notation (comparators joined by spaces, alternatives by `||`) and evaluated here: loading the semver package
 * (CommonJS) cost every apply ~25 ms of CPU. A requirement
 * without an operator means `=`. `~>` has RubyGems' meaning, not npm's `~`: the last given segment may
 * grow, the one before it is fixed (`~> 4.3` is `>= 4.3, < 5.0`; `~> 4.3.1` is `>= 4.3.1, < 4.4`).
 *
 * Box versions have one to three numeric segments (`12`, `4.3`, `4.3.12`); missing ones count as 0.
 */
const VERSION_RE = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?$/;
const REQUIREMENT_RE = /^(~>|>=|<=|!=|=|>|<)?\s*(\S+)$/;

/** A box version as semver ("4.3" → "4.3.0"), or undefined when it is not one to three numbers. */
export function boxVersionToSemver(version: string): string | undefined {
  const m = VERSION_RE.exec(version.trim());
  if (!m) return undefined;
  return `${Number(m[1])}.${Number(m[2] ?? 0)}.${Number(m[3] ?? 0)}`;
}

/** A parsed constraint: the semver range it means, or what is wrong with it. */
export type ParsedConstraint = { ok: true; range: string } | { ok: false; message: string };

/** Parses a Vagrant version constraint into a semver range. */
export function parseVersionConstraint(text: string): ParsedConstraint {
  const parts = text.split(",").map((p) => p.trim());
  if (parts.some((p) => p === "")) {
    return { ok: false, message: `"${text}" has an empty requirement (a stray comma?)` };
  }
  const ranges: string[] = [];
  for (const part of parts) {
    const m = REQUIREMENT_RE.exec(part);
    const version = m ? VERSION_RE.exec(m[2]) : null;
    if (!m || !version) {
      return {
        ok: false,
        message:
          `"${part}" is not a version requirement: an optional operator (=, !=, >, >=, <, <=, ~>) and a version of one to three numbers such as 4.3.12`,
      };
    }
    const op = m[1] ?? "=";
    const v = boxVersionToSemver(m[2])!;
    if (op === "~>") ranges.push(pessimistic(version));
    else if (op === "!=") ranges.push(`<${v} || >${v}`);
    else ranges.push(`${op === "=" ? "" : op}${v}`);
  }
  // Each requirement must hold: the intersection, built as a conjunction of the parts' ranges.
  const range = ranges.reduce((acc, r) => conjoin(acc, r));
  if (alternatives(range) === undefined) return { ok: false, message: `"${text}" is not a valid constraint` };
  return { ok: true, range };
}

/** RubyGems' `~> X[.Y[.Z]]`: at least that version, below the next release of the second-to-last segment. */
function pessimistic(m: RegExpExecArray): string {
  const [a, b, c] = [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
  const low = `>=${a}.${b}.${c}`;
  if (m[3] !== undefined) return `${low} <${a}.${b + 1}.0`;
  return `${low} <${a + 1}.0.0`; // `~> 4.3` and `~> 4` both stop below 5.0
}

/** Both ranges (each possibly with `||` alternatives): distributes the conjunction over the alternatives. */
function conjoin(a: string, b: string): string {
  const out: string[] = [];
  for (const x of a.split("||")) for (const y of b.split("||")) out.push(`${x.trim()} ${y.trim()}`);
  return out.join(" || ");
}

type Triple = [number, number, number];
type Comparator = { op: "=" | ">" | ">=" | "<" | "<="; version: Triple };

const COMPARATOR_RE = /^(>=|<=|>|<|=)?(\d+)\.(\d+)\.(\d+)$/;

/** A range's alternatives, each a list of comparators that must all hold; undefined when it is not one. */
function alternatives(range: string): Comparator[][] | undefined {
  const out: Comparator[][] = [];
  for (const alt of range.split("||")) {
    const words = alt.trim().split(/\s+/);
    const comparators: Comparator[] = [];
    for (const w of words) {
      const m = COMPARATOR_RE.exec(w);
      if (!m) return undefined;
      comparators.push({ op: (m[1] ?? "=") as Comparator["op"], version: [+m[2], +m[3], +m[4]] });
    }
    out.push(comparators);
  }
  return out;
}

function compare(a: Triple, b: Triple): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

function holds(v: Triple, c: Comparator): boolean {
  const d = compare(v, c.version);
  return c.op === "="
    ? d === 0
    : c.op === ">"
    ? d > 0
    : c.op === ">="
    ? d >= 0
    : c.op === "<"
    ? d < 0
    : d <= 0;
}

function triple(version: string): Triple | undefined {
  const v = boxVersionToSemver(version);
  return v === undefined ? undefined : v.split(".").map(Number) as Triple;
}

/** Whether a box version satisfies a parsed range (a version that is not numeric never does). */
export function versionSatisfies(version: string, range: string): boolean {
  const v = triple(version);
  return v !== undefined && (alternatives(range) ?? []).some((alt) => alt.every((c) => holds(v, c)));
}

/** Orders box versions newest first (versions that do not parse last). */
export function newestFirst(a: string, b: string): number {
  const [x, y] = [triple(a), triple(b)];
  if (x === undefined || y === undefined) return x === undefined ? (y === undefined ? 0 : 1) : -1;
  return compare(y, x);
}
