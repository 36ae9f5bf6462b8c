/** Opens the store a command selected: etcd (shared) or the SQLite file (the default, embedded). */
import { joinPath as join } from "../api/posix_path.ts";
import type { Store } from "../store/store.ts";
import { isLocalSystemUri } from "../libvirt/virsh.ts";
import { parseStoreUrl, type SqliteUrl, type StoreUrl, StoreUrlError } from "../config/store_url.ts";

export { StoreUrlError };

/** The store's file in an lv home. */
export function storePath(home: string): string {
  return join(home, "store.db");
}

/**
 * The system store: the objects of this machine's qemu:///system, one SQLite file shared by every user who
 * may use that libvirt (the members of its group, `libvirt`), so they all see the same objects.
 */
export const SYSTEM_STORE = { path: "/var/lib/lv/store.db", group: "libvirt" } as const;

/** What decides the default store when none is chosen. */
export interface StoreDefault {
  /** The lv home. */
  home: string;
  /** $LV_HOME was set: a self-contained home keeps its own store (as it keeps its config file). */
  explicitHome: boolean;
  /** The libvirt URI of the command's connection. */
  uri: string;
}

/** The store nothing chose: the system store for qemu:///system, else the lv home's file. */
function defaultStore(fallback: string | StoreDefault): SqliteUrl & { from: string } {
  const d = typeof fallback === "string" ? { home: fallback, explicitHome: true, uri: "" } : fallback;
  if (!d.explicitHome && isLocalSystemUri(d.uri)) {
    const { path, group } = SYSTEM_STORE;
    return {
      kind: "sqlite",
      path,
      text: path,
      group,
      from: `the system store of ${d.uri}, shared by group ${group}`,
    };
  }
  const path = storePath(d.home);
  return {
    kind: "sqlite",
    path,
    text: path,
    from: d.explicitHome ? "$LV_HOME" : `your own store (${d.uri || "default"})`,
  };
}

export interface StoreSelection {
  /** --store. */
  flag?: string;
  /** $LV_STORE. */
  env?: string;
  /** The config file's store:. */
  config?: string;
}

/**
 * The selected store URL (flag, environment, config file), else the default: the system store for this
 * machine's qemu:///system unless $LV_HOME is set, else the SQLite file in the lv home. `fallback` as a
 * string is an lv home that keeps its own store.
 */
export function selectStoreUrl(
  selection: StoreSelection,
  fallback: string | StoreDefault,
): StoreUrl & { from: string } {
  const [text, from] = selection.flag
    ? [selection.flag, "--store"]
    : selection.env
    ? [selection.env, "LV_STORE"]
    : selection.config
    ? [selection.config, "the config file's store"]
    : [undefined, "default"];
  if (text === undefined) return defaultStore(fallback);
  try {
    const url = parseStoreUrl(text);
    // The system store named by its path is still the group's file (e.g. lv store migrate --to it).
    if (url.kind === "sqlite" && url.path === SYSTEM_STORE.path) url.group = SYSTEM_STORE.group;
    return { ...url, from };
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
 * cause) and its schema version checked; a SQLite file is created 0600 when missing (the system store:
 * 0660 for its group, shared_store_file.ts).
 */
export async function openStore(url: StoreUrl, options: { password?: string } = {}): Promise<Store> {
  if (url.kind === "sqlite") {
    // node:sqlite loads here, not with the runtime: lv version opens no store.
    const { SqliteStore } = await import("../store/sqlite_store.ts");
    return new SqliteStore(url.path, url.group ? { shared: { group: url.group } } : {});
  }
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
