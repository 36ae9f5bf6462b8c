/**
 * Turns a Box's source (a local image, a Vagrant libvirt .box, an unpacked box directory, or an http(s) URL
 * of an image or .box) into a local
 * disk image file with a known format and virtual size, verifying the checksum. Downloads and extracted
 * boxes are cached under a directory keyed by content digest, so a box is fetched and unpacked once.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { basename, join } from "node:path";
import { archiveForm, readUnpackedBox, run, unpackBox, type UnpackedBox } from "./box_archive.ts";
import { BoxSourceError } from "./box_source_error.ts";
import { ChecksumMismatchError, download } from "./download.ts";
import type { TransferListener } from "./transfer.ts";

export { BoxSourceError } from "./box_source_error.ts";

/** One disk image of a box. */
export interface BoxDiskImage {
  /** Local path of the disk image to upload. */
  path: string;
  format: "qcow2" | "raw";
  /** Bytes. */
  virtualSize: number;
}

export interface BoxImage extends BoxDiskImage {
  /**
   * Every disk, in order: one for an image or a v1 box (box.img), one per metadata.json `disks[]` entry
   * for a v2 box. The first is also this object's path, format and virtualSize.
   */
  disks: BoxDiskImage[];
  /** sha256 of the source file (the .box or the image), when it was needed: a checksum, or a .box. */
  sha256?: string;
  /** A private key the box ships (vagrant_key beside box.img): guests from it accept it until lv installs its own. */
  privateKey?: string;
}

export interface ResolveBoxOptions {
  /** Directory for downloads and unpacked boxes. */
  cacheDir: string;
  /** Lines for people: a download starts, resumes, restarts. */
  progress?: (line: string) => void;
  /** Byte progress of a download. */
  onTransfer?: TransferListener;
  /** How long a server may stay silent. Default 60 s. */
  timeoutMs?: number;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Uint8Array);
  }
  return hash.digest("hex");
}

/** The sha256 a checksum asks for (bare hex or "sha256:<hex>"); undefined for none or another type. */
function expectedDigest(checksum: string | undefined): string | undefined {
  if (checksum === undefined || /^(?!sha256:)[a-z0-9]+:/i.test(checksum)) return undefined;
  return checksum.replace(/^sha256:/i, "").toLowerCase();
}

/** Checks a file against a checksum of another type than sha256 ("sha512:<hex>", "sha1:...", "md5:..."). */
async function verifyOtherChecksum(path: string, url: string, checksum: string): Promise<void> {
  const [type, value] = [
    checksum.slice(0, checksum.indexOf(":")).toLowerCase(),
    checksum.slice(checksum.indexOf(":") + 1),
  ];
  if (type === "sha256") return;
  let hash;
  try {
    hash = createHash(
      type === "sha384" || type === "sha512" || type === "sha1" || type === "md5" ? type : "?",
    );
  } catch {
    throw new BoxSourceError(
      `${url}: checksum type "${type}" is not supported (sha256, sha512, sha384, sha1, md5)`,
    );
  }
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Uint8Array);
  }
  const got = hash.digest("hex");
  if (got !== value.toLowerCase()) throw new ChecksumMismatchError(url, value.toLowerCase(), got, type);
}

/** `qemu-img info`: format and virtual size of an image (read as `format` when the box says which). */
export async function imageInfo(
  path: string,
  format?: string,
): Promise<{ format: string; virtualSize: number }> {
  const args = [
    "info",
    "--output=json",
    ...(format === "qcow2" || format === "raw" ? ["-f", format] : []),
    path,
  ];
  const info = JSON.parse(await run("qemu-img", args));
  return { format: info.format, virtualSize: info["virtual-size"] };
}

/** Resolves a Box source to an image ready for upload. */
export async function resolveBoxSource(
  source: string,
  checksum: string | undefined,
  options: ResolveBoxOptions,
): Promise<BoxImage> {
  const want = expectedDigest(checksum);
  let file = source;
  let digest: string | undefined;
  if (/^https?:\/\//.test(source)) {
    // Verified against the checksum on the way in; an interrupted download resumes at the next attempt.
    // Faults are BoxFetchErrors naming the reason and the URL.
    ({ path: file, sha256: digest } = await download(source, {
      dir: join(options.cacheDir, "downloads"),
      sha256: want,
      onProgress: options.onTransfer,
      onNote: options.progress,
      timeoutMs: options.timeoutMs,
    }));
  }
  if (checksum && !want) await verifyOtherChecksum(file, source, checksum);
  let stat;
  try {
    stat = await Deno.stat(file);
  } catch (e) {
    throw new BoxSourceError(`box source ${file} cannot be read: ${(e as Error).message}`, { cause: e });
  }
  // A directory is an unpacked box (one Vagrant installed under $VAGRANT_HOME/boxes).
  const archive = stat.isDirectory ? undefined : await archiveForm(file);
  // Hashing costs a read of the whole file: only to check a checksum, or to key the unpacked box's cache.
  if (!digest && !stat.isDirectory && (want || archive)) digest = await sha256File(file);
  if (want && want !== digest) throw new ChecksumMismatchError(source, want, digest!);
  const box: UnpackedBox = stat.isDirectory
    ? await readUnpackedBox(file, source)
    : archive
    ? await unpackBox(file, digest!, options.cacheDir)
    : { disks: [{ path: file }] };
  const disks: BoxDiskImage[] = [];
  for (const disk of box.disks) disks.push(await diskImage(source, disk.path, disk.format, box.minimumSize));
  return { ...disks[0], disks, sha256: digest, privateKey: box.privateKey };
}

/**
 * One disk: its format (metadata.json's when it names one, else what qemu-img finds) and virtual size (at
 * least the box's virtual_size, so the overlay on it is at least that large).
 */
async function diskImage(
  source: string,
  image: string,
  declared: string | undefined,
  minimumSize: number | undefined,
): Promise<BoxDiskImage> {
  let info;
  try {
    info = await imageInfo(image, declared);
  } catch (e) {
    throw new BoxSourceError(
      `${source}: cannot read disk image ${basename(image)}: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
  if (info.format !== "qcow2" && info.format !== "raw") {
    throw new BoxSourceError(`${source}: image format "${info.format}" is not supported (qcow2 or raw)`);
  }
  return { path: image, format: info.format, virtualSize: Math.max(info.virtualSize, minimumSize ?? 0) };
}
