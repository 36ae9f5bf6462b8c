/**
 * Turns a Box's source (a local image, a Vagrant libvirt .box, or an http(s) URL of either) into a local
 * disk image file with a known format and virtual size, verifying the checksum. Downloads and extracted
 * boxes are cached under a directory keyed by content digest, so a box is fetched and unpacked once.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { basename, join } from "node:path";
import { ChecksumMismatchError, download } from "./download.ts";
import type { TransferListener } from "./transfer.ts";

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

/** The source can never work as given (bad checksum, not a box, unsupported format). */
export class BoxSourceError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BoxSourceError";
  }
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

async function isTar(path: string): Promise<boolean> {
  const file = await Deno.open(path);
  try {
    const head = new Uint8Array(512);
    const n = await file.read(head) ?? 0;
    if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return true; // gzip: a .box is the only gzip we take
    return n >= 262 && new TextDecoder().decode(head.subarray(257, 262)) === "ustar";
  } finally {
    file.close();
  }
}

async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** `qemu-img info`: format and virtual size of an image. */
export async function imageInfo(path: string): Promise<{ format: string; virtualSize: number }> {
  const info = JSON.parse(await run("qemu-img", ["info", "--output=json", path]));
  return { format: info.format, virtualSize: info["virtual-size"] };
}

/** Unpacks a Vagrant libvirt box (v1: box.img; v2: every disks[] path) once per digest; returns the images. */
async function unpackBox(
  boxFile: string,
  digest: string,
  cacheDir: string,
): Promise<{ images: string[]; privateKey?: string }> {
  const dir = join(cacheDir, "boxes", digest);
  const metadataPath = join(dir, "metadata.json");
  try {
    await Deno.stat(metadataPath);
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
  let metadata: { provider?: string; format?: string; disks?: unknown };
  try {
    metadata = JSON.parse(await Deno.readTextFile(metadataPath));
  } catch (e) {
    throw new BoxSourceError(`${basename(boxFile)} has no readable metadata.json: not a Vagrant box`, {
      cause: e,
    });
  }
  if (metadata.provider !== "libvirt") {
    throw new BoxSourceError(
      `${basename(boxFile)} is a box for provider "${metadata.provider}", not libvirt`,
    );
  }
  let images = ["box.img"];
  if (metadata.disks !== undefined) {
    // Format v2: disks: [{ path, format? }, ...], each its own image in the box.
    const disks = metadata.disks;
    if (!Array.isArray(disks) || disks.length === 0) {
      throw new BoxSourceError(`${basename(boxFile)}: metadata.json "disks" must be a non-empty list`);
    }
    images = disks.map((d, i) => {
      const path = (d as { path?: unknown } | null)?.path;
      if (typeof path !== "string" || path === "") {
        throw new BoxSourceError(`${basename(boxFile)}: metadata.json disks[${i}] has no "path"`);
      }
      return path;
    });
  }
  for (const image of images) {
    if (image.split(/[\\/]/).includes("..") || image.startsWith("/")) {
      throw new BoxSourceError(
        `${basename(boxFile)}: metadata.json names disk path "${image}" outside the box`,
      );
    }
  }
  let privateKey: string | undefined = join(dir, "vagrant_key");
  try {
    await Deno.chmod(privateKey, 0o600);
  } catch {
    privateKey = undefined;
  }
  return { images: images.map((image) => join(dir, image)), privateKey };
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
  try {
    await Deno.stat(file);
  } catch (e) {
    throw new BoxSourceError(`box source ${file} cannot be read: ${(e as Error).message}`, { cause: e });
  }
  const tar = await isTar(file);
  // Hashing costs a read of the whole file: only to check a checksum, or to key the unpacked box's cache.
  if (!digest && (want || tar)) digest = await sha256File(file);
  if (want && want !== digest) throw new ChecksumMismatchError(source, want, digest!);
  const box = tar ? await unpackBox(file, digest!, options.cacheDir) : { images: [file] };
  const disks: BoxDiskImage[] = [];
  for (const image of box.images) {
    let info;
    try {
      info = await imageInfo(image);
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
    disks.push({ path: image, format: info.format, virtualSize: info.virtualSize });
  }
  return {
    ...disks[0],
    disks,
    sha256: digest,
    privateKey: "privateKey" in box ? box.privateKey : undefined,
  };
}
