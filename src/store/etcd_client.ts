/**
 * A small etcd v3 client over etcd's JSON gateway (`POST /v3/...`, etcd 3.4 and later) with fetch: no
 * gRPC stack, nothing read from beside the source, so `deno compile` bundles it. Requests go to the first
 * endpoint that answers; a connection failure moves on to the next one. Every request has a deadline, so an
 * unreachable or quorum-less cluster fails in seconds with the endpoint and the cause.
 */

/** A key-value pair as the gateway returns it (keys and values decoded from base64). */
export interface Kv {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
  version: number;
  lease?: string;
}

/** A comparison of a txn (etcd's Compare). */
export type Compare =
  | { key: string; target: "CREATE"; createRevision: number }
  | { key: string; target: "MOD"; modRevision: number }
  | { key: string; target: "VALUE"; value: string };

/** An operation of a txn. */
export type Op =
  | { put: { key: string; value: string; lease?: string } }
  | { range: { key: string } }
  | { deleteRange: { key: string; rangeEnd?: string } };

export interface TxnResult {
  succeeded: boolean;
  revision: number;
  /** Key-values of the range operations that ran, in order. */
  ranges: Kv[][];
  /** Revisions of the put operations that ran. */
  putRevisions: number[];
  /** The request was sent again after a failure: it may have been applied by an earlier attempt. */
  retried: boolean;
}

export interface EtcdClientOptions {
  /** PEM CA bundle that signed the members' certificates (etcds://). */
  caCert?: string;
  /** PEM client certificate and key (etcds:// with client certificate auth). */
  cert?: string;
  key?: string;
  /** etcd user and password (auth enabled): a token is taken with /v3/auth/authenticate. */
  username?: string;
  password?: string;
  /** Deadline of one request on one endpoint. Default 2000 ms (with one endpoint, totalTimeoutMs). */
  requestTimeoutMs?: number;
  /** Deadline of a request over every endpoint, retries included. Default 4500 ms. */
  totalTimeoutMs?: number;
}

/** etcd could not be used: says which endpoints were tried and why. */
export class EtcdError extends Error {
  constructor(message: string, readonly code?: number) {
    super(message);
    this.name = "EtcdError";
  }
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function b64(text: string): string {
  let bin = "";
  for (const byte of enc.encode(text)) bin += String.fromCharCode(byte);
  return btoa(bin);
}

export function unb64(text: string | undefined): string {
  if (!text) return "";
  return dec.decode(Uint8Array.from(atob(text), (c) => c.charCodeAt(0)));
}

/** The end of the range of every key starting with `prefix` (etcd's prefix range_end). */
export function prefixEnd(prefix: string): string {
  const bytes = enc.encode(prefix);
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i] < 0xff) {
      const end = bytes.slice(0, i + 1);
      end[i]++;
      return dec.decode(end);
    }
  }
  return "\0";
}

type Json = Record<string, unknown>;

// deno-lint-ignore no-explicit-any
export function toKv(raw: any): Kv {
  return {
    key: unb64(raw.key),
    value: unb64(raw.value),
    createRevision: Number(raw.create_revision ?? 0),
    modRevision: Number(raw.mod_revision ?? 0),
    version: Number(raw.version ?? 0),
    lease: raw.lease,
  };
}

function compareJson(c: Compare): Json {
  if (c.target === "CREATE") {
    return { key: b64(c.key), target: "CREATE", result: "EQUAL", create_revision: String(c.createRevision) };
  }
  if (c.target === "MOD") {
    return { key: b64(c.key), target: "MOD", result: "EQUAL", mod_revision: String(c.modRevision) };
  }
  return { key: b64(c.key), target: "VALUE", result: "EQUAL", value: b64(c.value) };
}

function opJson(op: Op): Json {
  if ("put" in op) {
    return { request_put: { key: b64(op.put.key), value: b64(op.put.value), lease: op.put.lease } };
  }
  if ("range" in op) return { request_range: { key: b64(op.range.key) } };
  return {
    request_delete_range: {
      key: b64(op.deleteRange.key),
      range_end: op.deleteRange.rangeEnd === undefined ? undefined : b64(op.deleteRange.rangeEnd),
    },
  };
}

function causeOf(e: unknown): string {
  if (e instanceof DOMException && (e.name === "TimeoutError" || e.name === "AbortError")) {
    return "no answer in time (member down, or the cluster has lost quorum)";
  }
  const cause = e instanceof Error && e.cause instanceof Error ? e.cause : e;
  const text = cause instanceof Error ? cause.message : String(cause);
  // "error sending request for url (URL): client error (Connect): tcp connect error: Connection refused
  // (os error 111)": the last part says it.
  return text.replace(/^error sending request for url \([^)]*\): /, "").split(": ").at(-1)!;
}

/** A gateway answer as JSON; etcd answers some refusals in plain text, turned into an EtcdError. */
async function readJson(res: Response): Promise<Json> {
  const text = await res.text();
  try {
    return JSON.parse(text) as Json;
  } catch {
    const hint = /CommonName/.test(text)
      ? " (etcd's JSON gateway refuses a client certificate with a CommonName when auth is on: use one without CN, and user and password)"
      : "";
    throw new EtcdError(`etcd answered HTTP ${res.status}: ${text.trim().slice(0, 200)}${hint}`);
  }
}

export class EtcdClient {
  readonly endpoints: string[];
  #options: EtcdClientOptions;
  #http?: Deno.HttpClient;
  #token?: string;
  /** The endpoint that answered last: tried first. */
  #current = 0;

  /** `endpoints`: base URLs, e.g. http://127.0.0.1:2379. */
  constructor(endpoints: string[], options: EtcdClientOptions = {}) {
    this.endpoints = endpoints;
    this.#options = options;
    if (options.caCert || options.cert) {
      this.#http = Deno.createHttpClient({
        caCerts: options.caCert ? [options.caCert] : undefined,
        cert: options.cert,
        key: options.key,
      });
    }
  }

  close(): void {
    this.#http?.close();
  }

  /** Where requests went last, for messages. */
  get endpoint(): string {
    return this.endpoints[this.#current];
  }

  async #authenticate(base: string, signal: AbortSignal): Promise<void> {
    if (this.#token || !this.#options.username) return;
    const res = await fetch(`${base}/v3/auth/authenticate`, {
      method: "POST",
      body: JSON.stringify({ name: this.#options.username, password: this.#options.password ?? "" }),
      client: this.#http,
      signal,
    });
    const body = await readJson(res);
    if (!res.ok) {
      throw new EtcdError(
        `etcd at ${base}: authentication of user "${this.#options.username}" failed: ${
          body.error ?? res.status
        }`,
        Number(body.code ?? 0),
      );
    }
    this.#token = String(body.token);
  }

  /** Opens a POST on the first endpoint that answers; `timeoutMs` per endpoint (0: none, for streams). */
  async open(
    path: string,
    body: Json,
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<{ res: Response; endpoint: string; retried: boolean }> {
    // With one endpoint there is nowhere else to go: it gets the whole deadline.
    const perTry = options.timeoutMs ?? this.#options.requestTimeoutMs ??
      (this.endpoints.length === 1 ? (this.#options.totalTimeoutMs ?? 4500) : 2000);
    const deadline = Date.now() + (this.#options.totalTimeoutMs ?? 4500);
    const failures: string[] = [];
    // Taken once: concurrent requests move #current, and each must still try every endpoint once.
    const first = this.#current;
    for (let attempt = 0; attempt < this.endpoints.length; attempt++) {
      const i = (first + attempt) % this.endpoints.length;
      const base = this.endpoints[i];
      const left = deadline - Date.now();
      if (perTry > 0 && left <= 0) break;
      const signals = [options.signal, perTry > 0 ? AbortSignal.timeout(Math.min(perTry, left)) : undefined]
        .filter((s): s is AbortSignal => !!s);
      const signal = AbortSignal.any(signals);
      try {
        await this.#authenticate(base, signal);
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (this.#token) headers.authorization = this.#token;
        const res = await fetch(`${base}${path}`, {
          method: "POST",
          headers,
          body: JSON.stringify(body),
          client: this.#http,
          signal,
        });
        if (res.status >= 500) {
          const text = await res.text();
          failures.push(`${base}: HTTP ${res.status} ${text.slice(0, 200)}`);
          continue;
        }
        this.#current = i;
        return { res, endpoint: base, retried: attempt > 0 };
      } catch (e) {
        if (e instanceof EtcdError) throw e;
        if (options.signal?.aborted) throw e;
        failures.push(`${base}: ${causeOf(e)}`);
      }
    }
    throw new EtcdError(`etcd unreachable: ${failures.join("; ") || "no time left"}`);
  }

  /**
   * One request and its JSON answer; an error answer from etcd throws EtcdError naming the endpoint. An
   * expired auth token is replaced once.
   */
  async call(path: string, body: Json): Promise<{ body: Json; retried: boolean }> {
    let { res, endpoint, retried } = await this.open(path, body);
    let json = await readJson(res);
    if (this.#token && /invalid auth token/.test(String(json.error ?? json.message ?? ""))) {
      this.#token = undefined;
      ({ res, endpoint, retried } = await this.open(path, body));
      json = await readJson(res);
    }
    if (!res.ok || json.error) {
      const message = String(json.message ?? json.error ?? `HTTP ${res.status}`);
      throw new EtcdError(`etcd at ${endpoint}: ${path}: ${message}`, Number(json.code ?? 0));
    }
    return { body: json, retried };
  }

  /** Keys from `key` (a prefix when `prefix` is set), sorted by key. */
  async range(
    key: string,
    options: { prefix?: boolean; limit?: number; descend?: boolean; keysOnly?: boolean } = {},
  ): Promise<{ kvs: Kv[]; revision: number; count: number }> {
    const { body } = await this.call("/v3/kv/range", {
      key: b64(key),
      range_end: options.prefix ? b64(prefixEnd(key)) : undefined,
      limit: options.limit,
      sort_order: options.descend ? "DESCEND" : undefined,
      sort_target: options.descend ? "KEY" : undefined,
      keys_only: options.keysOnly,
    });
    // deno-lint-ignore no-explicit-any
    const kvs = ((body.kvs as any[]) ?? []).map(toKv);
    return {
      kvs,
      revision: Number((body.header as Json)?.revision ?? 0),
      count: Number(body.count ?? kvs.length),
    };
  }

  async txn(compare: Compare[], success: Op[], failure: Op[] = []): Promise<TxnResult> {
    const { body, retried } = await this.call("/v3/kv/txn", {
      compare: compare.map(compareJson),
      success: success.map(opJson),
      failure: failure.map(opJson),
    });
    const ranges: Kv[][] = [];
    const putRevisions: number[] = [];
    // deno-lint-ignore no-explicit-any
    for (const r of (body.responses as any[]) ?? []) {
      // deno-lint-ignore no-explicit-any
      if (r.response_range) ranges.push(((r.response_range.kvs as any[]) ?? []).map(toKv));
      if (r.response_put) putRevisions.push(Number(r.response_put.header?.revision ?? 0));
    }
    return {
      succeeded: !!body.succeeded,
      revision: Number((body.header as Json)?.revision ?? 0),
      ranges,
      putRevisions,
      retried,
    };
  }

  async put(key: string, value: string): Promise<number> {
    const { body } = await this.call("/v3/kv/put", { key: b64(key), value: b64(value) });
    return Number((body.header as Json)?.revision ?? 0);
  }

  async deleteRange(key: string, options: { prefix?: boolean; rangeEnd?: string } = {}): Promise<void> {
    const end = options.prefix ? prefixEnd(key) : options.rangeEnd;
    await this.call("/v3/kv/deleterange", {
      key: b64(key),
      range_end: end === undefined ? undefined : b64(end),
    });
  }

  /** Grants a lease of ttlSeconds (etcd may raise it to its minimum); returns its ID. */
  async leaseGrant(ttlSeconds: number): Promise<string> {
    const { body } = await this.call("/v3/lease/grant", { TTL: String(ttlSeconds) });
    return String(body.ID);
  }

  /** Renews a lease; false when it has expired. */
  async leaseKeepAlive(id: string): Promise<boolean> {
    const { body } = await this.call("/v3/lease/keepalive", { ID: id });
    return Number((body.result as Json | undefined)?.TTL ?? 0) > 0;
  }

  async leaseRevoke(id: string): Promise<void> {
    try {
      await this.call("/v3/lease/revoke", { ID: id });
    } catch (e) {
      if (!(e instanceof EtcdError && /not found/.test(e.message))) throw e;
    }
  }

  /** The answering member's status (version, leader, raft term). */
  async status(endpoint: string): Promise<Json> {
    const res = await fetch(`${endpoint}/v3/maintenance/status`, {
      method: "POST",
      body: "{}",
      client: this.#http,
      signal: AbortSignal.timeout(this.#options.requestTimeoutMs ?? 2000),
    });
    return await res.json();
  }

  /** The cluster's members with their client URLs. */
  async members(): Promise<{ name: string; clientURLs: string[] }[]> {
    const { body } = await this.call("/v3/cluster/member/list", {});
    return (body.members as { name: string; clientURLs: string[] }[]) ?? [];
  }
}
