/**
 * Where the store is, as a URL: `--store`, else `$LV_STORE`, else the config file's `store:`, else a
 * SQLite file (cli/open_store.ts: the system store for qemu:///system, else the one in $LV_HOME).
 *
 *     etcd://HOST[:PORT][,HOST[:PORT]...][/PREFIX/]            etcd over HTTP (port 2379 by default)
 *     etcds://HOST...?cacert=CA.pem&cert=C.pem&key=K.pem&user=U  etcd over TLS, client certificate, etcd user
 *     sqlite:PATH                                               a SQLite file
 *
 * The etcd user's password never goes in the URL: it comes from $LV_STORE_PASSWORD or the config file's
 * `storePassword:`.
 */

export interface EtcdUrl {
  kind: "etcd";
  /** http(s)://host:port of each member. */
  endpoints: string[];
  /** Key prefix, ending in "/". Default "/lv/". */
  prefix: string;
  /** Paths of PEM files. */
  caCert?: string;
  cert?: string;
  key?: string;
  username?: string;
  /** The URL as given (it holds no secret). */
  text: string;
}

export interface SqliteUrl {
  kind: "sqlite";
  path: string;
  text: string;
  /** The group that shares the file (the system store); undefined: a private file (0600). */
  group?: string;
}

export type StoreUrl = EtcdUrl | SqliteUrl;

const QUERY_KEYS = ["cacert", "cert", "key", "user"];

function parseHost(part: string, tls: boolean): string {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(part);
  if (!m || (m[2] !== undefined && (Number(m[2]) < 1 || Number(m[2]) > 65535))) {
    throw new Error(`"${part}" is not HOST or HOST:PORT`);
  }
  return `${tls ? "https" : "http"}://${m[1]}:${m[2] ?? "2379"}`;
}

/** Parses a store URL; throws an Error saying what is wrong with it. */
export function parseStoreUrl(text: string): StoreUrl {
  if (text.startsWith("sqlite:")) {
    const path = text.slice("sqlite:".length).replace(/^\/\/(?=\/)/, "");
    if (!path) throw new Error("sqlite: needs a file path, e.g. sqlite:/var/lib/lv/store.db");
    return { kind: "sqlite", path, text };
  }
  const m = /^(etcds?):\/\/([^/?]*)(\/[^?]*)?(?:\?(.*))?$/.exec(text);
  if (!m) throw new Error("must be etcd://HOST:PORT[,HOST:PORT...], etcds://... or sqlite:PATH");
  const tls = m[1] === "etcds";
  let hosts = m[2];
  let username: string | undefined;
  const at = hosts.lastIndexOf("@");
  if (at >= 0) {
    const userinfo = hosts.slice(0, at);
    if (userinfo.includes(":")) {
      throw new Error("a password does not belong in the store URL: set LV_STORE_PASSWORD or storePassword");
    }
    username = decodeURIComponent(userinfo);
    hosts = hosts.slice(at + 1);
  }
  if (!hosts) throw new Error("names no etcd member (etcd://HOST:PORT)");
  const endpoints = hosts.split(",").map((h) => parseHost(h, tls));
  let prefix = m[3] && m[3] !== "/" ? m[3] : "/lv/";
  if (!prefix.endsWith("/")) prefix += "/";
  const query = new URLSearchParams(m[4] ?? "");
  for (const key of query.keys()) {
    if (!QUERY_KEYS.includes(key)) {
      throw new Error(`unknown option "${key}" (known: ${QUERY_KEYS.join(", ")})`);
    }
  }
  const url: EtcdUrl = { kind: "etcd", endpoints, prefix, text };
  url.caCert = query.get("cacert") ?? undefined;
  url.cert = query.get("cert") ?? undefined;
  url.key = query.get("key") ?? undefined;
  url.username = query.get("user") ?? username;
  if (!tls && (url.caCert || url.cert || url.key)) throw new Error("cacert, cert and key need etcds://");
  if (!!url.cert !== !!url.key) throw new Error("cert and key go together");
  return url;
}

/** What is wrong with a store URL, or undefined. */
export function storeUrlProblem(text: string): string | undefined {
  try {
    parseStoreUrl(text);
    return undefined;
  } catch (e) {
    return `${(e as Error).message}; got ${JSON.stringify(text)}`;
  }
}

/** A store URL that cannot be used (a usage error). */
export class StoreUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreUrlError";
  }
}
