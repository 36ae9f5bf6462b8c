/** The shape validation works on before a resource is known to be valid. */

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
