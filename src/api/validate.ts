/**
 * Validation of one resource: plain data (`unknown`, from YAML or JSON) in,
 * a typed resource with every default filled out, or every problem found.
 *
 * The generic part walks the field table of `schema.ts` (types, unknown
 * fields, formats, ranges, defaults); the kind-specific rules that relate
 * fields to each other live in validate_volume.ts, validate_network.ts and
 * validate_domain.ts. References between resources: validate_references.ts.
 *
 * @module
 */

import { decimalSuffixHint, formatQuantity, parseQuantity, QuantityError } from "./quantity.ts";
import {
  closest,
  didYouMean,
  type PathSegment,
  type PositionTable,
  type Problem,
  ProblemCollector,
  quote,
} from "./problem.ts";
import {
  type ArrayField,
  type BooleanField,
  type Field,
  type IntegerField,
  type MapField,
  type ObjectField,
  type QuantityField,
  RESOURCE_FIELDS,
  type StringField,
  UNIT_BYTES,
} from "./schema.ts";
import { type AnyResource, type Kind, KINDS } from "./types.ts";
import { FORMATS } from "./validate_format.ts";
import { checkBox } from "./validate_box.ts";
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

/**
 * What the walker produces before the kind rules run: the resource's shape,
 * but any field may be missing (it was invalid and a problem was reported).
 * Kind rules check only what is there.
 */
export type Loose<T> = T extends readonly (infer U)[] ? (Loose<U> | undefined)[]
  : T extends object ? { [K in keyof T]?: Loose<T[K]> }
  : T | undefined;

/** A plain mapping (not a list, not null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const KIND_RULES: {
  [K in Kind]: (resource: Loose<Extract<AnyResource, { kind: K }>>, r: ProblemCollector) => void;
} = {
  Box: checkBox,
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

// ---------------------------------------------------------------- the walker

/**
 * Checks `raw` against `field` and returns the converted value (defaults
 * filled, quantities converted, strings normalized), or undefined when it is
 * invalid (a problem was reported).
 */
function walk(field: Field, raw: unknown, path: PathSegment[], r: ProblemCollector): unknown {
  switch (field.type) {
    case "any":
      return raw;
    case "string":
      return walkString(field, raw, path, r);
    case "integer":
      return walkInteger(field, raw, path, r);
    case "boolean":
      return walkBoolean(field, raw, path, r);
    case "quantity":
      return walkQuantity(field, raw, path, r);
    case "object":
      return walkObject(field, raw, path, r);
    case "array":
      return walkArray(field, raw, path, r);
    case "map":
      return walkMap(field, raw, path, r);
  }
}

// deno-lint-ignore no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
// deno-lint-ignore no-control-regex -- as above, but tab, newline and carriage return are allowed
const CONTROL_MULTILINE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

function typeHint(raw: unknown): string | undefined {
  if (typeof raw === "number" || typeof raw === "boolean") return "put it in quotes to make it a string";
  return undefined;
}

function walkString(
  field: StringField,
  raw: unknown,
  path: PathSegment[],
  r: ProblemCollector,
): string | undefined {
  if (typeof raw !== "string") {
    const expected = field.enum ? `must be one of ${field.enum.join(", ")}` : "must be a string";
    r.report(path, { message: expected, value: raw, hint: field.enum ? undefined : typeHint(raw) });
    return undefined;
  }
  if (raw === "" && !field.allowEmpty) {
    r.report(path, {
      message: field.format
        ? `must not be empty; must be ${FORMATS[field.format].rule}`
        : "must not be empty",
      value: raw,
    });
    return undefined;
  }
  if ((field.multiline ? CONTROL_MULTILINE : CONTROL).test(raw)) {
    const newline = !field.multiline && /[\r\n]/.test(raw);
    r.report(path, {
      message: newline ? "must be a single line" : "must not contain control characters",
      value: raw,
    });
    return undefined;
  }
  if (field.maxLength !== undefined && raw.length > field.maxLength) {
    r.report(path, { message: `must be at most ${field.maxLength} characters`, value: raw });
    return undefined;
  }
  if (field.enum && !field.enum.includes(raw)) {
    r.report(path, {
      message: field.enum.length === 1
        ? `must be ${quote(field.enum[0])}`
        : `must be one of ${field.enum.join(", ")}`,
      value: raw,
      hint: didYouMean(raw, field.enum),
    });
    return undefined;
  }
  if (field.format) {
    const result = FORMATS[field.format].check(raw);
    if (!result.ok) {
      r.report(path, { message: result.message, value: raw, hint: result.hint });
      return undefined;
    }
    return result.value;
  }
  return raw;
}

function between(min: number, max: number, show: (n: number) => string = String): string {
  return `must be between ${show(min)} and ${show(max)}`;
}

function walkInteger(
  field: IntegerField,
  raw: unknown,
  path: PathSegment[],
  r: ProblemCollector,
): number | undefined {
  if (typeof raw !== "number" || !Number.isInteger(raw)) {
    const quoted = typeof raw === "string" && /^\s*[-+]?\d+\s*$/.test(raw);
    r.report(path, {
      message: typeof raw === "number" ? "must be a whole number" : "must be an integer",
      value: raw,
      hint: quoted ? "remove the quotes" : undefined,
    });
    return undefined;
  }
  if (raw < field.minimum || raw > field.maximum) {
    r.report(path, { message: between(field.minimum, field.maximum), value: raw });
    return undefined;
  }
  return raw;
}

function walkBoolean(
  _field: BooleanField,
  raw: unknown,
  path: PathSegment[],
  r: ProblemCollector,
): boolean | undefined {
  if (typeof raw === "boolean") return raw;
  let hint: string | undefined;
  if (typeof raw === "string") {
    if (/^(true|false)$/i.test(raw)) hint = "remove the quotes";
    else if (/^(yes|no|on|off|y|n)$/i.test(raw)) {
      hint = "YAML 1.2 reads yes/no/on/off as strings; write true or false";
    }
  }
  r.report(path, { message: "must be true or false", value: raw, hint });
  return undefined;
}

function walkQuantity(
  field: QuantityField,
  raw: unknown,
  path: PathSegment[],
  r: ProblemCollector,
): number | undefined {
  const plain = UNIT_BYTES[field.plainUnit];
  const unit = UNIT_BYTES[field.unit];
  const what = field.plainUnit === "bytes"
    ? "must be a size: a number of bytes or a quantity such as 20Gi"
    : `must be a size: a number of ${field.plainUnit} or a quantity such as 2Gi`;
  if (typeof raw !== "number" && typeof raw !== "string") {
    r.report(path, { message: what, value: raw });
    return undefined;
  }
  let bytes: number;
  try {
    bytes = parseQuantity(raw, { plainUnit: plain });
  } catch (e) {
    if (!(e instanceof QuantityError)) throw e;
    const message = e.message.startsWith("must be a size") ? what : e.message;
    r.report(path, { message, value: raw, hint: e.hint });
    return undefined;
  }
  if (bytes % unit !== 0) {
    r.report(path, {
      message: `must be a whole number of ${field.unit}`,
      value: raw,
      hint: decimalSuffixHint(raw),
    });
    return undefined;
  }
  if (bytes < field.minimum || bytes > field.maximum) {
    const plainHint = typeof raw === "number" && field.plainUnit !== "bytes"
      ? `a plain number is in ${field.plainUnit}`
      : decimalSuffixHint(raw);
    const message = field.minimum <= 1
      ? (bytes < field.minimum
        ? "must be greater than 0"
        : `must be at most ${formatQuantity(field.maximum)}`)
      : between(field.minimum, field.maximum, formatQuantity);
    r.report(path, { message, value: raw, hint: plainHint });
    return undefined;
  }
  return bytes / unit;
}

/** The field an unknown key was probably meant to be, and the hint that says so. */
function unknownFieldHint(name: string, field: ObjectField): { meant?: string; hint: string } {
  const names = Object.keys(field.fields).filter((n) => !field.fields[n].managed);
  const near = closest(name, names);
  if (near !== undefined) return { meant: near, hint: `did you mean ${quote(near)}?` };
  // vagrant-libvirt's option names: nic_model_type → model, libvirt__dhcp_stop (or just stop) → end
  const bare = name.replace(/^libvirt__/, "");
  for (const [candidate, child] of Object.entries(field.fields)) {
    if (child.vagrant === undefined) continue;
    const option = child.vagrant.replace(/^libvirt__/, "").replace(/^.*\./, "");
    const lastWord = option.split("_").pop() ?? "";
    if (closest(bare, [option]) !== undefined || (bare.length >= 3 && bare.toLowerCase() === lastWord)) {
      return { meant: candidate, hint: `vagrant-libvirt's ${child.vagrant} is ${quote(candidate)} here` };
    }
  }
  return { hint: `expected one of: ${names.join(", ")}` };
}

/** What "is required" can add: the value to write, or the rule it must follow. */
function requiredHint(name: string, field: Field): string | undefined {
  if (field.type === "string" && field.enum?.length === 1) return `add ${name}: ${field.enum[0]}`;
  if (field.type === "string" && field.format) return `must be ${FORMATS[field.format].rule}`;
  return undefined;
}

function walkObject(
  field: ObjectField,
  raw: unknown,
  path: PathSegment[],
  r: ProblemCollector,
): Record<string, unknown> | undefined {
  if (!isPlainObject(raw)) {
    r.report(path, {
      message: "must be a mapping",
      value: raw,
      hint: Array.isArray(raw) ? 'remove the leading "-"' : undefined,
    });
    return undefined;
  }
  const present = (name: string) => Object.hasOwn(raw, name) && raw[name] !== null && raw[name] !== undefined;
  // Fields that an unknown key was probably meant to be: not also reported as missing.
  const misspelled = new Set<string>();
  for (const key of Object.keys(raw)) {
    if (!Object.hasOwn(field.fields, key)) {
      if (r.full) {
        r.dropped++;
        continue;
      }
      const { meant, hint } = unknownFieldHint(key, field);
      if (meant !== undefined) misspelled.add(meant);
      r.report([...path, key], { message: "unknown field", key: true, hint });
    }
  }
  for (const group of field.exactlyOne ?? []) {
    const given = group.filter(present);
    if (given.length === 0 && !group.some((name) => misspelled.has(name))) {
      r.report(path, { message: `must have exactly one of ${group.join(" or ")}` });
    } else if (given.length > 1) {
      r.report(path, {
        message: `must have exactly one of ${group.join(" or ")}; got ${given.join(" and ")}`,
        at: [...path, given[1]],
        key: true,
      });
    }
  }
  const skipDefault = new Set<string>();
  for (const group of field.atMostOne ?? []) {
    const given = group.filter(present);
    if (given.length > 1) {
      r.report(path, {
        message: `may have only one of ${group.join(" or ")}; got ${given.join(" and ")}`,
        at: [...path, given[1]],
        key: true,
      });
    }
    if (given.length > 0) { for (const name of group) skipDefault.add(name); }
  }
  const out: Record<string, unknown> = {};
  for (const [name, child] of Object.entries(field.fields)) {
    const childPath = [...path, name];
    if (child.managed) {
      if (child.default !== undefined) out[name] = structuredClone(child.default);
      continue;
    }
    const value = Object.hasOwn(raw, name) ? raw[name] : undefined;
    if (value === undefined || value === null) {
      if (misspelled.has(name)) continue;
      if (child.required) {
        r.report(childPath, {
          message: "is required",
          missing: value === undefined,
          hint: requiredHint(name, child),
        });
      } else if (child.default !== undefined && !skipDefault.has(name)) {
        const filled = walk(child, structuredClone(child.default), childPath, r);
        if (filled !== undefined) out[name] = filled;
      }
      continue;
    }
    const result = walk(child, value, childPath, r);
    if (result !== undefined) out[name] = result;
  }
  return out;
}

function walkArray(
  field: ArrayField,
  raw: unknown,
  path: PathSegment[],
  r: ProblemCollector,
): unknown[] | undefined {
  if (!Array.isArray(raw)) {
    const hint = field.items.type === "string" && typeof raw === "string"
      ? `write a list: [${JSON.stringify(raw)}]`
      : isPlainObject(raw) && field.items.type === "object"
      ? 'start each item with "- "'
      : undefined;
    r.report(path, {
      message: field.items.type === "string" ? "must be a list of strings" : "must be a list",
      value: raw,
      hint,
    });
    return undefined;
  }
  if (field.maxItems !== undefined && raw.length > field.maxItems) {
    r.report(path, { message: `must have at most ${field.maxItems} items`, value: raw });
    return undefined;
  }
  // Invalid items stay as holes (undefined) so later checks keep the right indices.
  return raw.map((item, i) => walk(field.items, item, [...path, i], r));
}

function walkMap(
  field: MapField,
  raw: unknown,
  path: PathSegment[],
  r: ProblemCollector,
): Record<string, string> | undefined {
  if (!isPlainObject(raw)) {
    r.report(path, { message: "must be a mapping of names to strings", value: raw });
    return undefined;
  }
  const keys = Object.keys(raw);
  if (field.maxEntries !== undefined && keys.length > field.maxEntries) {
    r.report(path, { message: `must have at most ${field.maxEntries} entries` });
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const key of keys) {
    const keyPath = [...path, key];
    const checked = FORMATS[field.keys].check(key);
    if (!checked.ok || key === "") {
      r.report(keyPath, {
        message: `invalid key: ${checked.ok ? "must not be empty" : checked.message}`,
        key: true,
      });
      continue;
    }
    const value = walkString(field.values, raw[key], keyPath, r);
    // defineProperty: a key such as "__proto__" must stay an ordinary entry.
    if (value !== undefined) {
      Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    }
  }
  return out;
}

/** Copies `value` with object keys in table order (kind rules may add fields at the end). */
function canonical(field: Field, value: unknown): unknown {
  if (field.type === "object" && isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [name, child] of Object.entries(field.fields)) {
      if (Object.hasOwn(value, name) && value[name] !== undefined) out[name] = canonical(child, value[name]);
    }
    return out;
  }
  if (field.type === "array" && Array.isArray(value)) return value.map((v) => canonical(field.items, v));
  return value;
}
