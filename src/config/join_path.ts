/**
 * node:path's `join` for POSIX paths, here so that what every command loads (the config file's path, the
 * store's, $LV_HOME) does not start Node's compatibility layer: importing any `node:` module but sqlite costs
 * a command about 10 ms of its start (bench item 2, "startup").
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
