/**
 * Vagrant's box version constraints (`config.vm.box_version`): a comma-separated list of RubyGems
 * requirements (`1.2.3`, `>= 4.0, < 5.0`, `~> 4.3`, `!= 4.3.1`), evaluated with npm's semver. A requirement
 * without an operator means `=`. `~>` has RubyGems' meaning, not npm's `~`: the last given segment may
 * grow, the one before it is fixed (`~> 4.3` is `>= 4.3, < 5.0`; `~> 4.3.1` is `>= 4.3.1, < 4.4`).
 *
 * Box versions have one to three numeric segments (`12`, `4.3`, `4.3.12`); missing ones count as 0.
 */
// @deno-types="@types/semver"
import semver from "semver";

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
  if (semver.validRange(range) === null) return { ok: false, message: `"${text}" is not a valid constraint` };
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

/** Whether a box version satisfies a parsed range (a version that is not numeric never does). */
export function versionSatisfies(version: string, range: string): boolean {
  const v = boxVersionToSemver(version);
  return v !== undefined && semver.satisfies(v, range);
}

/** Orders box versions newest first (versions that do not parse last). */
export function newestFirst(a: string, b: string): number {
  const [x, y] = [boxVersionToSemver(a), boxVersionToSemver(b)];
  if (x === undefined || y === undefined) return x === undefined ? (y === undefined ? 0 : 1) : -1;
  return semver.rcompare(x, y);
}
