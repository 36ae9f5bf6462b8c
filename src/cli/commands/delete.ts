/** lv delete -f FILE | KIND NAME: delete and wait until libvirt is clean. */
import { keyOf } from "../../store/store.ts";
import { defineCommand } from "../command.ts";
import { UsageError } from "../errors.ts";
import { parseSelector, parseTargets } from "../targets.ts";
import { filenameFlags } from "./filename_flags.ts";
import { waitFlags } from "./wait_flags.ts";

export const deleteCommand = defineCommand({
  name: "delete",
  summary: "delete resources and what they own; waits until libvirt is clean",
  synopsis: ["-f FILE", "KIND NAME"],
  usage: [
    "delete -f FILE | KIND NAME... | KIND/NAME... [--wait=false] [--timeout=10m]",
    "delete KIND -l SELECTOR | KIND --all",
  ],
  description:
    `Marks the resources for deletion, then (unless --wait=false) runs the controllers until they and the
objects they own are gone from the store and libvirt, and prints KIND/NAME deleted.`,
  args: [{ name: "KIND", kind: "kind", optional: true }, {
    name: "NAME",
    kind: "resource",
    optional: true,
    repeatable: true,
  }],
  flags: {
    ...filenameFlags("delete what FILE declares"),
    selector: {
      type: "string",
      short: "l",
      value: "SEL",
      kind: "selector",
      description: "every object of KIND whose labels match (key=value, key!=value, key in (a,b), key, !key)",
    },
    all: { type: "boolean", default: false, description: "every object of KIND in the namespace" },
    "ignore-not-found": {
      type: "boolean",
      default: false,
      description: "a missing resource is not an error",
    },
    ...waitFlags("do not wait"),
  },
  examples: ["lv delete -f examples/basic.yaml", "lv delete domain web", "lv delete vm -l app=web"],
  async run({ flags, args, withRuntime }) {
    const { deleteObjects } = await import("../delete.ts");
    const { loadManifests } = await import("../manifests.ts");
    const { findTargets } = await import("../get.ts");
    const selector = parseSelector(flags.selector);
    const some = selector !== undefined || flags.all;
    if (some && (flags.filename.length > 0 || args.length !== 1)) {
      throw new UsageError(`-l and --all take one KIND and no names`, "e.g. lv delete domains -l app=web");
    }
    await withRuntime(async (rt) => {
      const files = flags.filename;
      if (files.length > 0 && args.length > 0) {
        throw new UsageError("give either -f FILE or KIND NAME, not both");
      }
      const keys = files.length > 0
        ? (await loadManifests(files, rt.store, { checkContexts: false, recursive: flags.recursive })).map(
          keyOf,
        )
        : some
        ? (await findTargets(rt, parseTargets(args), { selector, namespace: flags.namespace })).groups
          .flatMap((g) => g.objects.map(keyOf))
        : parseTargets(args, { requireNames: true }).flatMap((t) =>
          t.names.map((name) => ({ kind: t.kind, namespace: flags.namespace, name }))
        );
      if (some && keys.length === 0) return rt.output.err("No resources matched.\n");
      await deleteObjects(rt, keys, {
        wait: flags.wait,
        timeoutMs: flags.timeout,
        ignoreNotFound: flags["ignore-not-found"],
      });
    });
  },
});
