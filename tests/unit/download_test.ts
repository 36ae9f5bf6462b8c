/**
 * download(): streamed, hashed, cached by digest and by URL, resumable, safe when two run at once. Against
 * a server on 127.0.0.1 that records every request and answers as each test scripts it.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import {
  ChecksumMismatchError,
  download,
  DownloadInterruptedError,
  TimedOutDownload,
  urlKey,
} from "../../src/box/download.ts";
import { parseContentRange } from "../../src/box/http_range.ts";
import type { TransferProgress } from "../../src/box/transfer.ts";

const FILE = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 251);
const DIGEST = sha256(FILE);

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

interface Seen {
  range: string | null;
  ifRange: string | null;
  acceptEncoding: string | null;
}

/** How the server answers one request. */
interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: Uint8Array<ArrayBuffer>;
  /** Send only this many bytes of the body, then break the connection. */
  cutAfter?: number;
}

type Script = (req: Request, n: number) => Reply;

/** An HTTP server on loopback serving `FILE` with ranges and an ETag unless `script` says otherwise. */
async function withServer(
  script: Script | undefined,
  fn: (url: string, seen: Seen[]) => Promise<void>,
): Promise<void> {
  const seen: Seen[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {}, onError }, (req) => {
    seen.push({
      range: req.headers.get("range"),
      ifRange: req.headers.get("if-range"),
      acceptEncoding: req.headers.get("accept-encoding"),
    });
    const reply = (script ?? serveFile())(req, seen.length);
    const body = reply.body ?? new Uint8Array();
    const headers = { "content-length": String(body.length), ...reply.headers };
    if (reply.cutAfter === undefined) return new Response(body, { status: reply.status ?? 200, headers });
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(body.slice(0, reply.cutAfter));
      },
      pull(c) {
        c.error(new Error("connection cut by the test server"));
      },
    });
    return new Response(stream, { status: reply.status ?? 200, headers });
  });
  try {
    await fn(`http://127.0.0.1:${server.addr.port}/boxes/test.box`, seen);
  } finally {
    await server.shutdown();
  }
}

function onError(): Response {
  return new Response("", { status: 500 });
}

/** A well-behaved server: ranges with If-Range on a strong ETag; `cut` cuts the n-th request's body. */
function serveFile(
  options: { file?: Uint8Array<ArrayBuffer>; etag?: string; cut?: Record<number, number>; ranges?: boolean } =
    {},
): Script {
  const file = options.file ?? FILE;
  const etag = options.etag ?? '"v1"';
  return (req, n): Reply => {
    const range = req.headers.get("range")?.match(/^bytes=(\d+)-$/);
    const ifRange = req.headers.get("if-range");
    const cutAfter = options.cut?.[n];
    if (range && options.ranges !== false && (!ifRange || ifRange === etag)) {
      const start = Number(range[1]);
      if (start >= file.length) {
        return { status: 416, headers: { "content-range": `bytes */${file.length}`, etag } };
      }
      return {
        status: 206,
        headers: { "content-range": `bytes ${start}-${file.length - 1}/${file.length}`, etag },
        body: file.slice(start),
        cutAfter,
      };
    }
    return { status: 200, headers: { etag, "accept-ranges": "bytes" }, body: file, cutAfter };
  };
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "lv-download-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function size(path: string): Promise<number | undefined> {
  try {
    return (await Deno.stat(path)).size;
  } catch {
    return undefined;
  }
}

Deno.test("download() streams to the digest cache; with the checksum, a second call makes no request", async () => {
  await withDir(async (dir) => {
    await withServer(undefined, async (url, seen) => {
      const reports: TransferProgress[] = [];
      const a = await download(url, { dir, sha256: DIGEST, onProgress: (p) => reports.push(p) });
      assert.equal(a.path, join(dir, "sha256", DIGEST));
      assert.equal(a.sha256, DIGEST);
      assert.equal(a.cached, false);
      assert.deepEqual(await Deno.readFile(a.path), FILE);
      assert.equal(seen.length, 1);
      assert.equal(seen[0].range, null);
      assert.equal(
        seen[0].acceptEncoding,
        "identity",
        "no transparent decompression: ranges count file bytes",
      );
      assert.equal(reports.at(-1)?.finished, true);
      assert.equal(reports.at(-1)?.ok, true);
      assert.equal(reports.at(-1)?.done, FILE.length);
      assert.equal(reports.at(-1)?.total, FILE.length);
      // No partial file and no second copy are left behind.
      assert.equal(await size(join(dir, `${urlKey(url)}.part`)), undefined);

      const b = await download(url, { dir, sha256: DIGEST });
      assert.deepEqual([b.path, b.cached], [a.path, true]);
      assert.equal(seen.length, 1, "no request for a digest already cached");
      // The same bytes under another URL: still no request.
      const c = await download(`${url}?mirror=2`, { dir, sha256: DIGEST.toUpperCase() });
      assert.deepEqual([c.path, c.cached], [a.path, true]);
      assert.equal(seen.length, 1);
    });
  });
});

Deno.test("download() without a checksum reuses the URL's last download; with a checksum it verifies it", async () => {
  await withDir(async (dir) => {
    await withServer(undefined, async (url, seen) => {
      const a = await download(url, { dir });
      assert.equal(a.sha256, DIGEST);
      const b = await download(url, { dir });
      assert.deepEqual([b.path, b.sha256, b.cached], [a.path, DIGEST, true]);
      assert.equal(seen.length, 1);
      // The URL-keyed copy is the fallback for a checksum whose digest file went missing.
      await Deno.remove(join(dir, "sha256", DIGEST));
      const c = await download(url, { dir, sha256: DIGEST });
      assert.deepEqual([c.path, c.cached], [join(dir, "sha256", DIGEST), true]);
      assert.equal(seen.length, 1);
    });
  });
});

Deno.test("download() resumes an interrupted download with Range and If-Range, appending on 206", async () => {
  await withDir(async (dir) => {
    await withServer(serveFile({ cut: { 1: 120_000 } }), async (url, seen) => {
      const part = join(dir, `${urlKey(url)}.part`);
      await assert.rejects(
        download(url, { dir, sha256: DIGEST }),
        (e: Error) => e instanceof DownloadInterruptedError && /interrupted at .*resumes/.test(e.message),
      );
      assert.equal(await size(part), 120_000, "the partial file is kept, named after the URL");
      const notes: string[] = [];
      const reports: TransferProgress[] = [];
      const r = await download(url, {
        dir,
        sha256: DIGEST,
        onNote: (l) => notes.push(l),
        onProgress: (p) => reports.push(p),
      });
      assert.equal(r.sha256, DIGEST);
      assert.equal(r.resumedAt, 120_000);
      assert.deepEqual(await Deno.readFile(r.path), FILE);
      assert.equal(seen.length, 2);
      assert.equal(seen[1].range, "bytes=120000-");
      assert.equal(seen[1].ifRange, '"v1"');
      assert.match(notes.join("\n"), /resuming at 0\.1 MiB of 0\.3 MiB/);
      assert.equal(reports[0].done, 120_000, "progress starts where the part ended");
      assert.equal(await size(part), undefined);
    });
  });
});

Deno.test("download() resumes across several interruptions", async () => {
  await withDir(async (dir) => {
    await withServer(serveFile({ cut: { 1: 50_000, 2: 100_000 } }), async (url, seen) => {
      await assert.rejects(download(url, { dir }), DownloadInterruptedError);
      await assert.rejects(download(url, { dir }), DownloadInterruptedError);
      const r = await download(url, { dir });
      assert.equal(r.sha256, DIGEST);
      assert.deepEqual(seen.map((s) => s.range), [null, "bytes=50000-", "bytes=150000-"]);
    });
  });
});

Deno.test("download() starts again cleanly when the server answers a range with 200", async () => {
  await withDir(async (dir) => {
    await withServer(serveFile({ cut: { 1: 70_000 }, ranges: false }), async (url, seen) => {
      await assert.rejects(download(url, { dir, sha256: DIGEST }), DownloadInterruptedError);
      const r = await download(url, { dir, sha256: DIGEST });
      assert.equal(seen[1].range, "bytes=70000-");
      assert.equal(r.resumedAt, 0);
      assert.deepEqual(await Deno.readFile(r.path), FILE, "the whole body replaced the part, not appended");
    });
  });
});

Deno.test("download() starts again when the file changed on the server (If-Range fails, 200)", async () => {
  const v2 = FILE.map((b) => b ^ 0xff);
  let version = 1;
  await withDir(async (dir) => {
    const v1 = serveFile({ cut: { 1: 60_000 } });
    const next = serveFile({ file: v2, etag: '"v2"' });
    await withServer((req, n) => version === 1 ? v1(req, n) : next(req, n), async (url, seen) => {
      await assert.rejects(download(url, { dir }), DownloadInterruptedError);
      version = 2;
      const r = await download(url, { dir });
      assert.equal(seen[1].ifRange, '"v1"');
      assert.equal(r.sha256, sha256(v2));
      assert.deepEqual(await Deno.readFile(r.path), v2);
    });
  });
});

Deno.test("download() discards the part when a 206 carries another ETag (a server ignoring If-Range)", async () => {
  const v2 = FILE.map((b) => b ^ 0x55);
  await withDir(async (dir) => {
    const first = serveFile({ cut: { 1: 60_000 } });
    const careless: Script = (req) => {
      const start = Number(req.headers.get("range")?.match(/\d+/)?.[0] ?? 0);
      return {
        status: start ? 206 : 200,
        headers: {
          etag: '"v2"',
          ...(start ? { "content-range": `bytes ${start}-${v2.length - 1}/${v2.length}` } : {}),
        },
        body: v2.slice(start),
      };
    };
    await withServer((req, n) => n === 1 ? first(req, n) : careless(req, n), async (url, seen) => {
      await assert.rejects(download(url, { dir }), DownloadInterruptedError);
      const notes: string[] = [];
      const r = await download(url, { dir, onNote: (l) => notes.push(l) });
      assert.deepEqual(seen.map((s) => s.range), [null, "bytes=60000-", null]);
      assert.equal(r.sha256, sha256(v2));
      assert.match(notes.join("\n"), /changed on the server; starting again/);
    });
  });
});

Deno.test("download() on 416: a part that is already whole is used; one that is too long is dropped", async (t) => {
  await t.step("whole part (a crash between the last byte and the rename)", async () => {
    await withDir(async (dir) => {
      await withServer(undefined, async (url, seen) => {
        const key = join(dir, urlKey(url));
        await Deno.writeFile(`${key}.part`, FILE);
        await Deno.writeTextFile(
          `${key}.part.json`,
          JSON.stringify({ url, etag: '"v1"', total: FILE.length }),
        );
        const r = await download(url, { dir, sha256: DIGEST });
        assert.equal(r.sha256, DIGEST);
        assert.deepEqual(seen.map((s) => s.range), [`bytes=${FILE.length}-`]);
      });
    });
  });
  await t.step("part longer than the file", async () => {
    await withDir(async (dir) => {
      await withServer(undefined, async (url, seen) => {
        const key = join(dir, urlKey(url));
        await Deno.writeFile(`${key}.part`, new Uint8Array(FILE.length + 10));
        await Deno.writeTextFile(`${key}.part.json`, JSON.stringify({ url, etag: '"v1"' }));
        const r = await download(url, { dir, sha256: DIGEST });
        assert.equal(r.sha256, DIGEST);
        assert.deepEqual(seen.map((s) => s.range), [`bytes=${FILE.length + 10}-`, null]);
      });
    });
  });
});

Deno.test("download() with a wrong checksum: ChecksumMismatchError, nothing cached, nothing partial", async () => {
  await withDir(async (dir) => {
    await withServer(undefined, async (url, seen) => {
      const wrong = "ab".repeat(32);
      await assert.rejects(
        download(url, { dir, sha256: wrong }),
        (e: Error) =>
          e instanceof ChecksumMismatchError && e.message.includes(`expected sha256 ${wrong}, got ${DIGEST}`),
      );
      assert.deepEqual((await Array.fromAsync(Deno.readDir(join(dir, "sha256")))).length, 0);
      assert.equal(await size(join(dir, `${urlKey(url)}.part`)), undefined);
      assert.equal(await size(join(dir, urlKey(url))), undefined);
      assert.equal(seen.length, 1, "a fresh download that mismatches is not retried");
    });
  });
});

Deno.test("download() retries from the start once when a resumed download mismatches the checksum", async () => {
  await withDir(async (dir) => {
    await withServer(undefined, async (url, seen) => {
      const key = join(dir, urlKey(url));
      // A part whose bytes are not the file's (a server that changed the file without a new ETag).
      await Deno.writeFile(`${key}.part`, new Uint8Array(1000).fill(1));
      await Deno.writeTextFile(`${key}.part.json`, JSON.stringify({ url, etag: '"v1"' }));
      const r = await download(url, { dir, sha256: DIGEST });
      assert.equal(r.sha256, DIGEST);
      assert.deepEqual(seen.map((s) => s.range), ["bytes=1000-", null]);
    });
  });
});

Deno.test("download(): a 206 that ends before the file's total is kept and resumed from its end", async () => {
  await withDir(async (dir) => {
    const honest = serveFile({ cut: { 1: 50_000 } });
    const short: Script = (req, n) => {
      if (n !== 2) return honest(req, n);
      // Only part of the rest: a whole, clean reply that still leaves the file incomplete.
      return {
        status: 206,
        headers: { etag: '"v1"', "content-range": `bytes 50000-99999/${FILE.length}` },
        body: FILE.slice(50_000, 100_000),
      };
    };
    await withServer(short, async (url, seen) => {
      await assert.rejects(download(url, { dir }), DownloadInterruptedError);
      await assert.rejects(
        download(url, { dir }),
        (e: Error) =>
          e instanceof DownloadInterruptedError && /ended at 100000 of 300000 bytes/.test(e.message),
      );
      const r = await download(url, { dir });
      assert.equal(r.sha256, DIGEST);
      assert.deepEqual(seen.map((s) => s.range), [null, "bytes=50000-", "bytes=100000-"]);
    });
  });
});

Deno.test("download(): two downloads of one URL at once make one request and agree", async () => {
  await withDir(async (dir) => {
    await withServer(undefined, async (url, seen) => {
      const [a, b] = await Promise.all([
        download(url, { dir, sha256: DIGEST }),
        download(url, { dir }),
      ]);
      assert.equal(seen.length, 1);
      assert.equal(a.sha256, DIGEST);
      assert.equal(b.sha256, DIGEST);
      assert.deepEqual(await Deno.readFile(b.path), FILE);
    });
  });
});

Deno.test("download() waits while another process holds the URL's lock, then finds the file cached", async () => {
  await withDir(async (dir) => {
    await withServer(undefined, async (url, seen) => {
      await Deno.mkdir(dir, { recursive: true });
      const lock = join(dir, `${urlKey(url)}.lock`);
      // Another process: takes the lock, says so, and keeps it until its stdin closes.
      const holder = new Deno.Command("flock", {
        args: ["--exclusive", lock, "sh", "-c", "echo locked; read _ || true"],
        stdin: "piped",
        stdout: "piped",
      }).spawn();
      const reader = holder.stdout.getReader();
      assert.match(new TextDecoder().decode((await reader.read()).value), /locked/);
      let finished = false;
      const waiting = download(url, { dir, sha256: DIGEST }).then((r) => (finished = true, r));
      // While the other process holds the lock, nothing is requested; meanwhile it "completes" the file.
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(finished, false);
      assert.equal(seen.length, 0);
      await Deno.writeFile(join(dir, "sha256", DIGEST), FILE);
      await holder.stdin.close();
      reader.releaseLock();
      await holder.stdout.cancel();
      assert.equal((await holder.status).code, 0);
      const r = await waiting;
      assert.equal(r.cached, true);
      assert.equal(seen.length, 0);
    });
  });
});

Deno.test("parseContentRange() reads bytes START-END/TOTAL", () => {
  assert.deepEqual(parseContentRange("bytes 10-99/100"), { start: 10, end: 99, total: 100 });
  assert.deepEqual(parseContentRange("bytes 10-99/*"), { start: 10, end: 99, total: undefined });
  assert.equal(parseContentRange("bytes */100"), undefined);
  assert.equal(parseContentRange(null), undefined);
});

Deno.test("download() removes the per-process partial files an older lv left", async () => {
  await withDir(async (dir) => {
    await withServer(undefined, async (url) => {
      const old = join(dir, `${urlKey(url)}.part.12345`);
      const other = join(dir, `${urlKey("http://elsewhere/")}.part.12345`);
      await Deno.writeFile(old, new Uint8Array(10));
      await Deno.writeFile(other, new Uint8Array(10));
      await download(url, { dir });
      assert.equal(await size(old), undefined);
      assert.equal(await size(other), 10, "another URL's is not this download's business");
    });
  });
});

Deno.test("download() from a server that stops sending mid-body: Timeout, the part kept for resuming", async () => {
  await withDir(async (dir) => {
    let release!: () => void;
    const released = new Promise<void>((r) => release = r);
    const ranges: (string | null)[] = [];
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {}, onError }, (req) => {
      ranges.push(req.headers.get("range"));
      if (ranges.length > 1) return new Response("gone", { status: 503 });
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(FILE.slice(0, 10_000));
        },
        async pull(c) {
          await released; // hangs until the test is done
          c.close();
        },
      });
      return new Response(body, { headers: { "content-length": String(FILE.length), etag: '"v1"' } });
    });
    const url = `http://127.0.0.1:${server.addr.port}/boxes/test.box`;
    try {
      await assert.rejects(
        download(url, { dir, timeoutMs: 300 }),
        (e: Error) =>
          e instanceof TimedOutDownload && e.reason === "Timeout" && e.url === url &&
          /interrupted at .*resumes.*no data for 0.3s/.test(e.message),
      );
      assert.equal((await Deno.stat(join(dir, `${urlKey(url)}.part`))).size, 10_000);
      await assert.rejects(download(url, { dir, timeoutMs: 300 }));
      assert.deepEqual(ranges, [null, "bytes=10000-"]);
    } finally {
      release();
      await server.shutdown();
    }
  });
});
