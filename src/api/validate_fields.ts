/**
 * The generic half of validation: walks the field table of schema.ts over plain data (types, unknown fields,
 * formats, ranges, defaults, quantities), reporting each problem at its path and returning the converted
 * value. The kind rules (validate_volume.ts, validate_network.ts, validate_domain.ts) run on what it returns.
 *
 * @module
 */
import { decimalSuffixHint, formatQuantity, parseQuantity, QuantityError } from "./quantity.ts";
import { closest, didYouMean, type PathSegment, type ProblemCollector, quote } from "./problem.ts";
import {
  type ArrayField,
  type BooleanField,
  type Field,
  type IntegerField,
  type MapField,
  type ObjectField,
  type QuantityField,
  type StringField,
  UNIT_BYTES,
} from "./schema.ts";
import { FORMATS } from "./validate_format.ts";
import { isPlainObject } from "./loose.ts";

/**
 * Checks `raw` against `field` and returns the converted value (defaults
 * filled, quantities converted, strings normalized), or undefined when it is
 * invalid (a problem was reported).
 */
export function walk(field: Field, raw: unknown, path: PathSegment[], r: ProblemCollector): unknown {
  return (WALKERS[field.type] as Walker<Field>)(field, raw, path, r);
}

type Walker<F extends Field> = (field: F, raw: unknown, path: PathSegment[], r: ProblemCollector) => unknown;

// deno-lint-ignore no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
// deno-lint-ignore no-control-regex -- as above, but tab, newline and carriage return are allowed
const CONTROL_MULTILINE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

function typeHint(raw: unknown): string | undefined {
  if (typeof raw === "number" || typeof raw === "boolean") return "put it in quotes to make it a string";
  return undefined;
}

const walkString: Walker<StringField> = (field, raw, path, r) => {
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
};

function between(min: number, max: number, show: (n: number) => string = String): string {
  return `must be between ${show(min)} and ${show(max)}`;
}

const walkInteger: Walker<IntegerField> = (field, raw, path, r) => {
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
};

const walkBoolean: Walker<BooleanField> = (_field, raw, path, r) => {
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
};

const walkQuantity: Walker<QuantityField> = (field, raw, path, r) => {
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
};

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

/** Reports that `raw` is not a mapping (a list gets `hint`); the walk's result is then undefined. */
function notAMapping(
  raw: unknown,
  path: PathSegment[],
  r: ProblemCollector,
  what: { message: string; hint?: string },
): undefined {
  r.report(path, { message: what.message, value: raw, hint: Array.isArray(raw) ? what.hint : undefined });
  return undefined;
}

const walkObject: Walker<ObjectField> = (field, raw, path, r) => {
  if (!isPlainObject(raw)) {
    return notAMapping(raw, path, r, { message: "must be a mapping", hint: 'remove the leading "-"' });
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
      r.report(path, { message: `must have exactly one of ${orList(group)}` });
    } else if (given.length > 1) {
      r.report(path, {
        message: `must have exactly one of ${orList(group)}; got ${given.join(" and ")}`,
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
  for (const [name, child] of fieldEntries(field)) {
    const childPath = [...path, name];
    if (child.managed) {
      if (child.default !== undefined) out[name] = copyDefault(child.default);
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
        const filled = walk(child, copyDefault(child.default), childPath, r);
        if (filled !== undefined) out[name] = filled;
      }
      continue;
    }
    const result = walk(child, value, childPath, r);
    if (result !== undefined) out[name] = result;
  }
  return out;
};

const walkArray: Walker<ArrayField> = (field, raw, path, r) => {
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
};

const walkMap: Walker<MapField> = (field, raw, path, r) => {
  if (!isPlainObject(raw)) {
    return notAMapping(raw, path, r, { message: "must be a mapping of names to strings" });
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
};

/** Copies `value` with object keys in table order (kind rules may add fields at the end). */
export function canonical(field: Field, value: unknown): unknown {
  if (field.type === "object" && isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [name, child] of fieldEntries(field)) {
      if (Object.hasOwn(value, name) && value[name] !== undefined) out[name] = canonical(child, value[name]);
    }
    return out;
  }
  if (field.type === "array" && Array.isArray(value)) return value.map((v) => canonical(field.items, v));
  return value;
}

/** The walker of each field type. */
const WALKERS: { [T in Field["type"]]: Walker<Extract<Field, { type: T }>> } = {
  any: (_field, raw) => raw,
  string: walkString,
  integer: walkInteger,
  boolean: walkBoolean,
  quantity: walkQuantity,
  object: walkObject,
  array: walkArray,
  map: walkMap,
};

/** "a or b", "a, b or c". */
function orList(names: readonly string[]): string {
  return names.length <= 2
    ? names.join(" or ")
    : `${names.slice(0, -1).join(", ")} or ${names[names.length - 1]}`;
}

/**
 * A field's default, copied so that no two resources share it. Defaults are plain data: copied by hand, which
 * is much cheaper than structuredClone (about 1 ms a Domain with its ~50 defaults; bench item 9's no-op
 * apply of 500); anything else still goes through structuredClone.
 */
export function copyDefault<T>(value: T): T {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map(copyDefault) as T;
  if (Object.getPrototypeOf(value) !== Object.prototype) return structuredClone(value);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = copyDefault(v);
  return out as T;
}

const entries = new WeakMap<ObjectField, [string, Field][]>();

/** The fields of an object field as [name, field] pairs, listed once per table (walked for every document). */
function fieldEntries(field: ObjectField): [string, Field][] {
  let list = entries.get(field);
  if (!list) entries.set(field, list = Object.entries(field.fields));
  return list;
}
