/** lv destroy NAME: Vagrant's word for deleting a Domain (and the volumes it owns); asks unless -f. */
import { defineCommand } from "../command.ts";
import { CommandFailed, UsageError } from "../errors.ts";
import { waitFlags } from "./wait_flags.ts";

export const destroyCommand = defineCommand({
  name: "destroy",
  summary: "delete domains, as vagrant destroy does (asks unless -f)",
  synopsis: ["NAME"],
  usage: ["destroy NAME... [-f] [--wait=false] [--timeout=10m]"],
  description:
    `Deletes each Domain and what it owns, like lv delete domain NAME. Asks for confirmation on the terminal
unless -f; without a terminal (a script, a pipe) it refuses unless -f is given.`,
  args: [{ name: "NAME", kind: "domain", repeatable: true }],
  flags: {
    force: { type: "boolean", short: "f", default: false, description: "do not ask" },
    ...waitFlags("do not wait"),
  },
  examples: ["lv destroy web", "lv destroy -f web db"],
  async run({ flags, args, output, withRuntime }) {
    if (args.length === 0) throw new UsageError("no domain named", "e.g. lv destroy web");
    if (!flags.force) {
      const { confirm } = await import("../confirm.ts");
      const yes = await confirm(`Destroy domain ${args.join(", ")} and the volumes it owns?`);
      if (yes === undefined) {
        throw new UsageError(
          "lv destroy asks before deleting, and stdin is not a terminal",
          `to destroy without asking: lv destroy -f ${args.join(" ")}`,
        );
      }
      if (!yes) {
        output.err("Nothing destroyed.\n");
        throw new CommandFailed("not confirmed");
      }
    }
    const { deleteObjects } = await import("../delete.ts");
    const keys = args.map((name) => ({ kind: "Domain" as const, namespace: flags.namespace, name }));
    await withRuntime((rt) =>
      deleteObjects(rt, keys, { wait: flags.wait, timeoutMs: flags.timeout, ignoreNotFound: false })
    );
  },
});
