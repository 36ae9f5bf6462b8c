/** -f FILE and -R: the flags of every command that reads manifests the way apply does. */
import type { FlagSpec } from "../command.ts";

/** `what`: what -f names ("manifest file, directory or -"). */
export function filenameFlags(what: string) {
  return {
    filename: {
      type: "string",
      short: "f",
      value: "FILE",
      kind: "file",
      repeatable: true,
      description: what,
    },
    recursive: { type: "boolean", short: "R", description: "read directories given with -f recursively" },
  } as const satisfies Record<string, FlagSpec>;
}
