/** lv config: the contexts of the config file (set-context, use-context, get-contexts, ...), like kubectl config. */
import { stringify } from "yaml";
import { KINDS } from "../api/types.ts";
import {
  ConfigError,
  configPath,
  contextUri,
  type LvConfig,
  type LvContext,
  SET_CONTEXT_FLAGS,
  URI_PARTS,
} from "../config/config.ts";
import { loadConfig, parseConfig, saveConfig } from "../config/config_file.ts";
import { CommandFailed, UsageError } from "./errors.ts";
import { renderTable } from "./printers.ts";
import type { Output } from "./runtime.ts";
import type { Store } from "../store/store.ts";

export interface ConfigCommand {
  sub: string;
  name?: string;
  flags: Record<string, string | boolean | undefined>;
  /** Reads the password for --password-stdin. */
  readStdin: () => Promise<string>;
  /** Opens the store when a subcommand needs it (delete-context checks what lives there). */
  store: () => Store | Promise<Store>;
  /** Where the store the other commands use is, and why (shown by view). */
  storeLocation?: () => Promise<string>;
}

/** One config subcommand's run: the command line, the file and what it holds. */
interface ConfigRun {
  cmd: ConfigCommand;
  output: Output;
  path: string;
  config: LvConfig;
  /** The context name the subcommand needs; `example` shows one in the usage error. */
  need(example: string): string;
}

const SUBCOMMANDS: Record<string, (run: ConfigRun) => Promise<void> | void> = {
  "set-context": setContext,
  "use-context": useContext,
  "get-contexts": getContexts,
  "current-context": currentContext,
  "delete-context": deleteContext,
  view,
};

export async function configCommand(cmd: ConfigCommand, output: Output): Promise<void> {
  const sub = SUBCOMMANDS[cmd.sub];
  if (!Object.hasOwn(SUBCOMMANDS, cmd.sub)) {
    throw new UsageError(
      cmd.sub ? `unknown config subcommand "${cmd.sub}"` : "lv config needs a subcommand",
      `one of: ${Object.keys(SUBCOMMANDS).join(", ")}`,
    );
  }
  const path = configPath();
  const need = (example: string) => {
    if (!cmd.name) {
      throw new UsageError(
        `lv config ${cmd.sub} needs a context name`,
        `e.g. lv config ${cmd.sub} ${example}`,
      );
    }
    return cmd.name;
  };
  await sub({ cmd, output, path, config: loadConfig(path), need });
}

async function setContext({ cmd, output, path, config, need }: ConfigRun): Promise<void> {
  const name = need("lab --host hv1.example --connect-via-ssh");
  const existing = config.contexts.find((c) => c.name === name);
  const next: Record<string, unknown> = { ...(existing ?? { name }) };
  for (const [flag, field] of Object.entries(SET_CONTEXT_FLAGS)) {
    const value = cmd.flags[flag];
    if (value === undefined) continue;
    if (field === "uri") { for (const k of URI_PARTS) delete next[k]; }
    if ((URI_PARTS as readonly string[]).includes(field)) delete next.uri;
    next[field] = field === "port" ? portNumber(value as string) : value;
  }
  if (cmd.flags["password-stdin"]) {
    const password = (await cmd.readStdin()).replace(/\r?\n$/, "");
    if (!password) throw new UsageError("--password-stdin read an empty password");
    next.password = password;
  }
  const contexts = existing
    ? config.contexts.map((c) => c.name === name ? next as unknown as LvContext : c)
    : [...config.contexts, next as unknown as LvContext];
  saveConfig(path, checked({ ...config, contexts }));
  output.out(`Context "${name}" ${existing ? "modified" : "created"} in ${path}.\n`);
}

function useContext({ output, path, config, need }: ConfigRun): void {
  const name = need("lab");
  if (!config.contexts.some((c) => c.name === name)) throw unknown(config, name, path);
  saveConfig(path, { ...config, currentContext: name });
  output.out(`Switched to context "${name}".\n`);
}

function currentContext({ output, path, config }: ConfigRun): void {
  if (!config.currentContext) throw new CommandFailed(`no current context is set in ${path}`);
  output.out(`${config.currentContext}\n`);
}

function getContexts({ cmd, output, path, config }: ConfigRun): void {
  const shown = cmd.name ? config.contexts.filter((c) => c.name === cmd.name) : config.contexts;
  if (cmd.name && shown.length === 0) throw unknown(config, cmd.name, path);
  if (shown.length === 0) {
    output.err(
      `No contexts in ${path}; add one with lv config set-context NAME --host HOST --connect-via-ssh\n`,
    );
    return;
  }
  const rows = [["CURRENT", "NAME", "URI", "STORAGE-POOL", "DEFAULT-NETWORK", "AUTH"]];
  for (const c of shown) {
    const auth = [c.idSshKeyFile ? `key ${c.idSshKeyFile}` : "", c.password ? "password" : ""];
    rows.push([
      c.name === config.currentContext ? "*" : "",
      c.name,
      contextUri(c),
      c.storagePoolName ?? "",
      c.defaultNetwork ?? "",
      auth.filter((x) => x).join(", "),
    ]);
  }
  output.out(renderTable(rows));
}

async function deleteContext({ cmd, output, path, config, need }: ConfigRun): Promise<void> {
  const name = need("lab");
  if (!config.contexts.some((c) => c.name === name)) throw unknown(config, name, path);
  const store = await cmd.store();
  const living: string[] = [];
  for (const kind of KINDS) {
    for (const obj of await store.list(kind)) {
      if (obj.spec.context === name) living.push(`${kind.toLowerCase()}/${obj.metadata.name}`);
    }
  }
  if (living.length > 0) {
    throw new CommandFailed(
      `context "${name}" still has ${living.join(", ")}; delete them first (lv delete ...), ` +
        `or lv could no longer reach what it made there`,
    );
  }
  saveConfig(path, {
    ...config,
    currentContext: config.currentContext === name ? undefined : config.currentContext,
    contexts: config.contexts.filter((c) => c.name !== name),
  });
  output.out(`Deleted context "${name}" from ${path}.\n`);
}

async function view({ cmd, output, config }: ConfigRun): Promise<void> {
  // Where the objects are: a comment, so the output stays the file's YAML.
  const where = await cmd.storeLocation?.().catch(() => undefined);
  if (where) output.out(`# store in use: ${where}\n`);
  output.out(stringify({
    currentContext: config.currentContext,
    store: config.store,
    storePassword: config.storePassword && "REDACTED",
    contexts: config.contexts.map((c) => c.password ? { ...c, password: "REDACTED" } : c),
  }));
}

function portNumber(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 65535) {
    throw new UsageError(`--port=${text} is not a port number (1..65535)`);
  }
  return n;
}

/** The config as the file would hold it, checked by the same rules as a file read from disk. */
function checked(config: LvConfig): LvConfig {
  try {
    return parseConfig(
      stringify({
        currentContext: config.currentContext,
        store: config.store,
        storePassword: config.storePassword,
        contexts: config.contexts,
      }),
      "the new config",
    );
  } catch (e) {
    if (e instanceof ConfigError) {
      throw new UsageError(e.message.replace(/the new config:\d+:\d+: /g, ""), "nothing was written");
    }
    throw e;
  }
}

function unknown(config: LvConfig, name: string, path: string): CommandFailed {
  const known = config.contexts.map((c) => c.name).join(", ") || "none";
  return new CommandFailed(`no context named "${name}" in ${path} (contexts: ${known})`);
}
