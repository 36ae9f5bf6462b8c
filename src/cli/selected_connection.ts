/**
 * Which libvirt a command talks to, from its flags, the environment and the config file: the first step of
 * every runtime, and all that `lv version` needs when the answer is this machine's daemon. Loads neither the
 * libvirt classes nor a store.
 */
import {
  configPath,
  type Connection,
  contextConnection,
  type LvConfig,
  selectConnection,
  type Selection,
} from "../config/config.ts";
import { joinPath as join } from "../api/posix_path.ts";
import { DEFAULT_URI } from "../libvirt/virsh.ts";

/** $LV_HOME, default ~/.local/share/lv; created 0700 when a connection is selected. */
export function lvHome(env: (name: string) => string | undefined = Deno.env.get): string {
  const explicit = env("LV_HOME");
  if (explicit) return explicit;
  const data = env("XDG_DATA_HOME") || join(env("HOME") ?? "/root", ".local", "share");
  return join(data, "lv");
}

/**
 * The config file's contents; the YAML parser is loaded only when there is a file. Its absence is learned
 * synchronously: a process's first async operation costs Deno ~1 ms, and `lv get` has no other.
 */
export async function readConfig(path: string): Promise<LvConfig> {
  try {
    Deno.statSync(path);
  } catch {
    return { contexts: [] };
  }
  return (await import("../config/config_file.ts")).loadConfig(path);
}

export interface SelectionOptions extends Selection {
  home?: string;
  /** The config file; default {@linkcode configPath}. */
  configPath?: string;
}

export interface SelectedConnection {
  home: string;
  /** The config file read (it may not exist). */
  path: string;
  config: LvConfig;
  /** The connection the flags, LV_CONNECT or the config file's current context select. */
  connection: Connection;
  /** The connection of a resource in `context` (its spec.context); undefined: where a bare URI points. */
  connectionOf(context: string | undefined): Connection;
}

/** Reads the config file and selects the connection: a bad config or an unknown context fails here. */
export async function selectedConnection(options: SelectionOptions): Promise<SelectedConnection> {
  const home = options.home ?? lvHome();
  const path = options.configPath ?? configPath();
  const config = await readConfig(path);
  Deno.mkdirSync(home, { recursive: true, mode: 0o700 });
  const connection = selectConnection(
    config,
    { connect: options.connect, context: options.context },
    undefined,
    path,
  );
  // A resource without spec.context lives where a bare URI points (--connect, LV_CONNECT, qemu:///system),
  // whatever context is selected: switching contexts never moves existing objects.
  const bare: Connection = connection.context === undefined
    ? connection
    : { uri: options.connect ?? Deno.env.get("LV_CONNECT") ?? DEFAULT_URI };
  return {
    home,
    path,
    config,
    connection,
    connectionOf: (context) =>
      context === undefined
        ? bare
        : context === connection.context
        ? connection
        : contextConnection(config, context, path),
  };
}
