/**
 * `lv __complete WORD... CURRENT`: the candidates for the last (partial) word, one per line, computed from
 * the command declarations (commands, subcommands, flags, choices, kinds) and the store (object names) and
 * the config file (contexts). The shell scripts of `lv completion` call it; `:file` asks the shell for paths.
 */
import { type ArgSpec, type Command, flagsOf, type FlagSpec, type ValueKind } from "./command.ts";
import { COMMANDS } from "./commands.ts";
import { KIND_WORDS, kindFromWord } from "./kinds.ts";
import { openStoreRuntime } from "./store_runtime.ts";

/** Ask the shell to complete file names. */
export const FILE_MARK = ":file";

function flagByWord(flags: Record<string, FlagSpec>, word: string): FlagSpec | undefined {
  const long = word.match(/^--([^=]+)$/);
  if (long) return flags[long[1]];
  const short = word.match(/^-([^-])$/);
  return short ? Object.values(flags).find((f) => f.short === short[1]) : undefined;
}

/** The positionals typed so far (flags and their values skipped). */
function positionals(flags: Record<string, FlagSpec>, words: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const flag = words[i].startsWith("-") ? flagByWord(flags, words[i]) : undefined;
    if (words[i].startsWith("-")) {
      if (flag && flag.type !== "boolean" && !words[i].includes("=")) i++;
    } else out.push(words[i]);
  }
  return out;
}

async function names(kind: ValueKind, typed: string[], namespace: string): Promise<string[]> {
  const kindWord = kind === "domain" ? "domain" : typed[0];
  const k = kindWord ? kindFromWord(kindWord) : undefined;
  if (!k) return [];
  const rt = await openStoreRuntime({ output: { out: () => {}, err: () => {} } });
  try {
    return (await rt.store.list(k, { namespace })).map((o) => o.metadata.name);
  } finally {
    await rt.close();
  }
}

async function values(kind: ValueKind | undefined, choices: readonly string[] | undefined, typed: string[]) {
  if (choices) return [...choices];
  switch (kind) {
    case "kind":
      return [...KIND_WORDS, "all"];
    case "command":
      return COMMANDS.map((c) => c.name);
    case "file":
      return [FILE_MARK];
    case "context": {
      const { readConfig } = await import("./selected_connection.ts");
      const { configPath } = await import("../config/config.ts");
      return (await readConfig(configPath())).contexts.map((c) => c.name);
    }
    case "domain":
    case "resource":
    case "snapshot":
      return kind === "snapshot" ? [] : await names(kind, typed, "default");
    default:
      return [];
  }
}

function argAt(command: Command, typed: string[]): ArgSpec | "subcommand" | undefined {
  if (command.subcommands) {
    if (typed.length === 0) return "subcommand";
    return command.subcommands.find((s) => s.name === typed[0])?.args?.[typed.length - 1];
  }
  const args = command.args ?? [];
  return args[typed.length] ?? (args.at(-1)?.repeatable ? args.at(-1) : undefined);
}

/** The candidates for `words`' last word, given the words before it (without the leading `lv`). */
export async function complete(words: string[]): Promise<string[]> {
  const current = words.at(-1) ?? "";
  const before = words.slice(0, -1);
  const commandAt = before.findIndex((w, i) =>
    !w.startsWith("-") && !(i > 0 && /^(--context|--connect|--namespace|-n|--output|-o)$/.test(before[i - 1]))
  );
  const command = commandAt >= 0 ? COMMANDS.find((c) => c.name === before[commandAt]) : undefined;
  let candidates: string[];
  if (commandAt < 0) {
    candidates = current.startsWith("-")
      ? ["--context", "--connect", "--namespace", "--help", "--version"]
      : COMMANDS
        .flatMap((c) => [c.name, ...c.aliases ?? []]);
  } else if (!command) return [];
  else {
    const flags = flagsOf(command);
    const previous = flagByWord(flags, before.at(-1) ?? "");
    const rest = before.slice(commandAt + 1);
    if (previous && previous.type !== "boolean" && !(before.at(-1) ?? "").includes("=")) {
      candidates = await values(previous.kind, previous.choices, positionals(flags, rest));
    } else if (current.startsWith("-")) {
      candidates = Object.entries(flags).map(([name]) => `--${name}`);
    } else {
      const typed = positionals(flags, rest);
      const arg = argAt(command, typed);
      candidates = arg === "subcommand"
        ? command.subcommands!.map((s) => s.name)
        : arg
        ? await values(arg.kind, arg.choices, command.subcommands ? typed.slice(1) : typed)
        : [];
    }
  }
  return candidates.filter((c) => c === FILE_MARK || c.startsWith(current));
}
