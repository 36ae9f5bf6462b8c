/** The CLI entry: parse arguments, run one command, map errors to exit codes (0 ok, 1 failure, 2 usage). */
import { parseArgs } from "node:util";
import denoJson from "../../deno.json" with { type: "json" };
import { ConflictError, keyOf } from "../store/store.ts";
import { VirshError } from "../libvirt/virsh.ts";
import { parseDuration } from "./duration.ts";
import { CommandFailed, InvalidInputError, UsageError } from "./errors.ts";
import { HELP, usage } from "./help.ts";
import { OUTPUT_FORMATS, type OutputFormat } from "./printers.ts";
import { lvHome, openRuntime, type Output, type Runtime, stdOutput, storePath } from "./runtime.ts";
import { ConfigError, SET_CONTEXT_FLAGS } from "../config/config.ts";
import { SqliteStore } from "../store/sqlite_store.ts";
import { parseSelector, parseTargets } from "./targets.ts";
import { KINDS } from "../api/types.ts";
// Each command's module is imported when it runs (string literals: `deno compile` still bundles them), so
// `lv get` does not load the controllers, ssh2 or the YAML library.

export const VERSION: string = denoJson.version;

type Flags = Record<string, string | boolean | string[] | undefined>;

const COMMON = {
  connect: { type: "string" },
  context: { type: "string" },
  namespace: { type: "string", short: "n" },
  help: { type: "boolean", short: "h" },
} as const;

const FLAGS = {
  apply: {
    ...COMMON,
    filename: { type: "string", short: "f", multiple: true },
    wait: { type: "string" },
    timeout: { type: "string" },
  },
  delete: {
    ...COMMON,
    filename: { type: "string", short: "f", multiple: true },
    wait: { type: "string" },
    timeout: { type: "string" },
    "ignore-not-found": { type: "boolean" },
  },
  get: {
    ...COMMON,
    output: { type: "string", short: "o" },
    selector: { type: "string", short: "l" },
    "all-namespaces": { type: "boolean", short: "A" },
  },
  describe: { ...COMMON },
  wait: { ...COMMON, for: { type: "string" }, timeout: { type: "string" } },
  controller: { ...COMMON, resync: { type: "string" }, workers: { type: "string" } },
  doctor: { ...COMMON },
  up: { ...COMMON, wait: { type: "string" }, timeout: { type: "string" } },
  halt: { ...COMMON, wait: { type: "string" }, timeout: { type: "string" } },
  suspend: { ...COMMON, wait: { type: "string" }, timeout: { type: "string" } },
  resume: { ...COMMON, wait: { type: "string" }, timeout: { type: "string" } },
  reload: { ...COMMON, wait: { type: "string" }, timeout: { type: "string" } },
  provision: { ...COMMON, wait: { type: "string" }, timeout: { type: "string" } },
  rsync: { ...COMMON, wait: { type: "string" }, timeout: { type: "string" } },
  ssh: { ...COMMON },
  "ssh-config": { ...COMMON },
  snapshot: { ...COMMON },
  box: {
    ...COMMON,
    output: { type: "string", short: "o" },
    "all-contexts": { type: "boolean", short: "A" },
    "dry-run": { type: "boolean" },
    timeout: { type: "string" },
    version: { type: "string" },
  },
  config: {
    ...COMMON,
    ...Object.fromEntries(
      Object.keys(SET_CONTEXT_FLAGS).map((
        f,
      ) => [f, { type: f === "connect-via-ssh" ? "boolean" : "string" }]),
    ) as Record<keyof typeof SET_CONTEXT_FLAGS, { type: "string" | "boolean" }>,
    "password-stdin": { type: "boolean" },
  },
  version: { ...COMMON },
  explain: { ...COMMON },
  schema: { ...COMMON },
  help: { ...COMMON },
} as const;

type Command = keyof typeof FLAGS;

function parse(command: Command, args: string[]): { flags: Flags; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: FLAGS[command] as NonNullable<Parameters<typeof parseArgs>[0]>["options"],
      allowPositionals: true,
      strict: true,
    });
    return { flags: values as Flags, positionals };
  } catch (e) {
    throw new UsageError(
      (e as Error).message.replace(/^Unknown option/, "unknown flag").split(". ")[0],
      `see 'lv ${command} --help'`,
    );
  }
}

function duration(flags: Flags, name: string, fallbackMs: number): number {
  const text = flags[name] as string | undefined;
  if (text === undefined) return fallbackMs;
  const ms = parseDuration(text);
  if (ms === undefined) throw new UsageError(`--${name}=${text} is not a duration`, "use e.g. 30s, 5m, 1h");
  return ms;
}

function bool(flags: Flags, name: string, fallback: boolean): boolean {
  const text = flags[name] as string | undefined;
  if (text === undefined) return fallback;
  if (text === "true" || text === "") return true;
  if (text === "false") return false;
  throw new UsageError(`--${name}=${text} must be true or false`);
}

/** --wait alone means true; parseArgs cannot take an optional value, so "--wait" is rewritten first. */
function normalize(args: string[]): string[] {
  return args.map((a) => a === "--wait" ? "--wait=true" : a);
}

async function withRuntime(flags: Flags, output: Output, fn: (rt: Runtime) => Promise<void>): Promise<void> {
  const rt = await openRuntime({
    connect: flags.connect as string | undefined,
    context: flags.context as string | undefined,
    output,
  });
  try {
    await fn(rt);
  } finally {
    await rt.close();
  }
}

const APPLY_TIMEOUT_MS = 10 * 60_000;

/** Runs the CLI with arguments; returns the exit code. Never exits the process itself. */
export async function main(argv: string[], output: Output = stdOutput()): Promise<number> {
  const [word, ...rest] = argv;
  try {
    if (!word || word === "--help" || word === "-h") {
      output.out(HELP);
      return 0;
    }
    if (word === "--version") {
      output.out(`lv ${VERSION}\n`);
      return 0;
    }
    if (!(word in FLAGS)) {
      throw new UsageError(`unknown command "${word}"`, "run 'lv help' for the list of commands");
    }
    const command = word as Command;
    const dashes = rest.indexOf("--");
    const after = dashes >= 0 ? rest.slice(dashes + 1) : [];
    const { flags, positionals } = parse(command, normalize(dashes >= 0 ? rest.slice(0, dashes) : rest));
    if (flags.help || command === "help") {
      output.out(command === "help" ? (positionals[0] ? usage(positionals[0]) : HELP) : usage(command));
      return 0;
    }
    const namespace = flags["all-namespaces"] ? undefined : (flags.namespace as string | undefined);
    switch (command) {
      case "version":
        output.out(`lv ${VERSION} (deno ${Deno.version.deno}, ${Deno.build.target})\n`);
        await withRuntime(flags, output, async (rt) => {
          try {
            output.out(`libvirt ${rt.libvirt.uri}: ${(await rt.libvirt.version()).split("\n").join("; ")}\n`);
          } catch (e) {
            output.out(`libvirt ${rt.libvirt.uri}: not reachable (${(e as Error).message})\n`);
          }
        });
        return 0;
      case "explain": {
        const { explain } = await import("../api/schema.ts");
        if (positionals.length !== 1) {
          throw new UsageError(
            "explain takes one KIND[.field.path]",
            "e.g. lv explain domain.spec.interfaces",
          );
        }
        try {
          output.out(explain(positionals[0]));
        } catch (e) {
          const kind = positionals[0].split(".")[0];
          throw new UsageError((e as Error).message, `lv explain ${kind} lists its fields`);
        }
        return 0;
      }
      case "schema": {
        const { jsonSchema } = await import("../api/schema.ts");
        output.out(
          JSON.stringify(
            positionals[0]
              ? jsonSchema(positionals[0])
              : Object.fromEntries(KINDS.map((k) => [k, jsonSchema(k)])),
            null,
            2,
          ) + "\n",
        );
        return 0;
      }
      case "apply": {
        const { apply } = await import("./apply.ts");
        await withRuntime(flags, output, (rt) =>
          apply(rt, {
            files: (flags.filename as string[] | undefined) ?? [],
            wait: bool(flags, "wait", true),
            timeoutMs: duration(flags, "timeout", APPLY_TIMEOUT_MS),
          }));
        return 0;
      }
      case "delete": {
        const { deleteObjects } = await import("./delete.ts");
        const { loadManifests } = await import("./manifests.ts");
        await withRuntime(flags, output, async (rt) => {
          const files = (flags.filename as string[] | undefined) ?? [];
          if (files.length > 0 && positionals.length > 0) {
            throw new UsageError("give either -f FILE or KIND NAME, not both");
          }
          const keys = files.length > 0
            ? (await loadManifests(files, rt.store, { checkContexts: false })).map(keyOf)
            : parseTargets(positionals, { requireNames: true }).flatMap((t) =>
              t.names.map((name) => ({ kind: t.kind, namespace: namespace ?? "default", name }))
            );
          await deleteObjects(rt, keys, {
            wait: bool(flags, "wait", true),
            timeoutMs: duration(flags, "timeout", APPLY_TIMEOUT_MS),
            ignoreNotFound: !!flags["ignore-not-found"],
          });
        });
        return 0;
      }
      case "get": {
        const format = (flags.output as string | undefined) ?? "table";
        if (!OUTPUT_FORMATS.includes(format as OutputFormat)) {
          throw new UsageError(
            `-o ${format} is not an output format`,
            `use one of: ${OUTPUT_FORMATS.join(", ")}`,
          );
        }
        const targets = parseTargets(positionals);
        const { get } = await import("./get.ts");
        await withRuntime(flags, output, (rt) =>
          get(rt, targets, {
            output: format as OutputFormat,
            labels: parseSelector(flags.selector as string | undefined),
            namespace: flags["all-namespaces"] ? undefined : namespace ?? "default",
            allContexts: !!flags["all-namespaces"],
          }));
        return 0;
      }
      case "describe": {
        const targets = parseTargets(positionals);
        const { describe } = await import("./describe.ts");
        await withRuntime(flags, output, (rt) => describe(rt, targets, namespace ?? "default"));
        return 0;
      }
      case "wait": {
        const { parseWaitFor, wait } = await import("./wait.ts");
        const forWhat = parseWaitFor(flags.for as string | undefined);
        const keys = parseTargets(positionals, { requireNames: true }).flatMap((t) =>
          t.names.map((name) => ({ kind: t.kind, namespace: namespace ?? "default", name }))
        );
        await withRuntime(flags, output, (rt) => wait(rt, keys, forWhat, duration(flags, "timeout", 30_000)));
        return 0;
      }
      case "controller": {
        const { runController } = await import("./controller.ts");
        await withRuntime(flags, output, (rt) =>
          runController(rt, {
            resyncMs: duration(flags, "resync", 30_000),
            workers: Number(flags.workers ?? 4) || 4,
          }));
        return 0;
      }
      case "doctor":
        await withRuntime(flags, output, (await import("./doctor.ts")).doctor);
        return 0;
      case "up":
      case "halt":
      case "suspend":
      case "resume":
      case "reload":
      case "provision":
      case "rsync": {
        if (positionals.length === 0) throw new UsageError(`no domain named`, `e.g. lv ${command} web`);
        const { request, setState, VERB_STATES } = await import("./verbs.ts");
        const options = {
          wait: bool(flags, "wait", true),
          timeoutMs: duration(flags, "timeout", APPLY_TIMEOUT_MS),
          namespace: namespace ?? "default",
        };
        await withRuntime(
          flags,
          output,
          (rt) =>
            command in VERB_STATES
              ? setState(rt, command, positionals, options)
              : request(rt, command, positionals, options),
        );
        return 0;
      }
      case "ssh": {
        if (positionals.length !== 1) {
          throw new UsageError("lv ssh takes one domain name", "e.g. lv ssh web -- uname -a");
        }
        let code = 0;
        const { ssh } = await import("./ssh.ts");
        await withRuntime(flags, output, async (rt) => {
          code = await ssh(rt, positionals[0], namespace ?? "default", after);
        });
        return code;
      }
      case "ssh-config": {
        if (positionals.length === 0) {
          throw new UsageError("no domain named", "e.g. lv ssh-config web >> ~/.ssh/config");
        }
        const { sshConfig } = await import("./ssh.ts");
        await withRuntime(flags, output, (rt) => sshConfig(rt, positionals, namespace ?? "default"));
        return 0;
      }
      case "snapshot": {
        const { snapshot } = await import("./snapshot.ts");
        await withRuntime(flags, output, (rt) => snapshot(rt, positionals, namespace ?? "default"));
        return 0;
      }
      case "box": {
        const { boxCommand } = await import("./box_command.ts");
        await withRuntime(flags, output, (rt) =>
          boxCommand(rt, positionals[0], {
            output: flags.output as string | undefined,
            allContexts: !!flags["all-contexts"],
            dryRun: !!flags["dry-run"],
            timeoutMs: duration(flags, "timeout", APPLY_TIMEOUT_MS),
            args: positionals.slice(1),
            version: flags.version as string | undefined,
            namespace,
          }));
        return 0;
      }
      case "config": {
        const { configCommand } = await import("./config_cmd.ts");
        let store: SqliteStore | undefined;
        try {
          await configCommand({
            sub: positionals[0] ?? "",
            name: positionals[1],
            flags: flags as Record<string, string | boolean | undefined>,
            readStdin: () => new Response(Deno.stdin.readable).text(),
            store: () => store ??= new SqliteStore(storePath(lvHome())),
          }, output);
        } finally {
          store?.close();
        }
        return 0;
      }
    }
    return 0;
  } catch (e) {
    return report(e, output);
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
  if (e instanceof UsageError) {
    output.err(`error: ${e.message}\n${e.hint ? `hint: ${e.hint}\n` : ""}`);
    return 2;
  }
  if (e instanceof CommandFailed || e instanceof VirshError || e instanceof ConflictError) {
    output.err(`error: ${e.message}\n`);
    return 1;
  }
  output.err(`error: ${e instanceof Error ? e.message : String(e)}\n`);
  if (Deno.env.get("LV_DEBUG") && e instanceof Error) output.err(`${e.stack}\n`);
  return 1;
}
