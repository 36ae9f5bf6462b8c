/**
 * Kubernetes quantities for sizes: `512Mi`, `2Gi`, `1G`, `100k`, `1.5Gi`,
 * `1e9`, and plain numbers whose unit depends on the field (memory is MiB and
 * machineVirtualSize GiB, as in vagrant-libvirt; volume sizes are bytes).
 *
 * Binary suffixes: Ki Mi Gi Ti Pi Ei (powers of 1024). Decimal: k M G T P E
 * (powers of 1000), and m u n (milli, micro, nano), and exponents `e3`/`E3`.
 * The arithmetic is exact (BigInt): a value that is not a whole number of
 * bytes is an error, never rounded.
 *
 * @module
 */

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
export const TiB = 1024 * GiB;

/** A quantity that cannot be read, or is not a whole, non-negative number of bytes. */
export class QuantityError extends Error {
  /** What was given. */
  readonly input: string | number;
  /** A suggested fix, such as `did you mean "512Mi"?`. */
  readonly hint?: string;
  constructor(message: string, input: string | number, hint?: string) {
    super(message);
    this.name = "QuantityError";
    this.input = input;
    if (hint !== undefined) this.hint = hint;
  }
}

/** Options for {@linkcode parseQuantity}. */
export interface ParseQuantityOptions {
  /**
   * Bytes per unit for a number without a suffix (a YAML number, or a string of
   * digits). Default 1 (bytes). Memory uses {@linkcode MiB}, machineVirtualSize {@linkcode GiB}.
   */
  plainUnit?: number;
}

/** Pattern of an accepted quantity string (for JSON Schema). */
export const QUANTITY_PATTERN =
  "^\\+?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][-+]?[0-9]+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$";

const RE = /^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([numkMGTPE])|[eE]([+-]?[0-9]+))?$/;
const BINARY: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const MAX_INPUT = 64;

/**
 * Converts a quantity to a whole number of bytes.
 *
 * ```ts
 * parseQuantity("2Gi")                      // 2147483648
 * parseQuantity(512, { plainUnit: MiB })    // 536870912
 * parseQuantity("1.5Ki")                    // 1536
 * ```
 *
 * Throws {@linkcode QuantityError} for anything else: negative, fractional
 * bytes, unknown suffix (with a hint: `2GB` → `2Gi`), beyond 2^53.
 */
export function parseQuantity(value: string | number, options: ParseQuantityOptions = {}): number {
  const plainUnit = options.plainUnit ?? 1;
  let text: string;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new QuantityError("must be a finite number", value);
    if (value < 0) throw new QuantityError("must not be negative", value);
    if (Number.isSafeInteger(value) && Number.isSafeInteger(value * plainUnit)) return value * plainUnit;
    text = String(value);
  } else {
    text = value.trim();
  }
  if (text === "") throw new QuantityError("must not be empty", value);
  if (text.length > MAX_INPUT) throw new QuantityError("is too long to be a size", value);
  const m = RE.exec(text);
  if (m === null) throw new QuantityError("must be a size such as 512Mi, 2Gi or 10G", value, suggest(text));
  const [, sign, number, binary, decimal, exponent] = m;
  const [whole, fraction = ""] = number.split(".");
  let numerator = BigInt((whole || "0") + fraction);
  let denominator = 10n ** BigInt(fraction.length);
  if (sign === "-" && numerator !== 0n) throw new QuantityError("must not be negative", value);
  if (binary !== undefined) {
    numerator *= 1024n ** BigInt(BINARY[binary]);
  } else {
    let power = 0;
    if (decimal !== undefined) power = DECIMAL[decimal];
    else if (exponent !== undefined) power = Number(exponent);
    // A YAML number (even 1e-3 or 1e+21) and a suffix-less string are in the plain unit.
    if (typeof value === "number" || (decimal === undefined && exponent === undefined)) {
      numerator *= BigInt(plainUnit);
    }
    if (Math.abs(power) > 30) throw new QuantityError("is out of range", value);
    if (power >= 0) numerator *= 10n ** BigInt(power);
    else denominator *= 10n ** BigInt(-power);
  }
  if (numerator % denominator !== 0n) {
    throw new QuantityError("must be a whole number of bytes", value);
  }
  const bytes = numerator / denominator;
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) throw new QuantityError("is out of range", value);
  return Number(bytes);
}

/** `2GB`, `2gib`, `2 G` → `did you mean "2Gi"?` */
function suggest(text: string): string | undefined {
  const m = /^\+?([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([kmgtpe])(i?)(b|bytes?)?$/i.exec(text);
  if (m === null) {
    if (/^[0-9.]+\s*b(ytes?)?$/i.test(text)) {
      return `did you mean ${JSON.stringify(text.replace(/\s*b(ytes?)?$/i, ""))}?`;
    }
    return undefined;
  }
  const letter = m[2].toUpperCase() === "K" ? "K" : m[2].toUpperCase();
  return `did you mean ${JSON.stringify(`${m[1]}${letter}i`)}?`;
}

/**
 * The largest binary unit that represents `bytes` exactly: 2147483648 → `2Gi`,
 * 536870912 → `512Mi`, 1536 → `1536` (1.5 KiB is not a whole number of any
 * unit). Round-trips through {@linkcode parseQuantity}.
 */
export function formatQuantity(bytes: number): string {
  if (!Number.isSafeInteger(bytes) || bytes <= 0) return String(bytes);
  const units = ["Ei", "Pi", "Ti", "Gi", "Mi", "Ki"];
  for (let i = 0; i < units.length; i++) {
    const size = 1024 ** (6 - i);
    if (bytes % size === 0) return `${bytes / size}${units[i]}`;
  }
  return String(bytes);
}

/**
 * For a hint: how a decimal quantity someone probably meant as binary reads in bytes,
 * e.g. `512M` → `512M is 512000000 bytes; did you mean "512Mi"?`. Undefined otherwise.
 */
export function decimalSuffixHint(value: string | number): string | undefined {
  if (typeof value !== "string") return undefined;
  const m = /^\s*([0-9]+(?:\.[0-9]*)?)([kMGTPE])\s*$/.exec(value);
  if (m === null) return undefined;
  const bytes = parseQuantity(value);
  const letter = m[2] === "k" ? "K" : m[2];
  return `${value.trim()} is ${bytes} bytes; did you mean ${JSON.stringify(`${m[1]}${letter}i`)}?`;
}
