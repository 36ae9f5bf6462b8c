/**
 * Stored (canonical) values back into input the validator reads the same way: a quantity stored in a unit
 * other than the one a plain number means (Domain.machineVirtualSize is stored in bytes, a plain number
 * means GiB) becomes a quantity string. Everything else is already valid input.
 *
 * @module
 */

import { formatQuantity } from "./quantity.ts";
import { type Field, RESOURCE_FIELDS, UNIT_BYTES } from "./schema.ts";
import type { Kind } from "./types.ts";
import { isPlainObject } from "./validate.ts";

function convert(field: Field, value: unknown): unknown {
  if (field.type === "quantity" && typeof value === "number" && field.unit !== field.plainUnit) {
    const bytes = value * UNIT_BYTES[field.unit];
    const text = formatQuantity(bytes);
    return /[A-Za-z]$/.test(text) ? text : `${bytes}e0`;
  }
  if (field.type === "object" && isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = field.fields[k] ? convert(field.fields[k], v) : v;
    return out;
  }
  if (field.type === "array" && Array.isArray(value)) return value.map((v) => convert(field.items, v));
  return value;
}

/** `value` (a whole resource or a mask of one, of `kind`) as input that validates to the same values. */
export function canonicalInput(kind: Kind, value: unknown): unknown {
  return convert(RESOURCE_FIELDS[kind], value);
}
