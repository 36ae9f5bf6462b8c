/**
 * What `lv apply` would store for one resource of a file, given the stored object: the three-way merge of
 * src/api/merge.ts applied to a whole resource, validated again. Pure: apply, `--dry-run=server` and
 * `lv diff` share it and decide themselves whether to write.
 */
import { canonicalInput } from "../api/canonical_input.ts";
import { appliedMask, deepEqual, LAST_APPLIED_ANNOTATION, mergeValue } from "../api/merge.ts";
import { formatProblem } from "../api/problem.ts";
import type { AnyResource } from "../api/types.ts";
import { isPlainObject, type SpecDefaults, validateResource } from "../api/validate.ts";
import { rawInputOf } from "../manifest/parse.ts";
import { refString } from "../store/store.ts";
import { InvalidInputError } from "./errors.ts";

export type ApplyResult = "created" | "configured" | "unchanged";

/** The outcome of planning one resource. */
export interface ApplyPlan {
  /** The object apply would store (for "unchanged", the stored object itself). */
  next: AnyResource;
  /** The stored object, if any. */
  live?: AnyResource;
  result: ApplyResult;
  /** Only the last-applied record changes (an object applied before lv kept one): written, not reported. */
  recordOnly: boolean;
}

/** Options for {@linkcode planApply}. */
export interface PlanOptions {
  /** The selected context's spec defaults, as the file was validated with. */
  specDefaults?: SpecDefaults;
}

/** The part of a resource apply merges: labels, annotations (without the record) and spec. */
function view(obj: { metadata?: unknown; spec?: unknown } | undefined): Record<string, unknown> | undefined {
  if (obj === undefined) return undefined;
  const meta = isPlainObject(obj.metadata) ? obj.metadata : {};
  const out: Record<string, unknown> = {};
  const metadata: Record<string, unknown> = {};
  if (meta.labels !== undefined) metadata.labels = meta.labels;
  if (isPlainObject(meta.annotations)) {
    const { [LAST_APPLIED_ANNOTATION]: _, ...rest } = meta.annotations;
    metadata.annotations = rest;
  }
  out.metadata = metadata;
  if (obj.spec !== undefined) out.spec = obj.spec;
  return out;
}

/** What the file sets of `obj`, and the record to keep (one the file carries, from `lv get -o yaml`). */
export function fileRecord(obj: AnyResource): { mask: Record<string, unknown>; record: string } {
  const raw = rawInputOf(obj) ?? obj;
  const mask = (appliedMask(view(obj), view(raw as AnyResource)) ?? {}) as Record<string, unknown>;
  const rawMeta = isPlainObject((raw as AnyResource).metadata) ? (raw as AnyResource).metadata : undefined;
  const carried = rawMeta?.annotations?.[LAST_APPLIED_ANNOTATION];
  return { mask, record: typeof carried === "string" ? carried : JSON.stringify(mask) };
}

function resolve(
  obj: AnyResource,
  content: { metadata?: unknown; spec?: unknown },
  options: PlanOptions,
): { resource?: AnyResource; problems: string[] } {
  const meta = isPlainObject(content.metadata) ? content.metadata : {};
  const input = canonicalInput(obj.kind, {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    metadata: { ...meta, name: obj.metadata.name, namespace: obj.metadata.namespace },
    spec: content.spec,
  });
  const result = validateResource(input, { specDefaults: options.specDefaults });
  return { resource: result.resource, problems: result.problems.map(formatProblem) };
}

function parseRecord(live: AnyResource): Record<string, unknown> | undefined {
  const text = live.metadata.annotations?.[LAST_APPLIED_ANNOTATION];
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text);
    return isPlainObject(parsed) ? parsed : undefined;
  } catch {
    return undefined; // an unreadable record counts as none
  }
}

/**
 * Plans applying `obj` (from a file) over `live`. Throws InvalidInputError when the merged object is
 * invalid (a value someone else set conflicts with the file's).
 */
export function planApply(
  obj: AnyResource,
  live: AnyResource | undefined,
  options: PlanOptions = {},
): ApplyPlan {
  const { mask, record } = fileRecord(obj);
  if (!live) {
    const next = structuredClone(obj);
    next.metadata.annotations = { ...next.metadata.annotations, [LAST_APPLIED_ANNOTATION]: record };
    return { next, result: "created", recordOnly: false };
  }
  if (unchangedSinceRecord(live, mask, record)) {
    return { next: live, live, result: "unchanged", recordOnly: false };
  }
  const last = parseRecord(live);
  // objects applied before lv kept a record: the file now stands in for the last apply, so fields it
  // leaves out keep their live value (as kubectl does on a first apply over an existing object)
  const base = last ? resolve(obj, last, options).resource ?? obj : obj;
  const merged = mergeValue({
    desired: view(obj),
    file: mask,
    base: view(base),
    last: last ?? undefined,
    live: view(live),
  }, "") as { metadata?: unknown; spec?: unknown };
  const final = resolve(obj, merged, options);
  if (!final.resource) {
    throw new InvalidInputError(
      final.problems.map((p) => `${refString(obj)}: with the live object's changes merged in: ${p}`),
    );
  }
  const next = structuredClone(live);
  next.spec = final.resource.spec as typeof next.spec;
  next.metadata.labels = final.resource.metadata.labels;
  next.metadata.annotations = { ...final.resource.metadata.annotations, [LAST_APPLIED_ANNOTATION]: record };
  const same = deepEqual(view(live), view(next));
  if (!same) return { next, live, result: "configured", recordOnly: false };
  const recordOnly = live.metadata.annotations[LAST_APPLIED_ANNOTATION] !== record;
  return { next: recordOnly ? next : live, live, result: "unchanged", recordOnly };
}

/**
 * The file says what it said at the last apply (the same record) and the stored object still holds those
 * values: applying it again changes nothing, and the merge and the two validations below (about 2 ms an
 * object: most of a no-op apply of many objects) are skipped. Fields the file does not set do not matter
 * here: the merge keeps them as they are.
 */
function unchangedSinceRecord(live: AnyResource, mask: Record<string, unknown>, record: string): boolean {
  return live.metadata.annotations?.[LAST_APPLIED_ANNOTATION] === record &&
    deepEqual(mask, appliedMask(view(live), mask));
}
