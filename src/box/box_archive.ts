/**
 * Vagrant libvirt boxes as files: which archive form a .box is (tar, or tar compressed with gzip, bzip2 or
 * xz, as boxes in the wild are; GNU tar reads each), unpacking one once per digest, and reading an unpacked
 * box directory (a cache entry, or a box Vagrant itself installed under $VAGRANT_HOME/boxes).
 */
import { basename, join } from "node:path";
import { BoxSourceError } from "./box_source_error.ts";

/** A .box's archive form, from its first bytes; undefined for anything else (an image). */
export type ArchiveForm = "tar" | "gzip" | "bzip2" | "xz";

/** What the first bytes of a file say it is, as far as boxes go. */
export async function archiveForm(path: string): Promise<ArchiveForm | undefined> {
  const file = await Deno.open(path);
  try {
    const head = new Uint8Array(512);
    const n = await file.read(head) ?? 0;
    const starts = (...bytes: number[]) => n >= bytes.length && bytes.every((b, i) => head[i] === b);
    if (starts(0x1f, 0x8b)) return "gzip";
    if (starts(0x42, 0x5a, 0x68)) return "bzip2"; // "BZh"
    if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return "xz";
    if (n >= 262 && new TextDecoder().decode(head.subarray(257, 262)) === "ustar") return "tar";
    return undefined;
  } finally {
    file.close();
  }
}

/** Runs a command; its stdout, or an Error with its stderr. */
export async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** One disk named by an unpacked box: its file and what metadata.json says of it. */
export interface UnpackedDisk {
  path: string;
  /** metadata.json's `format` (v1) or `disks[].format` (v2), when given. */
  format?: string;
}

/** An unpacked box directory, read. */
export interface UnpackedBox {
  disks: UnpackedDisk[];
  /** `virtual_size` of metadata.json in bytes (Vagrant gives GB, read as GiB like vagrant-libvirt). */
  minimumSize?: number;
  /** vagrant_key beside the images, when the box ships one. */
  privateKey?: string;
}

/** Unpacks a .box into `cacheDir/boxes/<digest>` once (GNU tar detects the compression); reads it. */
export async function unpackBox(boxFile: string, digest: string, cacheDir: string): Promise<UnpackedBox> {
  const dir = join(cacheDir, "boxes", digest);
  try {
    await Deno.stat(join(dir, "metadata.json"));
  } catch {
    const tmp = `${dir}.tmp.${Deno.pid}`;
    await Deno.mkdir(tmp, { recursive: true, mode: 0o700 });
    try {
      await run("tar", ["-x", "-f", boxFile, "-C", tmp, "--no-same-owner"]);
      await Deno.rename(tmp, dir);
    } catch (e) {
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
      throw new BoxSourceError(`Cannot unpack box ${boxFile}: ${(e as Error).message}`, { cause: e });
    }
  }
  const box = await readUnpackedBox(dir, basename(boxFile));
  if (box.privateKey) await Deno.chmod(box.privateKey, 0o600);
  return box;
}

interface Metadata {
  provider?: string;
  format?: unknown;
  virtual_size?: unknown;
  disks?: unknown;
}

/** Reads an unpacked box: metadata.json (provider libvirt; v1 box.img or v2 disks[]), its images, its key. */
export async function readUnpackedBox(dir: string, label: string): Promise<UnpackedBox> {
  let metadata: Metadata;
  try {
    metadata = JSON.parse(await Deno.readTextFile(join(dir, "metadata.json")));
  } catch (e) {
    throw new BoxSourceError(`${label} has no readable metadata.json: not a Vagrant box`, { cause: e });
  }
  if (metadata.provider !== "libvirt") {
    throw new BoxSourceError(`${label} is a box for provider "${metadata.provider}", not libvirt`);
  }
  let disks: UnpackedDisk[] = [{ path: "box.img", format: stringOr(metadata.format) }];
  if (metadata.disks !== undefined) {
    // Format v2: disks: [{ path, format? }, ...], each its own image in the box.
    const list = metadata.disks;
    if (!Array.isArray(list) || list.length === 0) {
      throw new BoxSourceError(`${label}: metadata.json "disks" must be a non-empty list`);
    }
    disks = list.map((d, i) => {
      const path = (d as { path?: unknown } | null)?.path;
      if (typeof path !== "string" || path === "") {
        throw new BoxSourceError(`${label}: metadata.json disks[${i}] has no "path"`);
      }
      return { path, format: stringOr((d as { format?: unknown }).format) };
    });
  }
  for (const { path } of disks) {
    if (path.split(/[\\/]/).includes("..") || path.startsWith("/")) {
      throw new BoxSourceError(`${label}: metadata.json names disk path "${path}" outside the box`);
    }
  }
  const size = Number(metadata.virtual_size);
  let privateKey: string | undefined = join(dir, "vagrant_key");
  try {
    await Deno.stat(privateKey);
  } catch {
    privateKey = undefined;
  }
  return {
    disks: disks.map((d) => ({ ...d, path: join(dir, d.path) })),
    minimumSize: Number.isFinite(size) && size > 0 ? size * 2 ** 30 : undefined,
    privateKey,
  };
}

function stringOr(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}
