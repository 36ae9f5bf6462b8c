/** What commands run against: the store, the libvirt connections, and where output goes. */
import type { AnyResource } from "../api/types.ts";
import { Libvirt } from "../libvirt/libvirt.ts";
import { DEFAULT_URI, ProcessVirsh, type VirshRunner } from "../libvirt/virsh.ts";
import { SessionVirsh } from "../libvirt/session_virsh.ts";
import {
  configPath,
  type Connection,
  contextConnection,
  type LvConfig,
  selectConnection,
} from "../config/config.ts";
import { joinPath as join } from "../api/posix_path.ts";
import type { JumpHost, Transport } from "../config/ssh_transport.ts";
import { isSshUri } from "../config/ssh_uri.ts";
import { openStore, selectStoreUrl, storePath } from "./open_store.ts";
import { type Output, stdOutput } from "./output.ts";
import type { StoreUrl } from "../config/store_url.ts";
import type { Store } from "../store/store.ts";

export { type Output, stdOutput, storePath };

export interface Runtime {
  home: string;
  store: Store;
  /** Why this store (--store, LV_STORE, the config file, the system store of qemu:///system, ...). */
  storeFrom?: string;
  /** The connection this command selected (--connect, --context, environment, config file). */
  connection: Connection;
  /** libvirt on that connection. */
  libvirt: Libvirt;
  /** libvirt where a resource lives: its spec.context, else the selected connection. */
  libvirtFor(obj: AnyResource): Libvirt;
  /** The jump host for reaching a resource's guests (remote libvirt over ssh), if any. */
  jumpFor(obj: AnyResource): JumpHost | undefined;
  /** The named context a resource lives in (spec.context); undefined: where a bare URI points. */
  contextOf(obj: AnyResource): string | undefined;
  /** The config file's context names. */
  contexts: string[];
  /** The URI a `virsh` of our own (lv console) connects with to where a resource lives (lv's ssh wrapper added). */
  virshUriFor(obj: AnyResource): string;
  output: Output;
  /** Identifies this process as a lease holder. */
  holder: string;
  /** The config file's boxServerUrl (Vagrant box catalog), if set. */
  boxServerUrl?: string;
  /** Ends the virsh sessions and closes the store. */
  close(): Promise<void>;
}

/** $LV_HOME, default ~/.local/share/lv; created 0700. */
export function lvHome(env: (name: string) => string | undefined = Deno.env.get): string {
  const explicit = env("LV_HOME");
  if (explicit) return explicit;
  const data = env("XDG_DATA_HOME") || join(env("HOME") ?? "/root", ".local", "share");
  return join(data, "lv");
}

export interface RuntimeOptions {
  /** --connect URI. */
  connect?: string;
  /** --context NAME. */
  context?: string;
  /** --store URL (else $LV_STORE, the config file's store:, the SQLite file in home). */
  store?: string;
  home?: string;
  /** The config file; default {@linkcode configPath}. */
  configPath?: string;
  output?: Output;
  virsh?: VirshRunner;
  /** A virsh process per command instead of a session (a command that runs one: cheaper by a session's end). */
  processPerCommand?: boolean;
}

/** The config file's contents; the YAML parser is loaded only when there is a file. */
export async function readConfig(path: string): Promise<LvConfig> {
  try {
    await Deno.stat(path);
  } catch {
    return { contexts: [] };
  }
  return (await import("../config/config_file.ts")).loadConfig(path);
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

/** The connection a command selected and a libvirt per context, opened when first asked for. */
interface Connections {
  home: string;
  config: LvConfig;
  connection: Connection;
  side(context: string | undefined): { libvirt: Libvirt; jump?: JumpHost; connectUri: string };
  /** Ends the virsh sessions started. */
  close(): Promise<void>;
}

/** Reads the config file and selects the connection: a bad config or an unknown context fails here. */
async function openConnections(options: RuntimeOptions): Promise<Connections> {
  const home = options.home ?? lvHome();
  const path = options.configPath ?? configPath();
  const config = await readConfig(path);
  const connection = selectConnection(
    config,
    { connect: options.connect, context: options.context },
    undefined,
    path,
  );
  Deno.mkdirSync(home, { recursive: true, mode: 0o700 });
  // A resource without spec.context lives where a bare URI points (--connect, LV_CONNECT, qemu:///system),
  // whatever context is selected: switching contexts never moves existing objects.
  const bare: Connection = connection.context === undefined
    ? connection
    : { uri: options.connect ?? Deno.env.get("LV_CONNECT") ?? DEFAULT_URI };
  // The ssh machinery (and node:crypto with it) loads only when a connection may go through ssh.
  const ssh = config.contexts.length > 0 || isSshUri(connection.uri) || isSshUri(bare.uri)
    ? await import("../config/ssh_transport.ts")
    : undefined;
  const open = new Map<string, { libvirt: Libvirt; jump?: JumpHost; connectUri: string }>();
  const sessions: SessionVirsh[] = [];
  const side = (context: string | undefined) => {
    const key = context ?? "";
    let found = open.get(key);
    if (!found) {
      const c = context === undefined
        ? bare
        : context === connection.context
        ? connection
        : contextConnection(config, context, path);
      const transport: Transport = ssh ? ssh.prepareTransport(home, c) : { connectUri: c.uri };
      const jump = transport.jump;
      const explain = jump && ssh && ((stderr: string) => ssh.explainSshFailure(stderr, jump));
      // One long-lived virsh per connection (bench/session.ts: an observation pass 6x faster locally, 15x
      // over ssh); LV_VIRSH=process runs a process per command as before.
      const virsh = options.virsh ??
        (options.processPerCommand || Deno.env.get("LV_VIRSH") === "process"
          ? new ProcessVirsh(c.uri, transport.connectUri, explain)
          : new SessionVirsh(c.uri, transport.connectUri, explain));
      if (virsh instanceof SessionVirsh) sessions.push(virsh);
      found = { libvirt: new Libvirt(virsh), jump: transport.jump, connectUri: transport.connectUri };
      open.set(key, found);
    }
    return found;
  };
  return {
    home,
    config,
    connection,
    side,
    close: async () => void await Promise.all(sessions.map((v) => v.close())),
  };
}

/**
 * The libvirt of the selected connection for one virsh command (`lv version`): a process, not a session (whose
 * end costs more than the command), and no store (SQLite neither loaded nor opened).
 */
export async function openLibvirt(
  options: RuntimeOptions = {},
): Promise<{ libvirt: Libvirt; close(): Promise<void> }> {
  const c = await openConnections({ ...options, processPerCommand: true });
  return { libvirt: c.side(c.connection.context).libvirt, close: c.close };
}

/**
 * Opens the store and selects the connection. The config file is read first, so a bad config or an unknown
 * context fails before anything is opened.
 */
export async function openRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const { home, config, connection, side, close } = await openConnections(options);
  const storeUrl = selectedStore(config, { flag: options.store, uri: connection.uri, home: options.home });
  const store = await openSelectedStore(storeUrl, config);
  const contextOf = (obj: AnyResource) => obj.spec.context;
  return {
    home,
    store,
    storeFrom: storeUrl.from,
    connection,
    get libvirt() {
      return side(connection.context).libvirt;
    },
    libvirtFor: (obj) => side(contextOf(obj)).libvirt,
    jumpFor: (obj) => side(contextOf(obj)).jump,
    contextOf,
    contexts: config.contexts.map((c) => c.name),
    virshUriFor: (obj) => side(contextOf(obj)).connectUri,
    output: options.output ?? stdOutput(),
    holder: `${Deno.hostname()}:${Deno.pid}`,
    boxServerUrl: config.boxServerUrl,
    close: async () => {
      await close();
      store.close();
    },
  };
}
