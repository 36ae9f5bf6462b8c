/** lv get KIND [NAME]: tables, YAML, JSON. */
import { defineCommand } from "../command.ts";
import { UsageError } from "../errors.ts";
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
    "get events [--for KIND/NAME] [-w]",
  ],
  description: `KIND: boxes, volumes, networks, domains (also box, vol, net, dom, vm), or all. -w prints the
listing, then each change as it happens; lv get events lists every object's events, newest last.`,
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
    watch: {
      type: "boolean",
      short: "w",
      default: false,
      description: "after the listing, print each change as it happens (until interrupted)",
    },
    "watch-only": {
      type: "boolean",
      default: false,
      description: "print only the changes, not the listing first",
    },
    for: {
      type: "string",
      value: "KIND/NAME",
      kind: "resource",
      description: "with lv get events: only this object's events",
    },
  },
  examples: [
    "lv get domains",
    "lv get dom,net -o wide",
    "lv get domain/web -o yaml",
    "lv get vm -l 'app=web,tier notin (db)' -A",
    "lv get all",
    "lv get vm -w",
    "lv get events --for domain/web -w",
    "lv get vm -o jsonpath='{.items[*].metadata.name}'",
    "lv get vm -o custom-columns=NAME:.metadata.name,IP:.status.ip --sort-by=.status.ip",
  ],
  async run({ flags, args, withStore }) {
    if (["events", "event", "ev"].includes(args[0] ?? "")) {
      if (args.length > 1) throw new UsageError("lv get events takes no names", "use --for KIND/NAME");
      const forKey = flags.for ? parseTargets([flags.for], { requireNames: true })[0] : undefined;
      const { events } = await import("../events.ts");
      const all = flags["all-namespaces"];
      return await withStore((rt) =>
        events(rt, {
          namespace: all ? undefined : flags.namespace,
          for: forKey && { kind: forKey.kind, namespace: flags.namespace, name: forKey.names[0] },
          watch: flags.watch || flags["watch-only"],
          noHeaders: flags["no-headers"],
        })
      );
    }
    if (flags.for) throw new UsageError("--for is a flag of lv get events");
    const { parseOutput } = await import("../output_format.ts");
    const output = await parseOutput(flags.output);
    const targets = parseTargets(args);
    const selector = parseSelector(flags.selector);
    const { get } = await import("../get.ts");
    const all = flags["all-namespaces"];
    const options = {
      output,
      selector,
      namespace: all ? undefined : flags.namespace,
      allContexts: all,
      sortBy: flags["sort-by"],
      labelColumns: flags["label-columns"].flatMap((k) => k.split(",")).filter((k) => k),
      showLabels: flags["show-labels"],
      noHeaders: flags["no-headers"],
    };
    await withStore((rt) =>
      flags.watch || flags["watch-only"]
        ? import("../get_watch.ts").then(({ watch }) =>
          watch(rt, targets, { ...options, watchOnly: flags["watch-only"] })
        )
        : get(rt, targets, options)
    );
  },
});
