/** lv box list|prune: base volumes of boxes per pool and what uses them; remove unused ones. */
import { defineCommand } from "../command.ts";

export const boxCommand = defineCommand({
  name: "box",
  summary: "base volumes of boxes and what uses them; remove unused ones",
  synopsis: ["list|prune"],
  usage: ["box list [-o table|wide|json] [-A]", "box prune [--dry-run] [--timeout=10m] [-A]"],
  description:
    `Boxes are uploaded once per pool as base volumes (box-NAME, box-NAME-2, ... for a box with several disks)
and shared by the copy-on-write Volumes made on them.

list    every Box's base volumes, per pool: size, format, and what uses them (USED-BY: lv's Volumes,
        Domains whose overlay is still to be made, and any other volume libvirt says is backed by it),
        then box-* volumes in those pools that no Box owns (BOX <none>: orphans)
prune   deletes the Boxes nothing uses (their volumes with them, waiting like lv delete) and the orphaned
        box volumes nothing uses; prints what it removed. --dry-run prints the same and removes nothing.
        A volume named like a Box's that lv did not make (NameConflict) is never removed.

Pools looked at: "default" and every pool a Box, Volume or Domain names, on the selected context; with
-A, on every context the store's objects live on.`,
  subcommands: [
    { name: "list", summary: "every Box's base volumes per pool and what uses them; orphans" },
    { name: "prune", summary: "delete the Boxes and orphaned box volumes nothing uses" },
  ],
  flags: {
    "all-contexts": { type: "boolean", short: "A", description: "every context the store's objects live on" },
    output: {
      of: "list",
      type: "string",
      short: "o",
      choices: ["table", "wide", "json"],
      value: "FORMAT",
      kind: "choice",
      description: "output format",
    },
    "dry-run": { of: "prune", type: "boolean", description: "print what would be removed; remove nothing" },
    timeout: {
      of: "prune",
      type: "duration",
      default: "10m",
      description: "give up waiting after this long",
    },
  },
  examples: ["lv box list -o wide", "lv box prune --dry-run"],
  async run({ flags, args, withRuntime }) {
    const { boxCommand } = await import("../box.ts");
    await withRuntime((rt) =>
      boxCommand(rt, args[0], {
        output: flags.output,
        allContexts: flags["all-contexts"],
        dryRun: flags["dry-run"],
        timeoutMs: flags.timeout,
      })
    );
  },
});
