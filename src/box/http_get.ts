/**
 * GET over http(s) for boxes and catalogs: redirects followed by hand (a loop is named as one, with the
 * URLs), a deadline for the server to start answering, and 404/410 told apart from other failures.
 */
import { within } from "../api/within.ts";
import { BoxFetchError } from "./box_fault.ts";

/** Most redirects followed for one request (curl's default is 50; Vagrant's downloader uses curl). */
export const MAX_REDIRECTS = 20;

/** Default seconds a server may stay silent: before its answer starts, and between chunks of a body. */
export const DEFAULT_HTTP_TIMEOUT_MS = 60_000;

export interface HttpGetOptions {
  headers?: Record<string, string>;
  /** How long the server may take to start answering. Default {@linkcode DEFAULT_HTTP_TIMEOUT_MS}. */
  timeoutMs?: number;
}

/** The response (2xx, or 206/416 for ranges) and the URL it finally came from. */
export interface HttpAnswer {
  response: Response;
  url: string;
}

/**
 * GETs `url`, following redirects. Throws BoxFetchError: NotFound (404, 410), RedirectLoop, Timeout,
 * Unreachable (no connection, other HTTP errors). A 416 is returned to the caller (ranges).
 */
export async function httpGet(url: string, options: HttpGetOptions = {}): Promise<HttpAnswer> {
  const seen: string[] = [];
  let current = url;
  const timeoutMs = options.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
  while (true) {
    if (seen.includes(current) || seen.length > MAX_REDIRECTS) {
      throw new BoxFetchError(
        "RedirectLoop",
        url,
        `${url}: redirect loop (${[...seen, current].join(" -> ")})`,
      );
    }
    seen.push(current);
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    let response: Response;
    try {
      response = await fetch(current, { headers: options.headers, redirect: "manual", signal: abort.signal });
    } catch (e) {
      if (abort.signal.aborted) {
        throw new BoxFetchError("Timeout", current, `${current}: no answer within ${timeoutMs / 1000}s`);
      }
      throw new BoxFetchError("Unreachable", current, `Cannot reach ${current}: ${(e as Error).message}`, {
        cause: e,
      });
    } finally {
      clearTimeout(timer);
    }
    if (response.status >= 300 && response.status < 400 && response.headers.has("location")) {
      await response.body?.cancel();
      current = new URL(response.headers.get("location")!, current).href;
      continue;
    }
    if (response.ok || response.status === 416) return { response, url: current };
    await response.body?.cancel();
    const reason = response.status === 404 || response.status === 410 ? "NotFound" : "Unreachable";
    throw new BoxFetchError(
      reason,
      current,
      `${current}: HTTP ${response.status} ${response.statusText}`.trim(),
    );
  }
}

/**
 * The chunks of a body, failing with Timeout when none arrives for `timeoutMs` (a server that hangs in the
 * middle of a download).
 */
export async function* withStallTimeout(
  body: ReadableStream<Uint8Array>,
  url: string,
  timeoutMs: number = DEFAULT_HTTP_TIMEOUT_MS,
): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  try {
    while (true) {
      const next = await within(reader.read(), timeoutMs, undefined);
      if (!next) throw new BoxFetchError("Timeout", url, `${url}: no data for ${timeoutMs / 1000}s`);
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}
