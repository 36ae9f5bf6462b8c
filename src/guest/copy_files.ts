/**
 * lv cp's copying, as scp does it, over any {@linkcode RemoteFiles} (SFTP in sftp_files.ts): a file to a
 * file or into a directory; with `recursive`, a directory to a new path or into an existing directory.
 */
import { basename, join } from "node:path";
import { posix } from "node:path";

/** A file or directory on the far side. */
export interface RemoteEntry {
  name: string;
  isDirectory: boolean;
  /** Permission bits. */
  mode: number;
}

/** The far side's files (paths are POSIX paths there). */
export interface RemoteFiles {
  /** Undefined when nothing is at `path`. */
  stat(path: string): Promise<Omit<RemoteEntry, "name"> | undefined>;
  /** Succeeds when the directory exists already. */
  mkdir(path: string, mode: number): Promise<void>;
  readdir(path: string): Promise<RemoteEntry[]>;
  /** Writes the local file `local` to `remote` with `mode`. */
  put(local: string, remote: string, mode: number): Promise<void>;
  /** Writes `remote` to the local file `local` with `mode`. */
  get(remote: string, local: string, mode: number): Promise<void>;
}

export interface CopyOptions {
  /** Copy directories (cp -r). */
  recursive?: boolean;
  /** Called with each file copied (its destination). */
  onFile?: (path: string) => void;
}

/** A refusal naming the path (a directory without -r, a missing source). */
export class CopyError extends Error {
  override name = "CopyError";
}

function localStat(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.statSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/** Copies the local `source` to `target` on the far side. */
export async function upload(
  remote: RemoteFiles,
  source: string,
  target: string,
  options: CopyOptions = {},
): Promise<void> {
  const info = localStat(source);
  if (!info) throw new CopyError(`${source}: no such file or directory`);
  if (info.isDirectory && !options.recursive) throw new CopyError(`${source} is a directory (use -r)`);
  const there = await remote.stat(target);
  const dest = there?.isDirectory ? posix.join(target, basename(source.replace(/\/+$/, "")) || "/") : target;
  await uploadEntry(remote, source, dest, options);
}

async function uploadEntry(remote: RemoteFiles, source: string, dest: string, options: CopyOptions) {
  const info = Deno.statSync(source);
  const mode = (info.mode ?? 0o644) & 0o7777;
  if (!info.isDirectory) {
    await remote.put(source, dest, mode);
    options.onFile?.(dest);
    return;
  }
  await remote.mkdir(dest, mode);
  for (const entry of [...Deno.readDirSync(source)].sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.isSymlink) continue; // as scp -r does not follow them either way: skipped
    await uploadEntry(remote, join(source, entry.name), posix.join(dest, entry.name), options);
  }
}

/** Copies `source` on the far side to the local `target`. */
export async function download(
  remote: RemoteFiles,
  source: string,
  target: string,
  options: CopyOptions = {},
): Promise<void> {
  const info = await remote.stat(source);
  if (!info) throw new CopyError(`${source}: no such file or directory in the guest`);
  if (info.isDirectory && !options.recursive) throw new CopyError(`${source} is a directory (use -r)`);
  const here = localStat(target);
  const dest = here?.isDirectory
    ? join(target, posix.basename(source.replace(/\/+$/, "")) || "root")
    : target;
  await downloadEntry(remote, source, dest, { ...info, name: "" }, options);
}

async function downloadEntry(
  remote: RemoteFiles,
  source: string,
  dest: string,
  info: RemoteEntry,
  options: CopyOptions,
) {
  if (!info.isDirectory) {
    await remote.get(source, dest, info.mode);
    options.onFile?.(dest);
    return;
  }
  Deno.mkdirSync(dest, { recursive: true, mode: info.mode });
  const entries = (await remote.readdir(source)).sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    await downloadEntry(remote, posix.join(source, entry.name), join(dest, entry.name), entry, options);
  }
}
