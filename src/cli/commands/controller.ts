/** lv controller: run the controllers until stopped, holding one lease per context. */
import { defineCommand } from "../command.ts";
import { UsageError } from "../errors.ts";

export const controllerCommand = defineCommand({
  name: "controller",
  summary: "run the controllers until stopped (heals drift); one lease per context",
  usage: ["controller [--context NAME]... [--all-contexts] [--resync=30s] [--workers=4] [--lease-ttl=15s]"],
  description:
    `Runs the controllers until SIGINT or SIGTERM. Every object is reconciled again every --resync, so
changes made behind lv's back (a destroyed domain, a stopped network) are repaired.
It holds a lease in the store for each context it drives (--context, repeatable; default and
--all-contexts: every context of the config file and the objects without one). A second controller for
a context stands by and takes over within --lease-ttl when the holder dies. While a context's lease is
held, 'lv apply' from any workstation sharing the store only writes and waits for that controller.`,
  flags: {
    context: {
      type: "string",
      repeatable: true,
      value: "NAME",
      kind: "context",
      description: "a context to drive (repeatable); default every one",
    },
    "all-contexts": {
      type: "boolean",
      description: "drive every context of the config file, and objects without one",
    },
    resync: { type: "duration", default: "30s", description: "reconcile every object again this often" },
    workers: { type: "integer", default: "4", description: "objects reconciled at once" },
    "lease-ttl": {
      type: "duration",
      default: "15s",
      description: "how long a context's lease outlives this process's last renewal",
    },
  },
  examples: ["lv controller --resync=1m", "lv controller --context hv1 --context hv2"],
  async run({ flags, withRuntime }) {
    if (flags.workers < 1) throw new UsageError(`--workers=${flags.workers} must be at least 1`);
    // Declared here as a list; the common --context (one name) is replaced for this command.
    const listed = flags.context as unknown as string[];
    const contexts = listed.length > 0 ? listed : undefined;
    if (contexts && flags["all-contexts"]) throw new UsageError("give --context or --all-contexts, not both");
    const { runController } = await import("../controller.ts");
    await withRuntime((rt) =>
      runController(rt, {
        resyncMs: flags.resync,
        workers: flags.workers,
        contexts,
        leaseTtlMs: flags["lease-ttl"],
      })
    );
  },
});
