/** Too many arguments for a command is a usage error (exit 2), not something silently ignored. */
import type { ArgSpec, Command } from "./command.ts";
import { UsageError } from "./errors.ts";

function most(args: readonly ArgSpec[] | undefined): number {
  if (!args) return 0;
  return args.some((a) => a.repeatable) ? Infinity : args.length;
}

/** Throws when `args` holds more positional arguments than the command (or its subcommand) declares. */
export function checkArgCount(command: Command, args: readonly string[]): void {
  const sub = command.subcommands?.find((s) => s.name === args[0]);
  const limit = command.subcommands ? 1 + most(sub?.args) : most(command.args);
  if (args.length <= limit) return;
  const what = sub ? `lv ${command.name} ${sub.name}` : `lv ${command.name}`;
  const extra = args.slice(limit).map((a) => JSON.stringify(a)).join(" ");
  throw new UsageError(
    limit === 0 || (sub && limit === 1)
      ? `${what} takes no arguments (got ${extra})`
      : `too many arguments for ${what}: ${extra}`,
    `see 'lv ${command.name} --help'`,
  );
}
