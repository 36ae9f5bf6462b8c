/** Flags several commands declare alike: -f FILE, and --wait/--timeout of commands that change and wait. */
import type { FlagSpec } from "../command.ts";

/** -f, --filename FILE (repeatable); `does`: what the files are for ("manifest file, directory or -"). */
export function filenameFlag(does: string) {
  return {
    filename: {
      type: "string",
      short: "f",
      value: "FILE",
      kind: "file",
      repeatable: true,
      description: does,
    },
  } as const satisfies Record<string, FlagSpec>;
}

/** `noWait`: what --wait=false does instead ("only write; do not wait for Ready"). */
export function waitFlags(noWait: string) {
  return {
    wait: { type: "boolean", default: true, description: noWait },
    timeout: { type: "duration", default: "10m", description: "give up waiting after this long" },
  } as const satisfies Record<string, FlagSpec>;
}
