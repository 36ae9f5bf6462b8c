/**
 * Every command of lv, in the order `lv help` and the README list them. A new command: a declaration in
 * src/cli/commands/ (see command.ts), added here and in command_loaders.ts, then `deno task readme`.
 */
import { closest } from "../api/problem.ts";
import { type Command, defineCommand } from "./command.ts";
import { applyCommand } from "./commands/apply.ts";
import { boxCommand } from "./commands/box.ts";
import { completionCommand } from "./commands/completion.ts";
import { configCommand } from "./commands/config.ts";
import { consoleCommand, logsCommand } from "./commands/console.ts";
import { controllerCommand } from "./commands/controller.ts";
import { deleteCommand } from "./commands/delete.ts";
import { diffCommand } from "./commands/diff.ts";
import { editCommand } from "./commands/edit.ts";
import { describeCommand } from "./commands/describe.ts";
import { destroyCommand } from "./commands/destroy.ts";
import { doctorCommand } from "./commands/doctor.ts";
import { explainCommand, schemaCommand } from "./commands/explain.ts";
import { getCommand } from "./commands/get.ts";
import { sshCommand, sshConfigCommand } from "./commands/ssh.ts";
import { portForwardCommand } from "./commands/port_forward.ts";
import { cpCommand } from "./commands/cp.ts";
import { snapshotCommand } from "./commands/snapshot.ts";
import { statusCommand } from "./commands/status.ts";
import { verbCommands } from "./commands/verbs.ts";
import { waitCommand } from "./commands/wait.ts";
import { crdsCommand, storeCommand } from "./commands/store.ts";
import { versionCommand } from "./commands/version.ts";
import { UsageError } from "./errors.ts";
import { helpText, usageText } from "./help.ts";

export { VERSION } from "./version.ts";

const helpCommand = defineCommand({
  name: "help",
  summary: "show help",
  synopsis: ["[COMMAND]"],
  usage: ["help [COMMAND]", "COMMAND --help"],
  description: "Lists the commands, or shows one command's usage, flags and examples.",
  args: [{ name: "COMMAND", kind: "command", optional: true }],
  flags: {},
  examples: ["lv help apply"],
  run({ args, output }) {
    output.out(args[0] ? usageText(findCommand(args[0], "no help for")) : helpText(COMMANDS));
    return Promise.resolve();
  },
});

export const COMMANDS: readonly Command[] = [
  applyCommand,
  diffCommand,
  editCommand,
  getCommand,
  describeCommand,
  deleteCommand,
  waitCommand,
  ...verbCommands,
  destroyCommand,
  statusCommand,
  sshCommand,
  sshConfigCommand,
  portForwardCommand,
  cpCommand,
  consoleCommand,
  logsCommand,
  snapshotCommand,
  configCommand,
  boxCommand,
  controllerCommand,
  storeCommand,
  doctorCommand,
  explainCommand,
  schemaCommand,
  crdsCommand,
  completionCommand,
  versionCommand,
  helpCommand,
];

/** The command named (or aliased) `word`; a usage error saying `what` ("unknown command") otherwise. */
export function findCommand(word: string, what = "unknown command"): Command {
  const found = COMMANDS.find((c) => c.name === word || c.aliases?.includes(word));
  if (found) return found;
  const near = closest(word, COMMANDS.flatMap((c) => [c.name, ...c.aliases ?? []]));
  throw new UsageError(
    `${what} "${word}"`,
    `${near ? `did you mean 'lv ${near}'? ` : ""}run 'lv help' for the list of commands`,
  );
}
