/**
 * Downloads over http(s) into a cache: streamed to disk, hashed on the way (sha256), kept by digest, and
 * resumable. Layout under `dir`:
 *
 * - `sha256/<hex>`: complete files by content digest. With a checksum, a file here is used without any
 *   network request.
 * - `<key>` (key = sha256 of the URL): the URL's last complete download (a hard link to its digest file),
 *   with `<key>.json` recording the URL and digest. Used when no checksum is given, and as a fallback.
 * - `<key>.part` and `<key>.part.json`: an interrupted download and the validators it was fetched with
 *   (ETag, Last-Modified, length). The next attempt asks for the rest (`Range: bytes=N-`, `If-Range`).
 * - `<key>.lock`: held (flock) while a process downloads the URL, so two downloads of one URL, in one
 *   process or several, never write the same partial file; the second waits and then finds the file cached.
 */
import { withLock } from "./with_lock.ts";
import { contentLength, contentRangeTotal, parseContentRange } from "./http_range.ts";
import { createHash, type Hash } from "node:crypto";
import { join } from "node:path";
import { BoxFetchError } from "./box_fault.ts";
import { DEFAULT_HTTP_TIMEOUT_MS, httpGet, withStallTimeout } from "./http_get.ts";
import type { TransferListener } from "./transfer.ts";

export interface DownloadOptions {
  /** Cache directory (created 0700). */
  dir: string;
  /** Expected sha256 (hex). With it, a cached file of that digest is used without any request. */
  sha256?: string;
  /** Byte progress, reported as chunks arrive. */
  onProgress?: TransferListener;
  /** A line for people when a download starts, resumes or restarts. */
  onNote?: (line: string) => void;
  /** How long the server may stay silent (before answering, or mid-body). Default 60 s. */
  timeoutMs?: number;
}

export interface Downloaded {
  path: string;
  sha256: string;
  /** No request was made, or a cached file was reused. */
  cached: boolean;
  /** Byte offset the last request resumed at (0: from the start, or cached). */
  resumedAt: number;
}

/** The download can never succeed as asked: the file the server serves does not have the checksum. */
export class ChecksumMismatchError extends BoxFetchError {
  constructor(url: string, readonly expected: string, readonly actual: string, type = "sha256") {
    super(
      "ChecksumMismatch",
      url,
      `checksum mismatch for ${url}: expected ${type} ${expected}, got ${actual}`,
    );
    this.name = "ChecksumMismatchError";
  }
}

/** A download stopped before the end; what arrived is kept and the next attempt resumes from it. */
export class DownloadInterruptedError extends BoxFetchError {
  constructor(url: string, message: string, options?: ErrorOptions) {
    super("DownloadInterrupted", url, message, options);
    this.name = "DownloadInterruptedError";
  }
}

/** The server stopped sending in the middle (no byte for the timeout); the part is kept for resuming. */
export class TimedOutDownload extends BoxFetchError {
  constructor(url: string, message: string, options?: ErrorOptions) {
    super("Timeout", url, message, options);
    this.name = "TimedOutDownload";
  }
}

interface PartMeta {
  url: string;
  etag?: string;
  lastModified?: string;
  /** Length of the whole file, when the server said. */
  total?: number;
}

/** The cache key of a URL: its sha256, so the names are stable and safe as file names. */

export function urlKey(url: string): string {
  return createHash("sha256").update(url).digest("hex");
}

/** Downloads `url` into the cache (or finds it there); see the module doc. */
export async function download(url: string, options: DownloadOptions): Promise<Downloaded> {
  const want = options.sha256?.toLowerCase();
  const byDigest = join(options.dir, "sha256");
  await Deno.mkdir(byDigest, { recursive: true, mode: 0o700 });
  if (want && await exists(join(byDigest, want))) {
    return { path: join(byDigest, want), sha256: want, cached: true, resumedAt: 0 };
  }
  const key = join(options.dir, urlKey(url));
  return await withLock(`${key}.lock`, async () => {
    // Another download of the same URL may have finished while this one waited for the lock.
    if (want && await exists(join(byDigest, want))) {
      return { path: join(byDigest, want), sha256: want, cached: true, resumedAt: 0 };
    }
    const cached = await fromUrlCache(url, key, byDigest, want);
    if (cached) return cached;
    await removeOldParts(options.dir, urlKey(url));
    let result = await fetchToPart(url, key, options);
    if (want && result.sha256 !== want) {
      await discardPart(key);
      if (result.resumedAt === 0) throw new ChecksumMismatchError(url, want, result.sha256);
      // The part kept from before may not be of the file served now: once more, from the start.
      options.onNote?.(`${url}: the resumed download does not match the checksum; downloading it again`);
      result = await fetchToPart(url, key, options);
      if (result.sha256 !== want) {
        await discardPart(key);
        throw new ChecksumMismatchError(url, want, result.sha256);
      }
    }
    const path = join(byDigest, result.sha256);
    await Deno.rename(`${key}.part`, path);
    await Deno.remove(`${key}.part.json`).catch(() => {});
    await Deno.remove(key).catch(() => {});
    await Deno.link(path, key).catch(() => Deno.copyFile(path, key));
    await Deno.writeTextFile(`${key}.json`, JSON.stringify({ url, sha256: result.sha256 }), { mode: 0o600 });
    return { path, sha256: result.sha256, cached: false, resumedAt: result.resumedAt };
  });
}

/** The URL's last complete download, when it is there (and has the checksum, when one is wanted). */
async function fromUrlCache(
  url: string,
  key: string,
  byDigest: string,
  want: string | undefined,
): Promise<Downloaded | undefined> {
  if (!await exists(key)) return undefined;
  let digest: string | undefined;
  try {
    const meta = JSON.parse(await Deno.readTextFile(`${key}.json`));
    if (meta.url === url && typeof meta.sha256 === "string") digest = meta.sha256;
  } catch { /* a download of an older lv: no record */ }
  // The record is trusted only without a checksum; a checksum is checked against the bytes.
  if (want || !digest) {
    digest = await sha256Of(key);
    if (!want) {
      await Deno.writeTextFile(`${key}.json`, JSON.stringify({ url, sha256: digest }), { mode: 0o600 });
    }
  }
  if (want && digest !== want) {
    // The URL served another file before (a new release under the same name): fetch it again.
    await Deno.remove(key).catch(() => {});
    await Deno.remove(`${key}.json`).catch(() => {});
    return undefined;
  }
  const path = join(byDigest, digest);
  if (!await exists(path)) await Deno.link(key, path).catch(() => Deno.copyFile(key, path));
  return { path, sha256: digest, cached: true, resumedAt: 0 };
}

/** Partial files an older lv named by process id (`<key>.part.<pid>`): never resumed, only in the way. */
async function removeOldParts(dir: string, key: string): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.startsWith(`${key}.part.`) && /^\d+$/.test(entry.name.slice(key.length + 6))) {
      await Deno.remove(join(dir, entry.name)).catch(() => {});
    }
  }
}

async function discardPart(key: string): Promise<void> {
  await Deno.remove(`${key}.part`).catch(() => {});
  await Deno.remove(`${key}.part.json`).catch(() => {});
}

/** The part an earlier attempt left for this URL (its metadata and size), or nothing to resume. */
async function readPart(url: string, key: string): Promise<{ meta?: PartMeta; have: number }> {
  try {
    const meta: PartMeta | undefined = JSON.parse(await Deno.readTextFile(`${key}.part.json`));
    const have = (await Deno.stat(`${key}.part`)).size;
    return meta?.url === url ? { meta, have } : { have: 0 };
  } catch {
    return { have: 0 };
  }
}

/** Request headers: the rest from `have` on, only if the file is still the one the part came from. */
function resumeHeaders(have: number, meta: PartMeta | undefined): Record<string, string> {
  const headers: Record<string, string> = { "accept-encoding": "identity" };
  if (have > 0) {
    headers["range"] = `bytes=${have}-`;
    const validator = meta?.etag && !meta.etag.startsWith("W/") ? meta.etag : meta?.lastModified;
    if (validator) headers["if-range"] = validator;
  }
  return headers;
}

/**
 * Fetches `url` into `<key>.part`, resuming a part left by an earlier attempt when the server allows it.
 * Returns the digest of the whole part once the server has sent all of it.
 */
async function fetchToPart(
  url: string,
  key: string,
  options: DownloadOptions,
): Promise<{ sha256: string; resumedAt: number }> {
  const part = `${key}.part`;
  const metaPath = `${key}.part.json`;
  let { meta, have } = await readPart(url, key);

  for (let attempt = 0;; attempt++) {
    const headers = resumeHeaders(have, meta);
    // NotFound, RedirectLoop, Timeout, Unreachable: thrown as they are (BoxFetchError), the part kept.
    const { response } = await httpGet(url, { headers, timeoutMs: options.timeoutMs });
    if (have > 0 && response.status === 416) {
      // Nothing more to send from there: the part is complete (a crash before it was renamed), or it is
      // longer than the file now is.
      await response.body?.cancel();
      const total = contentRangeTotal(response.headers.get("content-range"));
      if (total === have) return { sha256: await sha256Of(part), resumedAt: have };
      options.onNote?.(`${url}: the partial download no longer fits the file; starting again`);
      [meta, have] = [undefined, 0];
      await discardPart(key);
      if (attempt < 2) continue;
    }
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      throw new DownloadInterruptedError(
        url,
        `Cannot download ${url}: HTTP ${response.status} ${response.statusText}`,
      );
    }
    const etag = response.headers.get("etag") ?? undefined;
    const lastModified = response.headers.get("last-modified") ?? undefined;
    const length = contentLength(response.headers.get("content-length"));
    let start = 0;
    let total: number | undefined;
    if (response.status === 206 && have > 0) {
      const range = parseContentRange(response.headers.get("content-range"));
      const changed = meta?.etag !== undefined && etag !== undefined && etag !== meta.etag;
      if (!range || range.start !== have || changed) {
        // Not the rest of the same file: start again from byte 0.
        await response.body.cancel();
        options.onNote?.(
          `${url}: ${
            changed ? "the file changed on the server" : "the server sent another range"
          }; starting again`,
        );
        [meta, have] = [undefined, 0];
        await discardPart(key);
        if (attempt < 2) continue;
        throw new DownloadInterruptedError(
          url,
          `Cannot download ${url}: the server does not send a stable file`,
        );
      }
      start = have;
      total = range.total ?? (length !== undefined ? start + length : undefined);
      options.onNote?.(`${url}: resuming at ${mib(start)}${total ? ` of ${mib(total)}` : ""}`);
    } else {
      // 200: the whole file (the server ignores ranges, or the file changed and If-Range said so).
      if (have > 0) options.onNote?.(`${url}: the server sent the whole file; starting again`);
      total = length;
    }
    meta = { url, etag, lastModified, total };
    await Deno.writeTextFile(metaPath, JSON.stringify(meta), { mode: 0o600 });
    return await receive(url, response.body, {
      part,
      start,
      total,
      onProgress: options.onProgress,
      timeoutMs: options.timeoutMs,
    });
  }
}

/** Writes a body to the part file from `start` (appending; truncating when 0), hashing every byte. */
async function receive(
  url: string,
  body: ReadableStream<Uint8Array>,
  options: { part: string; start: number; total?: number; onProgress?: TransferListener; timeoutMs?: number },
): Promise<{ sha256: string; resumedAt: number }> {
  const { part, start, total, onProgress } = options;
  const hash = createHash("sha256");
  if (start > 0) await hashPrefix(part, start, hash);
  const file = await Deno.open(part, {
    write: true,
    create: true,
    truncate: start === 0,
    mode: 0o600,
  });
  let done = start;
  let failure: unknown;
  try {
    if (start > 0) await file.truncate(start); // drop any byte past what was hashed
    await file.seek(start, Deno.SeekMode.Start);
    onProgress?.({ direction: "download", label: url, done, total });
    for await (const chunk of withStallTimeout(body, url, options.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS)) {
      await writeAll(file, chunk);
      hash.update(chunk);
      done += chunk.length;
      if (total !== undefined && done > total) break;
      onProgress?.({ direction: "download", label: url, done, total });
    }
  } catch (e) {
    failure = e;
  } finally {
    file.close();
  }
  const finished = failure === undefined && (total === undefined || done === total);
  onProgress?.({ direction: "download", label: url, done, total, finished: true, ok: finished });
  if (failure !== undefined) {
    const stalled = failure instanceof BoxFetchError && failure.reason === "Timeout";
    throw new (stalled ? TimedOutDownload : DownloadInterruptedError)(
      url,
      `Download of ${url} interrupted at ${mib(done)}${
        total ? ` of ${mib(total)}` : ""
      } (kept; the next attempt resumes): ${(failure as Error).message ?? failure}`,
      { cause: failure },
    );
  }
  if (total !== undefined && done > total) {
    await Deno.remove(part).catch(() => {});
    await Deno.remove(`${part}.json`).catch(() => {});
    throw new DownloadInterruptedError(
      url,
      `Download of ${url}: the server sent more than the ${total} bytes it announced`,
    );
  }
  if (total !== undefined && done < total) {
    throw new DownloadInterruptedError(
      url,
      `Download of ${url} ended at ${done} of ${total} bytes (kept; the next attempt resumes)`,
    );
  }
  return { sha256: hash.digest("hex"), resumedAt: start };
}

async function hashPrefix(path: string, bytes: number, hash: Hash): Promise<void> {
  const file = await Deno.open(path);
  try {
    const buf = new Uint8Array(1 << 20);
    let left = bytes;
    while (left > 0) {
      const n = await file.read(left < buf.length ? buf.subarray(0, left) : buf);
      if (n === null) throw new Error(`${path} is shorter than ${bytes} bytes`);
      hash.update(buf.subarray(0, n));
      left -= n;
    }
  } finally {
    file.close();
  }
}

async function writeAll(file: Deno.FsFile, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await file.write(data.subarray(off));
}

/** sha256 (hex) of a whole file. */
export async function sha256Of(path: string): Promise<string> {
  const hash = createHash("sha256");
  const file = await Deno.open(path);
  try {
    const buf = new Uint8Array(1 << 20);
    while (true) {
      const n = await file.read(buf);
      if (n === null) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    file.close();
  }
  return hash.digest("hex");
}

function mib(n: number): string {
  return `${(n / 2 ** 20).toFixed(1)} MiB`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
