/**
 * Validation of one resource: plain data (`unknown`, from YAML or JSON) in,
 * a typed resource with every default filled out, or every problem found.
 *
 * The generic part (validate_fields.ts) walks the field table of `schema.ts` (types, unknown
 * fields, formats, ranges, defaults); the kind-specific rules that relate
 * fields to each other live in validate_volume.ts, validate_network.ts and
 * validate_domain.ts. References between resources: validate_references.ts.
 *
 * @module
 */

import { didYouMean, type PositionTable, type Problem, ProblemCollector } from "./problem.ts";
import { type ObjectField, RESOURCE_FIELDS } from "./schema.ts";
import { type AnyResource, type Kind, KINDS } from "./types.ts";
import { isPlainObject, type Loose } from "./loose.ts";
import { canonical, walk } from "./validate_fields.ts";
import { checkDomain } from "./validate_domain.ts";
import { checkNetwork } from "./validate_network.ts";
import { checkVolume } from "./validate_volume.ts";

/** Options for {@linkcode validateResource}. */
export interface ValidateOptions {
  /** File name for problems. Default "". */
  file?: string;
  /** Where the input's nodes are (from the YAML parser). Default none: problems have line 0. */
  positions?: PositionTable;
  /** Report at most this many problems (the rest are counted in `omitted`). Default {@linkcode MAX_PROBLEMS}. */
  maxProblems?: number;
  /** Values for spec fields the input leaves out (before the schema's defaults), by kind. */
  specDefaults?: SpecDefaults;
}

/** Per kind, spec fields and the values they take when a document leaves them out. */
export type SpecDefaults = Partial<Record<Kind, Record<string, unknown>>>;

/** Default limit of problems reported for one document (or one file, by the parser). */
export const MAX_PROBLEMS = 1000;

/** The resource when the input is valid, and every problem found. */
export interface ValidateResult {
  resource?: AnyResource;
  problems: Problem[];
  /** How many more problems there were beyond `maxProblems`; absent when none. */
  omitted?: number;
  /**
   * The input as far as it could be checked and defaulted, with invalid fields
   * left out; present whenever the kind is known. For cross-document checks
   * that should still run on a document with a mistake elsewhere. Not a valid resource.
   */
  draft?: Loose<AnyResource>;
}

const KIND_RULES: {
  [K in Kind]: (resource: Loose<Extract<AnyResource, { kind: K }>>, r: ProblemCollector) => void;
} = {
  Box: () => {},
  Volume: checkVolume,
  Network: checkNetwork,
  Domain: checkDomain,
};

/** Fields of an object whose kind is unknown: metadata is still checked, spec is not. */
const UNKNOWN_KIND: ObjectField = {
  ...RESOURCE_FIELDS.Box,
  fields: {
    ...RESOURCE_FIELDS.Box.fields,
    kind: { type: "any", description: "" },
    spec: { type: "any", description: "" },
  },
};

/**
 * Validates one resource and fills in its defaults. `input` is what YAML or
 * JSON parsing produced; the result has a resource only when there are no
 * problems.
 */
export function validateResource(input: unknown, options: ValidateOptions = {}): ValidateResult {
  const r = new ProblemCollector(options.file ?? "", options.positions, {
    limit: options.maxProblems ?? MAX_PROBLEMS,
  });
  const result = validateInto(withSpecDefaults(input, options.specDefaults), r);
  if (r.dropped > 0) result.omitted = r.dropped;
  return result;
}

function withSpecDefaults(input: unknown, defaults: SpecDefaults | undefined): unknown {
  if (!defaults || !isPlainObject(input) || !isPlainObject(input.spec)) return input;
  const extra = defaults[input.kind as Kind];
  if (!extra) return input;
  const spec = { ...input.spec };
  for (const [k, v] of Object.entries(extra)) if (spec[k] === undefined && v !== undefined) spec[k] = v;
  return { ...input, spec };
}

function validateInto(input: unknown, r: ProblemCollector): ValidateResult {
  if (!isPlainObject(input)) {
    r.report([], {
      message: `must be a mapping with apiVersion, kind, metadata and spec`,
      value: input,
    });
    return { problems: r.problems };
  }
  const rawKind = input.kind;
  let kind: Kind | undefined;
  if (rawKind === undefined || rawKind === null) {
    r.report(["kind"], {
      message: "is required",
      missing: rawKind === undefined,
      hint: `one of ${KINDS.join(", ")}`,
    });
  } else if (typeof rawKind !== "string" || !(KINDS as readonly string[]).includes(rawKind)) {
    r.report(["kind"], {
      message: `must be one of ${KINDS.join(", ")}`,
      value: rawKind,
      hint: typeof rawKind === "string" ? didYouMean(rawKind, KINDS) : undefined,
    });
  } else {
    kind = rawKind as Kind;
  }
  if (kind === undefined) {
    walk(UNKNOWN_KIND, input, [], r);
    return { problems: r.problems };
  }
  const out = walk(RESOURCE_FIELDS[kind], input, [], r) as Loose<AnyResource>;
  (KIND_RULES[kind] as (res: Loose<AnyResource>, r: ProblemCollector) => void)(out, r);
  if (r.problems.length > 0 || r.dropped > 0) return { problems: r.problems, draft: out ?? {} };
  const resource = canonical(RESOURCE_FIELDS[kind], out) as AnyResource;
  return { resource, problems: [], draft: resource };
}

/** The plain-mapping test of loose.ts, for code that imported it from here. */
export { isPlainObject } from "./loose.ts";
