/** Errors the CLI entry turns into exit codes: usage 2, runtime 1. */

/** Bad arguments or invalid input: exit 2 with a one-line hint. */
export class UsageError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Input files that failed validation: every problem is printed, exit 2. */
export class InvalidInputError extends Error {
  constructor(readonly lines: string[]) {
    super(`${lines.length} problem${lines.length === 1 ? "" : "s"} found; nothing was applied`);
    this.name = "InvalidInputError";
  }
}

/** The command ran but did not achieve what it was asked (timeout, a failed resource): exit 1. */
export class CommandFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CommandFailed";
  }
}
