/** Files lv writes under $LV_HOME that must never be seen half written or with looser permissions. */

/** Writes `text` to a temporary file with `mode`, then renames it over `path`. */
export function writeFileAtomic(path: string, text: string, mode: number): void {
  const tmp = `${path}.tmp.${Deno.pid}`;
  Deno.writeTextFileSync(tmp, text, { mode });
  Deno.chmodSync(tmp, mode); // the umask may have narrowed it, or a leftover tmp file kept its own
  Deno.renameSync(tmp, path);
}
