/** Opens the store a command selected: etcd (shared) or the SQLite file (the default, embedded). */
import { joinPath as join } from "../config/join_path.ts";
import { SqliteStore } from "../store/sqlite_store.ts";
import type { Store } from "../store/store.ts";
import { parseStoreUrl, type StoreUrl, StoreUrlError } from "../config/store_url.ts";

export { StoreUrlError };

/** The store's file in an lv home. */
export function storePath(home: string): string {
  return join(home, "store.db");
}

export interface StoreSelection {
  /** --store. */
  flag?: string;
  /** $LV_STORE. */
  env?: string;
  /** The config file's store:. */
  config?: string;
}

/** The selected store URL (flag, environment, config file), or the SQLite file in `home`. */
export function selectStoreUrl(selection: StoreSelection, home: string): StoreUrl & { from: string } {
  const [text, from] = selection.flag
    ? [selection.flag, "--store"]
    : selection.env
    ? [selection.env, "LV_STORE"]
    : selection.config
    ? [selection.config, "the config file's store"]
    : [undefined, "default"];
  if (text === undefined) return { kind: "sqlite", path: storePath(home), text: storePath(home), from };
  try {
    return { ...parseStoreUrl(text), from };
  } catch (e) {
    throw new StoreUrlError(`${from}: ${(e as Error).message}; got ${JSON.stringify(text)}`);
  }
}

async function readPem(path: string | undefined, what: string): Promise<string | undefined> {
  if (!path) return undefined;
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    throw new Error(`cannot read the store's ${what} ${path}: ${(e as Error).message}`);
  }
}

/**
 * Opens the store: an etcd store is reached (within 5 s, else an error naming the endpoints and the
 * cause) and its schema version checked; a SQLite file is created 0600 when missing.
 */
export async function openStore(url: StoreUrl, options: { password?: string } = {}): Promise<Store> {
  if (url.kind === "sqlite") return new SqliteStore(url.path);
  const { EtcdStore } = await import("../store/etcd_store.ts"); // not loaded for the SQLite file
  return await EtcdStore.open(url.endpoints, {
    prefix: url.prefix,
    caCert: await readPem(url.caCert, "CA certificate"),
    cert: await readPem(url.cert, "client certificate"),
    key: await readPem(url.key, "client key"),
    username: url.username,
    password: options.password,
  });
}
