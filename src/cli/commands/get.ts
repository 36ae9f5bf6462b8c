/** lv get KIND [NAME]: tables, YAML, JSON. */
import { defineCommand } from "../command.ts";
import { UsageError } from "../errors.ts";
import { OUTPUT_FORMATS, type OutputFormat } from "../printers.ts";
import { parseSelector, parseTargets } from "../targets.ts";

export const getCommand = defineCommand({
  name: "get",
  summary: "list resources (-o table|wide|yaml|json|name, -l key=value)",
  synopsis: ["KIND [NAME]"],
  usage: ["get KIND[,KIND...] [NAME...] [-o FORMAT] [-l key=value] [-A]", "get KIND/NAME..."],
  description: "KIND: boxes, volumes, networks, domains (also box, vol, net, dom, vm).",
  args: [{ name: "KIND", kind: "kind" }, {
    name: "NAME",
    kind: "resource",
    optional: true,
    repeatable: true,
  }],
  flags: {
    output: {
      type: "string",
      short: "o",
      default: "table",
      choices: OUTPUT_FORMATS,
      value: "FORMAT",
      kind: "choice",
      description: "output format",
    },
    selector: {
      type: "string",
      short: "l",
      value: "SEL",
      kind: "selector",
      description: "only objects with these labels: key=value[,key=value]",
    },
    "all-namespaces": {
      type: "boolean",
      short: "A",
      description: "list every namespace and context (NAMESPACE and CONTEXT columns); without it, only the " +
        "selected context's objects",
    },
  },
  examples: [
    "lv get domains",
    "lv get dom,net -o wide",
    "lv get domain/web -o yaml",
    "lv get vm -l app=web -A",
  ],
  async run({ flags, args, withRuntime }) {
    if (!OUTPUT_FORMATS.includes(flags.output as OutputFormat)) {
      throw new UsageError(
        `-o ${flags.output} is not an output format`,
        `use one of: ${OUTPUT_FORMATS.join(", ")}`,
      );
    }
    const targets = parseTargets(args);
    const { get } = await import("../get.ts");
    const all = flags["all-namespaces"];
    await withRuntime((rt) =>
      get(rt, targets, {
        output: flags.output as OutputFormat,
        labels: parseSelector(flags.selector),
        namespace: all ? undefined : flags.namespace,
        allContexts: all,
      })
    );
  },
});
