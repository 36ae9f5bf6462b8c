/** --wait and --timeout: the flags of every command that changes something and then waits for it. */
import type { FlagSpec } from "../command.ts";

/** `noWait`: what --wait=false does instead ("only write; do not wait for Ready"). */
export function waitFlags(noWait: string) {
  return {
    wait: { type: "boolean", default: true, description: noWait },
    timeout: { type: "duration", default: "10m", description: "give up waiting after this long" },
  } as const satisfies Record<string, FlagSpec>;
}
