/**
 * The shapes of the field table's rows (string, integer, object, ... fields) and the builders the tables are
 * written with (`str`, `int`, `obj`, ...). A table file (schema.ts, schema_machine.ts, ...) imports these; the
 * table itself imports the table files, so the builders live apart from it.
 *
 * @module
 */
import { GiB, MiB } from "./quantity.ts";
import type { StringFormat } from "./validate_format.ts";

/** What every field has. */
export interface FieldCommon {
  /** What the field means, for `lv explain` and the JSON Schema. */
  description: string;
  /** The field must be given. */
  required?: boolean;
  /** Value used when the field is absent (or null); objects are filled from `{}` by their own defaults. */
  default?: unknown;
  /** Describes a default that depends on other fields (shown by explain; not applied by the walker). */
  defaultText?: string;
  /** The vagrant-libvirt option this field corresponds to, if any (shown by explain, used for hints). */
  vagrant?: string;
  /** Set by lv, not by users: accepted on input (so `lv get -o yaml` re-applies) and replaced by `default`. */
  managed?: boolean;
}

/** A string, optionally from a fixed set or of a format. */
export interface StringField extends FieldCommon {
  type: "string";
  enum?: readonly string[];
  format?: StringFormat;
  /** Newlines and tabs allowed (scripts, annotation values). Default false. */
  multiline?: boolean;
  /** The empty string is allowed. Default false. */
  allowEmpty?: boolean;
  maxLength?: number;
}

/** A whole number in a range. */
export interface IntegerField extends FieldCommon {
  type: "integer";
  minimum: number;
  maximum: number;
}

export interface BooleanField extends FieldCommon {
  type: "boolean";
}

/** Unit names for quantity fields. */
export type SizeUnit = "bytes" | "MiB" | "GiB";

/** Bytes in one {@linkcode SizeUnit}. */
export const UNIT_BYTES: Record<SizeUnit, number> = { bytes: 1, MiB, GiB };

/** A size: a plain number in `plainUnit`, or a Kubernetes quantity; stored in `unit`. */
export interface QuantityField extends FieldCommon {
  type: "quantity";
  /** Unit of a number without suffix. */
  plainUnit: SizeUnit;
  /** Unit of the stored value; the size must be a whole number of it. */
  unit: SizeUnit;
  /** Smallest size in bytes. */
  minimum: number;
  /** Largest size in bytes. */
  maximum: number;
}

/** A mapping with known fields. */
export interface ObjectField extends FieldCommon {
  type: "object";
  fields: Record<string, Field>;
  /** Groups of fields of which exactly one must be given. */
  exactlyOne?: readonly (readonly string[])[];
  /** Groups of fields of which at most one may be given (a default of one is skipped when another is given). */
  atMostOne?: readonly (readonly string[])[];
}

export interface ArrayField extends FieldCommon {
  type: "array";
  items: Field;
  maxItems?: number;
}

/** A mapping from free keys (of a format) to string values. */
export interface MapField extends FieldCommon {
  type: "map";
  keys: StringFormat;
  values: StringField;
  /** Maximum number of entries. */
  maxEntries?: number;
}

/** Anything (status and managed metadata: accepted and ignored). */
export interface AnyField extends FieldCommon {
  type: "any";
  /** The type explain shows, e.g. `string` for uid. Default `Object`. */
  shownType?: string;
}

export type Field =
  | StringField
  | IntegerField
  | BooleanField
  | QuantityField
  | ObjectField
  | ArrayField
  | MapField
  | AnyField;

/** A field for each key of T (so the table and types.ts cannot drift). */
export type FieldsOf<T> = { [K in keyof T]-?: Field };
export type Rest<F> = Omit<F, "type" | "description">;

export function str(description: string, rest: Rest<StringField> = {}): StringField {
  return { type: "string", description, ...rest };
}
export function oneOf<T extends string>(
  description: string,
  values: readonly T[],
  rest: Rest<StringField> = {},
): StringField {
  return { type: "string", description, enum: values, ...rest };
}
export function int(
  description: string,
  minimum: number,
  maximum: number,
  rest: Rest<Omit<IntegerField, "minimum" | "maximum">> = {},
): IntegerField {
  return { type: "integer", description, minimum, maximum, ...rest };
}
export function bool(description: string, rest: Rest<BooleanField> = {}): BooleanField {
  return { type: "boolean", description, ...rest };
}
export function obj<T>(
  description: string,
  fields: FieldsOf<T>,
  rest: Rest<Omit<ObjectField, "fields">> & { extra?: Record<string, Field> } = {},
): ObjectField {
  const { extra, ...others } = rest;
  return { type: "object", description, fields: { ...fields, ...extra }, ...others };
}
export function list(
  description: string,
  items: Field,
  rest: Rest<Omit<ArrayField, "items">> = {},
): ArrayField {
  return { type: "array", description, items, default: [], ...rest };
}
