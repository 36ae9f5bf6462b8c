/**
 * Where each command's declaration lives, by name: the CLI entry loads only the one a command line names
 * (bench item 8: loading all of them cost about as much as Deno's own start). The whole table (commands.ts)
 * loads for help, completion and an unknown word. cli_commands_test checks this list against COMMANDS.
 * Import specifiers are string literals, so `deno compile` and `deno bundle` still see every module.
 */
import type { Command } from "./command.ts";

type Loader = () => Promise<Command>;

/** The verb of verbs.ts named `name`. */
function verb(name: string): Loader {
  return async () => (await import("./commands/verbs.ts")).verbCommands.find((c) => c.name === name)!;
}

/** From the whole table (help needs every declaration anyway). */
function fromTable(name: string): Loader {
  return async () => (await import("./commands.ts")).findCommand(name);
}

export const COMMAND_LOADERS: Readonly<Record<string, Loader>> = {
  apply: async () => (await import("./commands/apply.ts")).applyCommand,
  diff: async () => (await import("./commands/diff.ts")).diffCommand,
  edit: async () => (await import("./commands/edit.ts")).editCommand,
  get: async () => (await import("./commands/get.ts")).getCommand,
  describe: async () => (await import("./commands/describe.ts")).describeCommand,
  delete: async () => (await import("./commands/delete.ts")).deleteCommand,
  wait: async () => (await import("./commands/wait.ts")).waitCommand,
  up: verb("up"),
  halt: verb("halt"),
  suspend: verb("suspend"),
  resume: verb("resume"),
  reload: verb("reload"),
  provision: verb("provision"),
  rsync: verb("rsync"),
  destroy: async () => (await import("./commands/destroy.ts")).destroyCommand,
  status: async () => (await import("./commands/status.ts")).statusCommand,
  ssh: async () => (await import("./commands/ssh.ts")).sshCommand,
  "ssh-config": async () => (await import("./commands/ssh.ts")).sshConfigCommand,
  "port-forward": async () => (await import("./commands/port_forward.ts")).portForwardCommand,
  cp: async () => (await import("./commands/cp.ts")).cpCommand,
  console: async () => (await import("./commands/console.ts")).consoleCommand,
  logs: async () => (await import("./commands/console.ts")).logsCommand,
  snapshot: async () => (await import("./commands/snapshot.ts")).snapshotCommand,
  config: async () => (await import("./commands/config.ts")).configCommand,
  box: async () => (await import("./commands/box.ts")).boxCommand,
  controller: async () => (await import("./commands/controller.ts")).controllerCommand,
  store: async () => (await import("./commands/store.ts")).storeCommand,
  doctor: async () => (await import("./commands/doctor.ts")).doctorCommand,
  explain: async () => (await import("./commands/explain.ts")).explainCommand,
  schema: async () => (await import("./commands/explain.ts")).schemaCommand,
  crds: async () => (await import("./commands/store.ts")).crdsCommand,
  completion: async () => (await import("./commands/completion.ts")).completionCommand,
  version: async () => (await import("./commands/version.ts")).versionCommand,
  help: fromTable("help"),
};

/** The command `word` names, loading only its declaration; an unknown word is looked up in the whole table. */
export async function loadCommand(word: string): Promise<Command> {
  const load = Object.hasOwn(COMMAND_LOADERS, word) ? COMMAND_LOADERS[word] : fromTable(word);
  return await load();
}
