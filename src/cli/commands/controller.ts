/** lv controller: run the controllers until stopped. */
import { defineCommand } from "../command.ts";
import { UsageError } from "../errors.ts";

export const controllerCommand = defineCommand({
  name: "controller",
  summary: "run the controllers until stopped (heals drift)",
  usage: ["controller [--resync=30s] [--workers=4]"],
  description:
    `Runs the controllers until SIGINT or SIGTERM. Every object is reconciled again every --resync, so
changes made behind lv's back (a destroyed domain, a stopped network) are repaired. While it runs,
'lv apply' only writes and waits.`,
  flags: {
    resync: { type: "duration", default: "30s", description: "reconcile every object again this often" },
    workers: { type: "integer", default: "4", description: "objects reconciled at once" },
  },
  examples: ["lv controller --resync=1m"],
  async run({ flags, withRuntime }) {
    if (flags.workers < 1) throw new UsageError(`--workers=${flags.workers} must be at least 1`);
    const { runController } = await import("../controller.ts");
    await withRuntime((rt) => runController(rt, { resyncMs: flags.resync, workers: flags.workers }));
  },
});
