/**
 * The three-way merge behind `lv apply`, as `kubectl apply` does it: from what the file said last time
 * (`last`), what it says now (`file`), and the live object, compute the object to store.
 *
 * - a field the file sets wins;
 * - a field the file set last time and no longer sets goes back to its default;
 * - a field the file never set keeps its live value when someone else (a verb such as `lv halt`, `lv edit`)
 *   changed it, else takes its (possibly recomputed) default.
 *
 * Every value here is canonical (validated, defaults filled, quantities converted). `file` and `last` are
 * masks: the canonical values of only the fields the file wrote ({@linkcode appliedMask}). `desired` is the
 * file validated with defaults, `base` the last mask validated with defaults: the object the last apply
 * stored before anyone else touched it, which tells "changed by someone else" from "a default".
 *
 * Lists of objects merge item by item by a key (list_keys.ts); other lists are replaced whole.
 *
 * @module
 */

import { LIST_KEYS, type ListKey } from "./list_keys.ts";
import { isPlainObject } from "./validate.ts";

export { LIST_KEYS } from "./list_keys.ts";

/** Annotation holding the last applied configuration (JSON of {@linkcode appliedMask}). */
export const LAST_APPLIED_ANNOTATION = "lv.dev/last-applied";

type Path = string;

/**
 * The canonical values of exactly the fields `raw` (the parsed file) sets, taken from `canonical` (the
 * validated resource). Used as the record of what a file said (`lv.dev/last-applied`).
 */
export function appliedMask(canonical: unknown, raw: unknown): unknown {
  if (raw === undefined || raw === null) return undefined;
  if (isPlainObject(raw) && isPlainObject(canonical)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(raw)) {
      const v = appliedMask(canonical[k], raw[k]);
      if (v !== undefined) out[k] = v;
    }
    return out;
  }
  if (Array.isArray(raw) && Array.isArray(canonical)) {
    return canonical.map((c, i) => isPlainObject(c) && isPlainObject(raw[i]) ? appliedMask(c, raw[i]) : c);
  }
  return canonical;
}

/** Inputs of {@linkcode mergeValue}; any may be undefined (absent). */
export interface MergeInputs {
  /** The file now, with defaults. */
  desired: unknown;
  /** The fields the file sets now. */
  file: unknown;
  /** The last apply, with defaults. */
  base: unknown;
  /** The fields the file set last time. */
  last: unknown;
  /** The stored object. */
  live: unknown;
}

function isObjectOrAbsent(v: unknown): boolean {
  return v === undefined || isPlainObject(v);
}

/** Structural equality with key order ignored and undefined fields ignored. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/**
 * Merges one value at `path` (dotted, `[]` for list items). Objects merge field by field, keyed lists item
 * by item; anything else is decided whole.
 */
export function mergeValue(m: MergeInputs, path: Path): unknown {
  const { desired, file, base, last, live } = m;
  const objects = [desired, base, live].every(isObjectOrAbsent) &&
    [desired, base, live].some(isPlainObject);
  if (objects) return mergeObject(m, path);
  const key = LIST_KEYS[path]?.key;
  if (key && Array.isArray(desired) && Array.isArray(live) && (file !== undefined || last !== undefined)) {
    return mergeList(m, path, key);
  }
  if (file !== undefined) return desired; // the file sets it: the file wins
  if (last !== undefined) return desired; // the file stopped setting it: back to the default
  if (!deepEqual(live, base)) return live; // someone else changed it
  return desired; // a default, perhaps recomputed
}

function field(v: unknown, k: string): unknown {
  return isPlainObject(v) ? v[k] : undefined;
}

function mergeObject(m: MergeInputs, path: Path): Record<string, unknown> | undefined {
  const keys = new Set<string>();
  for (const v of [m.desired, m.base, m.live]) {
    if (isPlainObject(v)) { for (const k of Object.keys(v)) keys.add(k); }
  }
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const v = mergeValue({
      desired: field(m.desired, k),
      file: field(m.file, k),
      base: field(m.base, k),
      last: field(m.last, k),
      live: field(m.live, k),
    }, path ? `${path}.${k}` : k);
    if (v !== undefined) out[k] = v;
  }
  // an optional object nobody wants any more (the file removed it, and nothing else is left in it)
  if (m.desired === undefined && Object.keys(out).length === 0) return undefined;
  return out;
}

interface Keyed {
  key: string;
  value: unknown;
  mask: unknown;
}

function keyed(values: unknown, masks: unknown, key: ListKey["key"]): Keyed[] {
  if (!Array.isArray(values)) return [];
  const seen = new Map<string, number>();
  return values.map((value, i) => {
    let k = isPlainObject(value) ? key(value, i) : `#${i}`;
    const n = (seen.get(k) ?? 0) + 1;
    seen.set(k, n);
    if (n > 1) k = `${k}#${n}`; // the same key twice: the second one is its own item
    return { key: k, value, mask: Array.isArray(masks) ? masks[i] : undefined };
  });
}

function mergeList(m: MergeInputs, path: Path, key: ListKey["key"]): unknown[] {
  const desired = keyed(m.desired, m.file, key);
  const base = new Map(keyed(m.base, m.last, key).map((b) => [b.key, b]));
  const live = keyed(m.live, undefined, key);
  const liveByKey = new Map(live.map((l) => [l.key, l]));
  const out: unknown[] = desired.map((d) => {
    const b = base.get(d.key);
    return mergeValue({
      desired: d.value,
      file: d.mask,
      base: b?.value,
      last: b?.mask,
      live: liveByKey.get(d.key)?.value,
    }, `${path}[]`);
  });
  const wanted = new Set(desired.map((d) => d.key));
  for (const l of live) {
    if (wanted.has(l.key)) continue;
    const b = base.get(l.key);
    if (b === undefined) out.push(l.value); // added by someone else: kept
    // else: the last apply had it (the file removed it, or it was a default that is gone): dropped
  }
  return out;
}
