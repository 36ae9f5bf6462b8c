/** lv edit KIND NAME: edit a stored object in an editor, validated on save. */
import { defineCommand } from "../command.ts";
import { UsageError } from "../errors.ts";
import { parseTargets } from "../targets.ts";
import { waitFlags } from "./wait_flags.ts";

export const editCommand = defineCommand({
  name: "edit",
  summary: "edit a resource in $EDITOR; validated on save",
  synopsis: ["KIND NAME"],
  usage: ["edit KIND NAME [--wait=false] [--timeout=10m]", "edit KIND/NAME"],
  description:
    `Opens the object as YAML in $LV_EDITOR, $VISUAL, $EDITOR or vi. On save it is validated (problems name
the edited file's line and field); an invalid edit reopens with the problems as comments at the top; an
unchanged or empty file changes nothing. Immutable fields cannot change. The edit replaces labels,
annotations and spec; a later 'lv apply' keeps the edited fields its file does not set. Then waits until
the object is Ready, like apply.`,
  args: [{ name: "KIND", kind: "kind" }, { name: "NAME", kind: "resource", optional: true }],
  flags: { ...waitFlags("only write; do not wait for Ready") },
  examples: ["lv edit domain web", "EDITOR=nano lv edit network/lan"],
  async run({ flags, args, withRuntime }) {
    const targets = parseTargets(args, { requireNames: true });
    if (targets.length !== 1 || targets[0].names.length !== 1) {
      throw new UsageError("lv edit takes one object", "e.g. lv edit domain web");
    }
    const { edit } = await import("../edit.ts");
    const key = { kind: targets[0].kind, namespace: flags.namespace, name: targets[0].names[0] };
    await withRuntime((rt) => edit(rt, key, { wait: flags.wait, timeoutMs: flags.timeout }));
  },
});
