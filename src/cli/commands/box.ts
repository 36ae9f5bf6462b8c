/**
 * lv box list|prune: base volumes of boxes per pool and what uses them; remove unused ones. lv box
 * add|outdated|update: Vagrant catalog boxes fetched ahead, checked for and moved to newer versions.
 */
import { defineCommand } from "../command.ts";

export const boxCommand = defineCommand({
  name: "box",
  summary: "base volumes of boxes and what uses them; remove unused ones; catalog box versions",
  synopsis: ["list|prune|add|outdated|update"],
  usage: [
    "box list [-o table|wide|json] [-A]",
    "box prune [--dry-run] [--timeout=10m] [-A]",
    "box add USER/NAME|URL [--version CONSTRAINT]",
    "box outdated",
    "box update NAME [--timeout=10m]",
  ],
  description:
    `Boxes are uploaded once per pool as base volumes (box-NAME, box-NAME-2, ... for a box with several disks)
and shared by the copy-on-write Volumes made on them.

list    every Box's base volumes, per pool: size, format, and what uses them (USED-BY: lv's Volumes,
        Domains whose overlay is still to be made, and any other volume libvirt says is backed by it),
        then box-* volumes in those pools that no Box owns (BOX <none>: orphans)
prune   deletes the Boxes nothing uses (their volumes with them, waiting like lv delete) and the orphaned
        box volumes nothing uses; prints what it removed. --dry-run prints the same and removes nothing.
        A volume named like a Box's that lv did not make (NameConflict) is never removed.
add     resolves a Vagrant catalog box (USER/NAME at $LV_BOX_SERVER_URL, the config file's boxServerUrl or
        Vagrant's public catalog; or a metadata JSON URL) to the newest version matching --version
        (1.2.3, ">= 4.0, < 5.0", "~> 4.3") with a libvirt provider for this host, or takes a .box URL, and
        downloads it into lv's cache with a progress bar: a Box using it later needs no download.
outdated  the Boxes from a catalog whose spec.version now matches a newer version than the one they use.
update  moves a Box to that version, uploaded as box-NAME-vVERSION; Volumes made before keep the old base
        volume, which stays while they use it (an orphan in lv box list); lv box prune removes it after.

Pools looked at: "default" and every pool a Box, Volume or Domain names, on the selected context; with
-A, on every context the store's objects live on.`,
  subcommands: [
    { name: "list", summary: "every Box's base volumes per pool and what uses them; orphans" },
    { name: "prune", summary: "delete the Boxes and orphaned box volumes nothing uses" },
    {
      name: "add",
      summary: "download a catalog box (USER/NAME) or .box URL into lv's cache ahead of time",
      args: [{ name: "USER/NAME|URL", kind: "text" }],
    },
    { name: "outdated", summary: "the catalog Boxes whose constraint matches a newer version" },
    {
      name: "update",
      summary: "move a catalog Box to the newest version its constraint matches",
      args: [{ name: "NAME", kind: "text" }],
    },
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
      type: "duration",
      default: "10m",
      description: "prune, update: give up waiting after this long",
    },
    version: {
      of: "add",
      type: "string",
      value: "CONSTRAINT",
      description: 'Vagrant version constraint: "1.2.3", ">= 4.0, < 5.0", "~> 4.3"',
    },
  },
  examples: [
    "lv box list -o wide",
    "lv box prune --dry-run",
    "lv box add generic/debian12 --version '~> 4.3'",
    "lv box outdated",
    "lv box update debian",
  ],
  async run({ flags, args, withRuntime }) {
    const { boxCommand } = await import("../box_command.ts");
    await withRuntime((rt) =>
      boxCommand(rt, args[0], {
        output: flags.output,
        allContexts: flags["all-contexts"],
        dryRun: flags["dry-run"],
        timeoutMs: flags.timeout,
        args: args.slice(1),
        version: flags.version,
        namespace: flags.namespace,
      })
    );
  },
});
