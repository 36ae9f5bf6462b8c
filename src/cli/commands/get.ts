/** lv get KIND [NAME]: tables, YAML, JSON. */
import { defineCommand } from "../command.ts";
import { OUTPUT_FORMS } from "../printers.ts";
import { parseSelector, parseTargets } from "../targets.ts";

export const getCommand = defineCommand({
  name: "get",
  summary: "list resources (-o table|wide|yaml|json|name, -l key=value)",
  synopsis: ["KIND [NAME]"],
  usage: [
    "get KIND[,KIND...] [NAME...] [-o FORMAT] [-l SELECTOR] [-A] [--sort-by=JSONPATH] [-L KEY] [--show-labels]",
    "get KIND/NAME...",
    "get all",
  ],
  description: "KIND: boxes, volumes, networks, domains (also box, vol, net, dom, vm), or all.",
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
      value: "FORMAT",
      kind: "choice",
      choices: OUTPUT_FORMS,
      description:
        "output format: table, wide, yaml, json, name, jsonpath=TEMPLATE, custom-columns=HEADER:PATH,...",
    },
    selector: {
      type: "string",
      short: "l",
      value: "SEL",
      kind: "selector",
      description: "only objects whose labels match: key=value, key!=value, key in (a,b), key notin (a,b), " +
        "key, !key, joined by commas",
    },
    "all-namespaces": {
      type: "boolean",
      short: "A",
      description: "list every namespace and context (NAMESPACE and CONTEXT columns); without it, only the " +
        "selected context's objects",
    },
    "sort-by": {
      type: "string",
      value: "JSONPATH",
      kind: "text",
      description: "order by this field, e.g. .metadata.name",
    },
    "label-columns": {
      type: "string",
      short: "L",
      value: "KEY",
      kind: "text",
      repeatable: true,
      description: "a column with each object's value of this label (several: -L a,b or -L a -L b)",
    },
    "show-labels": { type: "boolean", description: "a LABELS column with every label" },
    "no-headers": { type: "boolean", description: "no header line in tables" },
  },
  examples: [
    "lv get domains",
    "lv get dom,net -o wide",
    "lv get domain/web -o yaml",
    "lv get vm -l 'app=web,tier notin (db)' -A",
    "lv get all",
    "lv get vm -o jsonpath='{.items[*].metadata.name}'",
    "lv get vm -o custom-columns=NAME:.metadata.name,IP:.status.ip --sort-by=.status.ip",
  ],
  async run({ flags, args, withRuntime }) {
    const { parseOutput } = await import("../output_format.ts");
    const output = parseOutput(flags.output);
    const targets = parseTargets(args);
    const selector = parseSelector(flags.selector);
    const { get } = await import("../get.ts");
    const all = flags["all-namespaces"];
    await withRuntime((rt) =>
      get(rt, targets, {
        output,
        selector,
        namespace: all ? undefined : flags.namespace,
        allContexts: all,
        sortBy: flags["sort-by"],
        labelColumns: flags["label-columns"].flatMap((k) => k.split(",")).filter((k) => k),
        showLabels: flags["show-labels"],
        noHeaders: flags["no-headers"],
      })
    );
  },
});
