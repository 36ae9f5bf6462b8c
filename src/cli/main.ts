/** The CLI entry: parse arguments, run one command, map errors to exit codes (0 ok, 1 failure, 2 usage). */
import { closest } from "../api/problem.ts";
import { ConflictError } from "../store/store.ts";
import { VirshError } from "../libvirt/virsh.ts";
import { ConfigError, type Connection } from "../config/config.ts";
import { checkArgCount } from "./arg_count.ts";
import { type Command, type Flags, type Invocation, parseCommandLine } from "./command.ts";
import { loadCommand } from "./command_loaders.ts";
import { VERSION } from "./version.ts";
import { CommandFailed, InvalidInputError, UsageError } from "./errors.ts";
import { hoistGlobalFlags } from "./global_flags.ts";
import { type Output, stdOutput } from "./output.ts";
import type { Runtime } from "./runtime.ts";
import type { StoreRuntime } from "./store_runtime.ts";
import type { Libvirt } from "../libvirt/libvirt.ts";
import { StoreUrlError } from "../config/store_url.ts";
import { isProgrammingError, programmingErrorMessage } from "../api/programming_error.ts";
// Only the declaration of the command named is loaded (command_loaders.ts), and its implementation when it
// runs (string literals: `deno compile` still bundles them), so `lv get` does not load the other commands,
// the controllers, ssh2 or the YAML library.

export { VERSION };

/** Runs the CLI with arguments; returns the exit code. Never exits the process itself. */
export async function main(argv: string[], output: Output = stdOutput()): Promise<number> {
  try {
    const { word, rest } = hoistGlobalFlags(argv);
    if (!word && rest.length > 0 && !rest.includes("--help") && !rest.includes("-h")) {
      throw new UsageError("no command given", "run 'lv help' for the list of commands");
    }
    if (!word || word === "--help" || word === "-h") {
      const [{ helpText }, { COMMANDS }] = await Promise.all([import("./help.ts"), import("./commands.ts")]);
      output.out(helpText(COMMANDS));
      return 0;
    }
    if (word === "__complete") {
      // Hidden: the shell completion scripts ask for candidates here (complete.ts); never fails.
      const { complete } = await import("./complete.ts");
      output.out((await complete(rest).catch(() => [])).map((c) => `${c}\n`).join(""));
      return 0;
    }
    if (word === "--version") {
      output.out(`lv ${VERSION}\n`);
      return 0;
    }
    if (word.startsWith("-")) {
      throw new UsageError(
        `unknown flag '${word}' before the command`,
        "run 'lv help' for the list of commands",
      );
    }
    const command = await loadCommand(word);
    const { flags, args, rest: after, given } = parseCommandLine(command, rest);
    if (flags.help) {
      output.out((await import("./help.ts")).usageText(command));
      return 0;
    }
    checkSubcommand(command, args[0], given);
    checkArgCount(command, args);
    const invocation: Invocation<Flags> = {
      flags: flags as Invocation<Flags>["flags"],
      args,
      rest: after,
      output,
      withRuntime: (fn) => runWith(flags, output, fn),
      withStore: (fn) => storeWith(flags, output, fn),
      withLibvirt: (fn) => libvirtWith(flags, fn),
      connection: () => selectedConnectionOf(flags),
    };
    return await command.run(invocation) ?? 0;
  } catch (e) {
    return report(e, output);
  }
}

/** A command with subcommands: the first argument names one, and flags of another subcommand are refused. */
function checkSubcommand(command: Command, sub: string | undefined, given: ReadonlySet<string>): void {
  if (!command.subcommands) return;
  const names = command.subcommands.map((s) => s.name);
  if (!sub || !names.includes(sub)) {
    const near = sub ? closest(sub, names) : undefined;
    throw new UsageError(
      sub ? `unknown ${command.name} subcommand "${sub}"` : `lv ${command.name} needs a subcommand`,
      `${near ? `did you mean "${near}"? ` : ""}one of: ${names.join(", ")}`,
    );
  }
  for (const name of given) {
    const of = command.flags[name]?.of;
    if (of && of !== sub) throw new UsageError(`--${name} is a flag of lv ${command.name} ${of}`);
  }
}

/** The runtime's choice of connection from the global flags (lv controller's --context is a list, not one). */
function selection(flags: Record<string, unknown>) {
  return {
    connect: flags.connect as string | undefined,
    context: typeof flags.context === "string" ? flags.context : undefined,
  };
}

async function selectedConnectionOf(flags: Record<string, unknown>): Promise<Connection> {
  const { selectedConnection } = await import("./selected_connection.ts");
  return (await selectedConnection(selection(flags))).connection;
}

async function libvirtWith<T>(
  flags: Record<string, unknown>,
  fn: (libvirt: Libvirt) => Promise<T>,
): Promise<T> {
  const { libvirt, close } = await (await import("./runtime.ts")).openLibvirt(selection(flags));
  try {
    return await fn(libvirt);
  } finally {
    await close();
  }
}

async function runWith<T>(
  flags: Record<string, unknown>,
  output: Output,
  fn: (rt: Runtime) => Promise<T>,
): Promise<T> {
  const { openRuntime } = await import("./runtime.ts"); // the store and libvirt: not for help or usage errors
  const rt = await openRuntime({ ...selection(flags), store: flags.store as string | undefined, output });
  try {
    // A forwarder of forwardedPorts killed meanwhile is started again (loaded only when there are any).
    if (hasForwarders(rt.home)) await (await import("./revive_forwarders.ts")).reviveForwarders(rt);
    return await fn(rt);
  } finally {
    await rt.close();
  }
}

/** The store runtime (no libvirt classes); a full runtime when forwarders may need reviving. */
async function storeWith<T>(
  flags: Record<string, unknown>,
  output: Output,
  fn: (rt: StoreRuntime) => Promise<T>,
): Promise<T> {
  const [{ lvHome }, { openStoreRuntime }] = await Promise.all([
    import("./selected_connection.ts"),
    import("./store_runtime.ts"),
  ]);
  if (hasForwarders(lvHome())) return await runWith(flags, output, fn);
  const rt = await openStoreRuntime({
    ...selection(flags),
    store: flags.store as string | undefined,
    output,
  });
  try {
    return await fn(rt);
  } finally {
    await rt.close();
  }
}

/** Whether $LV_HOME/forwarders exists (forwardedPorts' forwarders were started here). */
function hasForwarders(home: string): boolean {
  try {
    return Deno.statSync(`${home}/forwarders`).isDirectory;
  } catch {
    return false;
  }
}

function report(e: unknown, output: Output): number {
  if (e instanceof InvalidInputError) {
    output.err(e.lines.map((l) => `error: ${l}\n`).join("") + `${e.message}.\n`);
    return 2;
  }
  if (e instanceof ConfigError) {
    output.err(e.message.split("\n").map((l) => `error: ${l}\n`).join(""));
    return 2;
  }
  if (e instanceof UsageError || e instanceof StoreUrlError) {
    output.err(`error: ${e.message}\n${"hint" in e && e.hint ? `hint: ${e.hint}\n` : ""}`);
    return 2;
  }
  if (e instanceof CommandFailed || e instanceof VirshError || e instanceof ConflictError) {
    output.err(`error: ${e.message}\n`);
    return 1;
  }
  const said = isProgrammingError(e) ? programmingErrorMessage("running this command") : undefined;
  output.err(`error: ${said ?? (e instanceof Error ? e.message : String(e))}\n`);
  if (Deno.env.get("LV_DEBUG") && e instanceof Error) output.err(`${e.stack}\n`);
  return 1;
}
