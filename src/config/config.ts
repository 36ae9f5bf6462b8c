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
import { dirname, join } from "node:path";
import { isMap, isScalar, isSeq, LineCounter, parseDocument, stringify } from "yaml";
import { closest, quoteSafe } from "../api/problem.ts";
import { DEFAULT_URI } from "../libvirt/virsh.ts";
import type { SpecDefaults } from "../api/validate.ts";

export interface LvContext {
  name: string;
  /** A raw libvirt URI; when given, the fields that build one (host, port, ...) must be absent. */
  uri?: string;
  /** kvm or qemu: both are libvirt's qemu driver; kept for vagrant-libvirt parity. */
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
  contexts: LvContext[];
}

/** The config file cannot be used: names the file, line and field. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

type FieldType = "string" | "port" | "boolean" | "driver";
const CONTEXT_FIELDS: Record<Exclude<keyof LvContext, "name">, FieldType> = {
  uri: "string",
  driver: "driver",
  host: "string",
  port: "port",
  connectViaSsh: "boolean",
  username: "string",
  password: "string",
  idSshKeyFile: "string",
  storagePoolName: "string",
  defaultNetwork: "string",
};
/** Fields that build a URI: not allowed beside `uri`. */
const URI_PARTS = ["driver", "host", "port", "connectViaSsh", "username"] as const;
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,62}$/;

export function configPath(env: (name: string) => string | undefined = Deno.env.get): string {
  const explicit = env("LV_CONFIG");
  if (explicit) return explicit;
  const home = env("LV_HOME");
  if (home) return join(home, "config.yaml");
  const base = env("XDG_CONFIG_HOME") || join(env("HOME") ?? "/root", ".config");
  return join(base, "lv", "config.yaml");
}

/** Reads the config file; a missing file is an empty config. */
export function loadConfig(path: string): LvConfig {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { contexts: [] };
    throw new ConfigError(`${path}: cannot be read: ${(e as Error).message}`);
  }
  return parseConfig(text, path);
}

/** Parses and checks config text; every problem is reported at once as file:line:col: field: message. */
export function parseConfig(text: string, file: string): LvConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const problems: string[] = [];
  const at = (
    node: { range?: [number, number, number] | null } | null | undefined,
    field: string,
    m: string,
  ) => {
    const pos = node?.range ? lines.linePos(node.range[0]) : { line: 1, col: 1 };
    problems.push(`${file}:${pos.line}:${pos.col}: ${field ? `${field}: ` : ""}${m}`);
  };
  for (const e of doc.errors) {
    const pos = e.linePos?.[0] ?? { line: 1, col: 1 };
    problems.push(`${file}:${pos.line}:${pos.col}: ${e.message.split("\n")[0]}`);
  }
  const config: LvConfig = { contexts: [] };
  const nodes: [unknown, number][] = [];
  if (problems.length === 0 && doc.contents !== null) {
    const root = doc.contents;
    if (!isMap(root)) {
      at(root, "", "must be a mapping with currentContext and contexts");
    } else {
      for (const pair of root.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : "";
        const value = pair.value as { range?: [number, number, number] } | null;
        if (key === "apiVersion" || key === "kind") continue;
        if (key === "currentContext") {
          if (isScalar(value) && (typeof value.value === "string" || value.value === null)) {
            config.currentContext = (value.value as string | null) ?? undefined;
          } else at(value, "currentContext", "must be a context name");
        } else if (key === "contexts") {
          if (isSeq(value)) {
            value.items.forEach((item, i) => {
              const ctx = parseContext(item, `contexts[${i}]`, at);
              if (ctx) config.contexts.push(ctx);
              if (ctx) nodes.push([item, i]);
            });
          } else if (!(isScalar(value) && value.value === null)) at(value, "contexts", "must be a list");
        } else {
          const near = closest(key, ["currentContext", "contexts", "apiVersion", "kind"]);
          at(pair.key as never, key, `unknown field${near ? ` (did you mean "${near}"?)` : ""}`);
        }
      }
      const seen = new Set<string>();
      config.contexts.forEach((c, i) => {
        if (seen.has(c.name)) {
          const [node, index] = nodes[i];
          at(node as never, `contexts[${index}].name`, `"${c.name}" is defined twice`);
        }
        seen.add(c.name);
      });
      if (config.currentContext && !seen.has(config.currentContext)) {
        at(
          root.get("currentContext", true) as never,
          "currentContext",
          `no context named "${config.currentContext}"`,
        );
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(problems.join("\n"));
  return config;
}

function parseContext(
  item: unknown,
  path: string,
  at: (node: never, field: string, message: string) => void,
): LvContext | undefined {
  if (!isMap(item)) {
    at(item as never, path, "must be a mapping with name and connection fields");
    return undefined;
  }
  const ctx: Record<string, unknown> = {};
  let ok = true;
  for (const pair of item.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : "";
    const node = pair.value;
    const value = isScalar(node) ? node.value : undefined;
    const field = `${path}.${key}`;
    const type = key === "name" ? "name" : CONTEXT_FIELDS[key as keyof typeof CONTEXT_FIELDS];
    const fail = (m: string) => {
      at(
        node as never,
        field,
        `${m}; got ${quoteSafe(String(isScalar(node) ? node.value : "a " + typeof node))}`,
      );
      ok = false;
    };
    if (type === undefined) {
      const near = closest(key, ["name", ...Object.keys(CONTEXT_FIELDS)]);
      at(pair.key as never, field, `unknown field${near ? ` (did you mean "${near}"?)` : ""}`);
      ok = false;
    } else if (type === "name") {
      if (typeof value !== "string" || !NAME.test(value)) {
        fail("must be a name of letters, digits, '.', '_', '-'");
      } else ctx.name = value;
    } else if (type === "port") {
      if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 65535) {
        fail("must be a port number 1..65535");
      } else ctx[key] = value;
    } else if (type === "boolean") {
      if (typeof value !== "boolean") fail("must be true or false");
      else ctx[key] = value;
    } else if (type === "driver") {
      if (value !== "kvm" && value !== "qemu") fail("must be kvm or qemu");
      else ctx[key] = value;
    } else if (typeof value !== "string" || value === "" || /[\0\n\r]/.test(value)) {
      fail("must be a non-empty one-line string");
    } else ctx[key] = value;
  }
  if (ctx.name === undefined && ok) {
    at(item as never, `${path}.name`, "is required");
    return undefined;
  }
  if (ctx.uri !== undefined) {
    const both = URI_PARTS.filter((k) => ctx[k] !== undefined);
    if (both.length > 0) {
      at(
        item.get(both[0], true) as never,
        `${path}.${both[0]}`,
        "cannot be given with uri (put it in the uri)",
      );
      ok = false;
    } else {
      try {
        new URL(ctx.uri as string);
      } catch {
        at(
          item.get("uri", true) as never,
          `${path}.uri`,
          `is not a URI; got ${quoteSafe(ctx.uri as string)}`,
        );
        ok = false;
      }
    }
  }
  return ok ? ctx as unknown as LvContext : undefined;
}

/** Writes the config atomically, 0600. */
export function saveConfig(path: string, config: LvConfig): void {
  Deno.mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const doc: Record<string, unknown> = { apiVersion: "lv.dev/v1alpha1", kind: "Config" };
  if (config.currentContext) doc.currentContext = config.currentContext;
  doc.contexts = config.contexts;
  const tmp = `${path}.tmp.${Deno.pid}`;
  Deno.writeTextFileSync(tmp, stringify(doc), { mode: 0o600 });
  Deno.chmodSync(tmp, 0o600);
  Deno.renameSync(tmp, path);
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
 * its storage pool and its default (management) network.
 */
export function contextDefaults(connection: Connection): SpecDefaults {
  const s = connection.settings;
  if (connection.context === undefined) return {};
  const context = connection.context;
  return {
    Box: { context, pool: s?.storagePoolName },
    Volume: { context, pool: s?.storagePoolName },
    Network: { context },
    Domain: { context, storagePoolName: s?.storagePoolName, managementNetwork: s?.defaultNetwork },
  };
}
