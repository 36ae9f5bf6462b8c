/**
 * A command declared once: its name, summary, usage, arguments, flags (type, default, description), examples
 * and the function it runs. The parser below, `lv help`, `lv help CMD`, the README's commands table and shell
 * completion all read these declarations (the way cliffy and Lume declare commands).
 *
 * To add a command: write src/cli/commands/NAME.ts exporting `defineCommand({...})` (its `run` imports the
 * module doing the work with `await import("../x.ts")`, a string literal, so `lv get` loads nothing else and
 * `deno compile` still bundles it), list it in src/cli/commands.ts, then `deno task readme`.
 */
import { type ParsedFlags, parseFlags } from "./parse_flags.ts";
import { closest } from "../api/problem.ts";
import { parseDuration } from "./duration.ts";
import { UsageError } from "./errors.ts";
import type { Output, Runtime } from "./runtime.ts";
import type { Libvirt } from "../libvirt/libvirt.ts";
import type { StoreRuntime } from "./store_runtime.ts";
import type { Connection } from "../config/config.ts";

/**
 * What a flag's value or an argument is, for help and shell completion: a path, a name lv can list, one of
 * fixed `choices`, or free text.
 */
export type ValueKind =
  | "text"
  | "file"
  | "duration"
  | "integer"
  | "choice"
  | "command"
  | "kind"
  | "resource"
  | "domain"
  | "snapshot"
  | "context"
  | "field"
  | "uri"
  | "host"
  | "user"
  | "pool"
  | "network"
  | "selector"
  | "condition";

export interface FlagSpec {
  /**
   * How the value is read: string as given; boolean `--flag`, `--flag=true|false`; duration `30s`, `5m`,
   * `1h`, `500ms` (to milliseconds); integer digits. A bad duration, boolean or integer is a usage error.
   */
  type: "string" | "boolean" | "duration" | "integer";
  short?: string;
  /** As typed on the command line ("10m", "table"), or a boolean: used when the flag is absent, shown in help. */
  default?: string | boolean;
  description: string;
  /** The value's placeholder in help (FILE); default: DURATION, N or VALUE after the type. */
  value?: string;
  /** What the value is (completion); default: after the type. */
  kind?: ValueKind;
  choices?: readonly string[];
  /** May be given several times; the values are a list. */
  repeatable?: boolean;
  /** The subcommand this flag is for (lv config set-context): help lists it under that subcommand. */
  of?: string;
}

export interface ArgSpec {
  /** As help shows it: NAME, KIND, SNAPSHOT. */
  name: string;
  kind: ValueKind;
  choices?: readonly string[];
  optional?: boolean;
  repeatable?: boolean;
}

/** A word after the command that selects what it does (lv config use-context): for help and completion. */
export interface SubcommandSpec {
  name: string;
  summary: string;
  args?: readonly ArgSpec[];
}

export type Flags = Record<string, FlagSpec>;

/** The flags every command takes. */
export const COMMON_FLAGS = {
  context: {
    type: "string",
    value: "NAME",
    kind: "context",
    description: "a context of the config file (default: $LV_CONTEXT, else its currentContext)",
  },
  connect: {
    type: "string",
    value: "URI",
    kind: "uri",
    description: "a libvirt URI instead of a context (default: $LV_CONNECT, else qemu:///system)",
  },
  store: {
    type: "string",
    value: "URL",
    kind: "uri",
    description:
      "where objects are kept: etcd://HOST:2379[,HOST:2379...], etcds://... or sqlite:PATH (default: $LV_STORE, else the config file's store:, else $LV_HOME/store.db if LV_HOME is set, else /var/lib/lv/store.db for qemu:///system, shared by group libvirt, else ~/.local/share/lv/store.db)",
  },
  namespace: { type: "string", short: "n", value: "NS", default: "default", description: "namespace" },
  help: { type: "boolean", short: "h", description: "help for the command" },
} as const satisfies Flags;

type Scalar<F extends FlagSpec> = F["type"] extends "boolean" ? boolean
  : F["type"] extends "duration" | "integer" ? number
  : string;

/** A flag's value after parsing: a list when repeatable; undefined when absent and without a default. */
export type FlagValue<F extends FlagSpec> = F extends { repeatable: true } ? Scalar<F>[]
  : F extends { default: string | boolean } ? Scalar<F>
  : Scalar<F> | undefined;

export type FlagValues<F extends Flags> = { -readonly [K in keyof F]: FlagValue<F[K]> };

/** One run of a command: parsed flags and arguments, where output goes, and the way to libvirt and the store. */
export interface Invocation<F extends Flags> {
  flags: FlagValues<F & typeof COMMON_FLAGS>;
  /** Positional arguments (before `--`). */
  args: string[];
  /** What follows `--` (lv ssh web -- uname -a). */
  rest: string[];
  output: Output;
  /** Opens the store and the connection the flags select, runs `fn`, closes them; `fn`'s result. */
  withRuntime<T>(fn: (rt: Runtime) => Promise<T>): Promise<T>;
  /** The store alone (no libvirt classes loaded) for a command that only reads and writes objects (lv get). */
  withStore<T>(fn: (rt: StoreRuntime) => Promise<T>): Promise<T>;
  /** Only the selected connection's libvirt (no store), closed after `fn` (lv version). */
  withLibvirt<T>(fn: (libvirt: Libvirt) => Promise<T>): Promise<T>;
  /** The connection the flags, the environment and the config file select; nothing opened (lv version). */
  connection(): Promise<Connection>;
}

export interface CommandSpec<F extends Flags = Flags> {
  name: string;
  aliases?: readonly string[];
  /** What it does, one line: `lv help`, the README's table, completion. */
  summary: string;
  /** The arguments as `lv help` lists them ("KIND [NAME]"); one entry per form. */
  synopsis?: readonly string[];
  /** Listed on one line with that command in `lv help` (up|halt|suspend|resume NAME). */
  listedWith?: string;
  /** `lv help CMD`'s usage lines, without the leading `lv `. */
  usage: readonly string[];
  /** `lv help CMD`'s text between usage and flags. */
  description?: string;
  args?: readonly ArgSpec[];
  subcommands?: readonly SubcommandSpec[];
  flags: F;
  examples?: readonly string[];
  /** Runs the command; the exit code (default 0). Usage errors: throw UsageError. */
  run(invocation: Invocation<F>): Promise<number | void>;
}

/** A declared command, whatever its flags. */
export type Command = CommandSpec<Flags>;

/** Declares a command; the flag values `run` gets are typed after the flags declared. */
export function defineCommand<const F extends Flags>(spec: CommandSpec<F>): Command {
  return spec as unknown as Command;
}

/** Every flag a command takes: its own and the common ones. */
export function flagsOf(command: Command): Flags {
  // A command may declare a common flag its own way (lv controller: --context, repeatable).
  return { ...COMMON_FLAGS, ...command.flags };
}

export interface ParsedLine {
  flags: Record<string, unknown>;
  /** The flags given on the command line (not defaulted). */
  given: Set<string>;
  args: string[];
  rest: string[];
}

/** Parses a command's arguments (after the command name): flags with defaults applied, positionals, after `--`. */
export function parseCommandLine(command: Command, argv: readonly string[]): ParsedLine {
  const flags = flagsOf(command);
  const dashes = argv.indexOf("--");
  const before = dashes >= 0 ? argv.slice(0, dashes) : [...argv];
  const rest = dashes >= 0 ? argv.slice(dashes + 1) : [];
  // parseFlags takes no value for a boolean: --flag=true|false is read here first.
  const booleans: Record<string, boolean> = {};
  // -o=yaml as pflag reads it (parseFlags would take "=yaml" as the value).
  const shortValues = before.flatMap((arg) => {
    const m = arg.match(/^-([^-])=(.*)$/s);
    return m ? [`-${m[1]}`, m[2]] : [arg];
  });
  const remaining = shortValues.filter((arg) => {
    const m = arg.match(/^--([^=]+)=(.*)$/s);
    if (!m || flags[m[1]]?.type !== "boolean") return true;
    booleans[m[1]] = parseBoolean(m[1], m[2]);
    return false;
  });
  let parsed: ParsedFlags;
  try {
    parsed = parseFlags(
      remaining,
      Object.fromEntries(
        Object.entries(flags).map(([name, f]) => [name, {
          type: f.type === "boolean" ? "boolean" : "string",
          short: f.short,
          multiple: f.repeatable,
        }]),
      ),
    );
  } catch (e) {
    throw flagError(command, flags, (e as Error).message);
  }
  const values: Record<string, unknown> = {};
  const given = new Set<string>();
  for (const [name, spec] of Object.entries(flags)) {
    const value = booleans[name] ?? parsed.values[name];
    if (value !== undefined) given.add(name);
    values[name] = flagValue(name, spec, value);
  }
  return { flags: values, given, args: parsed.positionals, rest };
}

function flagError(command: Command, flags: Flags, message: string): UsageError {
  const first = message.replace(/^Unknown option/, "unknown flag").split(". ")[0];
  const unknown = first.match(/^unknown flag '(--?)([^']+)'/);
  const names = unknown
    ? unknown[1] === "--" ? Object.keys(flags) : Object.values(flags).flatMap((f) => f.short ? [f.short] : [])
    : [];
  const near = unknown ? closest(unknown[2], names) : undefined;
  const help = `see 'lv ${command.name} --help'`;
  return new UsageError(first, near ? `did you mean ${unknown![1]}${near}? ${help}` : help);
}

function flagValue(name: string, spec: FlagSpec, given: unknown): unknown {
  const raw = given ?? spec.default;
  if (spec.type === "boolean") return raw;
  if (raw === undefined) return spec.repeatable ? [] : undefined;
  const one = (text: string) =>
    spec.type === "duration" ? duration(name, text) : spec.type === "integer" ? integer(name, text) : text;
  return Array.isArray(raw) ? raw.map(one) : one(raw as string);
}

function parseBoolean(name: string, text: string): boolean {
  if (text === "true" || text === "") return true;
  if (text === "false") return false;
  throw new UsageError(`--${name}=${text} must be true or false`);
}

function duration(name: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) {
    throw new UsageError(`--${name}=${text} is not a duration`, "use e.g. 30s, 5m, 1h, 1m30s");
  }
  return ms;
}

function integer(name: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`--${name}=${text} is not a whole number`);
  return Number(text);
}
