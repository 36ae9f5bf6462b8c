/**
 * Field-path differences between two plain values (JSON-like: objects,
 * arrays, strings, numbers, booleans, undefined).
 *
 * @module
 */

/** Options for {@linkcode diffPaths}. */
export interface DiffPathsOptions {
  /** Path of the values compared; prefixed to every result. Default "" (the root). */
  path?: string;
}

function join(path: string, key: string): string {
  if (key.startsWith("[")) return path + key;
  return path === "" ? key : `${path}.${key}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The paths at which `want` and `got` differ, e.g. `["mode", "ipv4.prefix",
 * "dhcp.hosts[52:54:00:aa:bb:cc].ip"]`. Objects are compared key by key
 * (a key beginning with `[` is appended without a dot, so keyed lists can be
 * passed as objects keyed `[id]`); arrays element by element (`disks[1]`);
 * a key present on one side only is a difference at that key. A difference of
 * kind (object against scalar) is reported at the enclosing path.
 */
export function diffPaths(want: unknown, got: unknown, options: DiffPathsOptions = {}): string[] {
  const path = options.path ?? "";
  if (Array.isArray(want) && Array.isArray(got)) {
    const out: string[] = [];
    for (let i = 0; i < Math.max(want.length, got.length); i++) {
      if (i >= want.length || i >= got.length) out.push(`${path}[${i}]`);
      else out.push(...diffPaths(want[i], got[i], { path: `${path}[${i}]` }));
    }
    return out;
  }
  if (isRecord(want) && isRecord(got)) {
    const out: string[] = [];
    const keys = [...new Set([...Object.keys(want), ...Object.keys(got)])];
    for (const key of keys) {
      out.push(...diffPaths(want[key], got[key], { path: join(path, key) }));
    }
    return out;
  }
  return Object.is(want, got) ? [] : [path];
}
