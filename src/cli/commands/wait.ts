/** lv wait KIND/NAME --for=...: block until a condition holds or the objects are gone. */
import { defineCommand } from "../command.ts";
import { parseTargets } from "../targets.ts";

export const waitCommand = defineCommand({
  name: "wait",
  summary: "block until a condition holds (or --for=delete)",
  synopsis: ["KIND/NAME --for=condition=Ready"],
  usage: [
    "wait KIND/NAME... --for=condition=NAME[=True|False] [--timeout=30s]",
    "wait KIND/NAME... --for=jsonpath='{.status.phase}'=Ready",
    "wait KIND/NAME... --for=delete",
  ],
  description:
    `Blocks until the condition holds for the current generation of every object; exit 1 on timeout.
Runs the controllers meanwhile when no 'lv controller' is running.`,
  args: [{ name: "KIND/NAME", kind: "resource", repeatable: true }],
  flags: {
    for: {
      type: "string",
      value: "WHAT",
      kind: "condition",
      description: "condition=NAME[=True|False], jsonpath='{PATH}'[=VALUE], or delete",
    },
    timeout: { type: "duration", default: "30s", description: "give up after this long: exit 1" },
  },
  examples: [
    "lv wait domain/web --for=condition=Ready",
    "lv wait domain/web --for=jsonpath='{.status.phase}'=Running",
    "lv wait dom/web --for=delete --timeout=2m",
  ],
  async run({ flags, args, withRuntime }) {
    const { parseWaitFor, wait } = await import("../wait.ts");
    const forWhat = parseWaitFor(flags.for);
    const keys = parseTargets(args, { requireNames: true }).flatMap((t) =>
      t.names.map((name) => ({ kind: t.kind, namespace: flags.namespace, name }))
    );
    await withRuntime((rt) => wait(rt, keys, forWhat, flags.timeout));
  },
});
