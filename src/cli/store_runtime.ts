/**
 * What a command that only reads and writes the store runs against (lv get, lv events): the store the flags
 * and the config file select and the selected connection, without the libvirt classes (runtime.ts adds them).
 */
import type { AnyResource } from "../api/types.ts";
import type { Connection, LvConfig } from "../config/config.ts";
import type { StoreUrl } from "../config/store_url.ts";
import type { Store } from "../store/store.ts";
import { openStore, selectStoreUrl, storePath } from "./open_store.ts";
import { type Output, stdOutput } from "./output.ts";
import {
  lvHome,
  type SelectedConnection,
  selectedConnection,
  type SelectionOptions,
} from "./selected_connection.ts";

export { type Output, storePath };

export interface StoreRuntime {
  home: string;
  store: Store;
  /** Why this store (--store, LV_STORE, the config file, the system store of qemu:///system, ...). */
  storeFrom?: string;
  /** The connection this command selected (--connect, --context, environment, config file). */
  connection: Connection;
  /** The named context a resource lives in (spec.context); undefined: where a bare URI points. */
  contextOf(obj: AnyResource): string | undefined;
  /** The URI of the libvirt a resource lives on: its spec.context's, else where a bare URI points. */
  uriFor(obj: AnyResource): string;
  /** The config file's context names. */
  contexts: string[];
  output: Output;
  /** Identifies this process as a lease holder. */
  holder: string;
  /** The config file's boxServerUrl (Vagrant box catalog), if set. */
  boxServerUrl?: string;
  /** Closes the store (and whatever else the runtime opened). */
  close(): Promise<void>;
}

export interface StoreRuntimeOptions extends SelectionOptions {
  /** --store URL (else $LV_STORE, the config file's store:, the SQLite file in home). */
  store?: string;
  output?: Output;
}

/**
 * The store selected by `flag` (--store), $LV_STORE, the config file, else the default: the system store
 * for this machine's qemu:///system (`uri`) unless $LV_HOME is set, else the SQLite file in the lv home.
 */
export function selectedStore(
  config: LvConfig,
  options: { flag?: string; uri: string; home?: string },
): StoreUrl & { from: string } {
  return selectStoreUrl({ flag: options.flag, env: Deno.env.get("LV_STORE"), config: config.store }, {
    home: options.home ?? lvHome(),
    explicitHome: options.home !== undefined || !!Deno.env.get("LV_HOME"),
    uri: options.uri,
  });
}

/** Opens a store {@linkcode selectedStore} chose. */
export async function openSelectedStore(url: StoreUrl, config: LvConfig): Promise<Store> {
  return await openStore(url, { password: Deno.env.get("LV_STORE_PASSWORD") ?? config.storePassword });
}

/** Selects the connection (a bad config or an unknown context fails first), then opens the store. */
export async function openStoreRuntime(options: StoreRuntimeOptions = {}): Promise<StoreRuntime> {
  return await storeRuntime(await selectedConnection(options), options);
}

/** The store runtime of a connection already selected. */
export async function storeRuntime(
  selected: SelectedConnection,
  options: StoreRuntimeOptions,
): Promise<StoreRuntime> {
  const { home, config, connection, connectionOf } = selected;
  const storeUrl = selectedStore(config, { flag: options.store, uri: connection.uri, home: options.home });
  const store = await openSelectedStore(storeUrl, config);
  const contextOf = (obj: AnyResource) => obj.spec.context;
  return {
    home,
    store,
    storeFrom: storeUrl.from,
    connection,
    contextOf,
    uriFor: (obj) => connectionOf(contextOf(obj)).uri,
    contexts: config.contexts.map((c) => c.name),
    output: options.output ?? stdOutput(),
    holder: `${Deno.hostname()}:${Deno.pid}`,
    boxServerUrl: config.boxServerUrl,
    close: () => Promise.resolve(store.close()),
  };
}
