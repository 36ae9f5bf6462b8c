/**
 * The lv config file (like a kubeconfig): named contexts holding vagrant-libvirt's provider options, and
 * which one is current. Which connection a command uses:
 *
 *     --connect URI | --context NAME   (flags; both at once is a usage error)
 *     LV_CONNECT URI | LV_CONTEXT NAME (environment; LV_CONNECT wins when both are set)
 *     currentContext in the file
 *     qemu:///system
 *
 * The file is $LV_CONFIG, else $LV_HOME/config.yaml when LV_HOME is set, else
 * $XDG_CONFIG_HOME/lv/config.yaml (~/.config/lv/config.yaml). It may hold a password: written 0600.
 */
import { joinPath as join } from "../api/posix_path.ts";
import { closest } from "../api/problem.ts";
import { DEFAULT_URI } from "../libvirt/virsh.ts";
import type { SpecDefaults } from "../api/validate.ts";

export interface LvContext {
  name: string;
  /** A raw libvirt URI; when given, the fields that build one (host, port, ...) must be absent. */
  uri?: string;
  /** kvm or qemu: the domain type of Domains applied in this context that name none (vagrant-libvirt's driver). */
  driver?: "kvm" | "qemu";
  host?: string;
  port?: number;
  connectViaSsh?: boolean;
  username?: string;
  /** SSH password for the libvirt host (given to ssh by an askpass helper, never on a command line). */
  password?: string;
  idSshKeyFile?: string;
  /** Default pool for Boxes, Volumes and box overlays applied in this context. */
  storagePoolName?: string;
  /** Default management network (a libvirt network on the host) for Domains applied in this context. */
  defaultNetwork?: string;
}

export interface LvConfig {
  currentContext?: string;
  /** Where objects are kept (config/store_url.ts); default a SQLite file (cli/open_store.ts). */
  store?: string;
  /** The etcd user's password for `store` (kept here, 0600, like context passwords). */
  storePassword?: string;
  contexts: LvContext[];
  /** Where Box catalog names (USER/NAME) are looked up, like VAGRANT_SERVER_URL; $LV_BOX_SERVER_URL wins. */
  boxServerUrl?: string;
}

/** Fields that build a URI: not allowed beside `uri`. */
export const URI_PARTS = ["driver", "host", "port", "connectViaSsh", "username"] as const satisfies readonly (
  keyof LvContext
)[];

/** The config file cannot be used: names the file, line and field. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

export function configPath(env: (name: string) => string | undefined = Deno.env.get): string {
  const explicit = env("LV_CONFIG");
  if (explicit) return explicit;
  const home = env("LV_HOME");
  if (home) return join(home, "config.yaml");
  const base = env("XDG_CONFIG_HOME") || join(env("HOME") ?? "/root", ".config");
  return join(base, "lv", "config.yaml");
}

/** The libvirt URI a context names, built the way vagrant-libvirt builds it from its provider options. */
export function contextUri(ctx: LvContext): string {
  if (ctx.uri) return ctx.uri;
  if (!ctx.host) return DEFAULT_URI;
  const user = ctx.username ? `${encodeURIComponent(ctx.username)}@` : "";
  const port = ctx.port ? `:${ctx.port}` : "";
  const host = ctx.host.includes(":") && !ctx.host.startsWith("[") ? `[${ctx.host}]` : ctx.host;
  return `${ctx.connectViaSsh ? "qemu+ssh" : "qemu"}://${user}${host}${port}/system`;
}

/** What a command connects to: a named context, or a bare URI (--connect, LV_CONNECT, the default). */
export interface Connection {
  /** Context name; undefined for a bare URI. */
  context?: string;
  uri: string;
  /** The context's settings (defaults for applied resources, ssh key and password). */
  settings?: LvContext;
}

export interface Selection {
  connect?: string;
  context?: string;
}

/** Applies the precedence in this module's comment. Unknown context names are errors. */
export function selectConnection(
  config: LvConfig,
  flags: Selection,
  env: (name: string) => string | undefined = Deno.env.get,
  file = "the lv config",
): Connection {
  if (flags.connect !== undefined && flags.context !== undefined) {
    throw new ConfigError("give either --connect or --context, not both");
  }
  if (flags.connect !== undefined) return { uri: flags.connect };
  if (flags.context !== undefined) return named(config, flags.context, "--context", file);
  const envConnect = env("LV_CONNECT");
  if (envConnect) return { uri: envConnect };
  const envContext = env("LV_CONTEXT");
  if (envContext) return named(config, envContext, "LV_CONTEXT", file);
  if (config.currentContext) return named(config, config.currentContext, "currentContext", file);
  return { uri: DEFAULT_URI };
}

function named(config: LvConfig, name: string, from: string, file: string): Connection {
  const settings = config.contexts.find((c) => c.name === name);
  if (!settings) {
    const near = closest(name, config.contexts.map((c) => c.name));
    const known = config.contexts.map((c) => c.name).join(", ") || "none";
    throw new ConfigError(
      `${from}: no context named "${name}" in ${file} (contexts: ${known})${
        near ? `; did you mean "${near}"?` : ""
      }`,
    );
  }
  return { context: name, uri: contextUri(settings), settings };
}

/** The connection of a named context, for resources that carry spec.context. */
export function contextConnection(config: LvConfig, name: string, file = "the lv config"): Connection {
  return named(config, name, "spec.context", file);
}

/**
 * What `lv apply` fills into documents that leave it out, from the selected context: spec.context itself,
 * its storage pool, its default (management) network and its driver (the Domains' type).
 */
export function contextDefaults(connection: Connection): SpecDefaults {
  const s = connection.settings;
  if (connection.context === undefined) return {};
  const context = connection.context;
  return {
    Box: { context, pool: s?.storagePoolName },
    Volume: { context, pool: s?.storagePoolName },
    Network: { context },
    Domain: {
      context,
      storagePoolName: s?.storagePoolName,
      managementNetwork: s?.defaultNetwork,
      driver: s?.driver,
    },
  };
}

/** Flags of `lv config set-context` and the context field each sets. */
export const SET_CONTEXT_FLAGS = {
  uri: "uri",
  driver: "driver",
  host: "host",
  port: "port",
  "connect-via-ssh": "connectViaSsh",
  username: "username",
  "id-ssh-key-file": "idSshKeyFile",
  "storage-pool-name": "storagePoolName",
  "default-network": "defaultNetwork",
} as const satisfies Record<string, keyof LvContext>;
