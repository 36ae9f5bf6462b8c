/**
 * libvirt's scaled integers: `<memory unit='KiB'>524288</memory>`,
 * `<capacity unit='bytes'>...</capacity>`. Units follow libvirt: `b`/`bytes`;
 * `k`, `KiB` = 1024; `KB` = 1000; likewise M, G, T, P, E.
 *
 * @module
 */

/** Options for {@linkcode scaledToBytes}. */
export interface ScaledToBytesOptions {
  /** Unit assumed when the element has no `unit` attribute. Default `"bytes"` (memory elements use `"KiB"`). */
  defaultUnit?: string;
}

const POWERS: Record<string, number> = { k: 1, m: 2, g: 3, t: 4, p: 5, e: 6 };

/** Bytes in one `unit`, or undefined when libvirt would not accept the unit. */
export function unitBytes(unit: string): number | undefined {
  const u = unit.toLowerCase();
  if (u === "b" || u === "byte" || u === "bytes") return 1;
  const m = /^([kmgtpe])(ib|b)?$/.exec(u);
  if (!m) return undefined;
  const base = m[2] === "b" ? 1000 : 1024;
  return base ** POWERS[m[1]];
}

/**
 * Converts a scaled integer to bytes. Throws a RangeError for a value that is
 * not a non-negative integer or an unknown unit.
 */
export function scaledToBytes(
  value: string,
  unit: string | undefined,
  options: ScaledToBytesOptions = {},
): number {
  const text = value.trim();
  if (!/^\d+$/.test(text)) throw new RangeError(`Not a scaled integer: ${JSON.stringify(value)}`);
  const name = unit ?? options.defaultUnit ?? "bytes";
  const factor = unitBytes(name);
  if (factor === undefined) throw new RangeError(`Unknown unit ${JSON.stringify(name)}`);
  return Number(text) * factor;
}
