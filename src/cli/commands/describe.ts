/** lv describe KIND NAME: an object with its conditions and events. */
import { defineCommand } from "../command.ts";
import { parseTargets } from "../targets.ts";

export const describeCommand = defineCommand({
  name: "describe",
  summary: "show a resource with its conditions and events",
  synopsis: ["KIND NAME"],
  usage: ["describe KIND [NAME...] | KIND/NAME..."],
  description: "Shows metadata, spec, status, conditions and the recent events of each object.",
  args: [{ name: "KIND", kind: "kind" }, {
    name: "NAME",
    kind: "resource",
    optional: true,
    repeatable: true,
  }],
  flags: {},
  examples: ["lv describe domain web"],
  async run({ flags, args, withRuntime }) {
    const targets = parseTargets(args);
    const { describe } = await import("../describe.ts");
    await withRuntime((rt) => describe(rt, targets, flags.namespace));
  },
});
