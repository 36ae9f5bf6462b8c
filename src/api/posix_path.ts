/**
 * What lv needs of node:path, for POSIX paths, here so that the commands that only read (the config file's
 * path, the store's, $LV_HOME, a manifest's directory) do not start Node's compatibility layer: importing
 * `node:path` costs a command ~8 ms, and `resolve` against the working directory starts Node's `process`
 * (~30 ms; bench item 8, "startup").
 *
 * @module
 */

/** The parts joined with "/", empty parts skipped, "." and ".." segments resolved, repeated slashes merged. */
export function joinPath(...parts: string[]): string {
  const joined = parts.filter((p) => p !== "").join("/");
  if (joined === "") return ".";
  const absolute = joined.startsWith("/");
  const out: string[] = [];
  for (const seg of joined.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === ".." && out.length > 0 && out[out.length - 1] !== "..") out.pop();
    else if (seg !== ".." || !absolute) out.push(seg);
  }
  const body = out.join("/");
  const tail = joined.endsWith("/") && body !== "" ? "/" : "";
  return absolute ? `/${body}${tail}` : `${body || "."}${tail}`;
}

export function isAbsolutePath(path: string): boolean {
  return path.startsWith("/");
}

/** node:path's `resolve`: the last absolute part and those after it, else against the working directory. */
export function resolvePath(...parts: string[]): string {
  const from = parts.findLastIndex(isAbsolutePath);
  const joined = joinPath(...(from < 0 ? [Deno.cwd(), ...parts] : parts.slice(from)));
  return joined.length > 1 ? joined.replace(/\/$/, "") : joined;
}

/**
 * node:path's `dirname`: the path up to the slash before its last segment (trailing slashes ignored, repeated
 * ones before the segment kept but the last); "." without a slash, "/" at the root.
 */
export function dirnamePath(path: string): string {
  if (path === "") return ".";
  let i = path.length - 1;
  while (i >= 1 && path[i] === "/") i--; // trailing slashes
  while (i >= 1 && path[i] !== "/") i--; // the last segment
  if (i < 1) return path.startsWith("/") ? "/" : ".";
  return i === 1 && path.startsWith("/") ? "//" : path.slice(0, i);
}
