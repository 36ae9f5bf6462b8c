/** lv diff -f FILE: what apply would change, and its effect in libvirt. */
import { defineCommand } from "../command.ts";
import { filenameFlags } from "./filename_flags.ts";

export const diffCommand = defineCommand({
  name: "diff",
  summary: "what apply would change, and its effect in libvirt (exit 1 when something would)",
  synopsis: ["-f FILE"],
  usage: ["diff -f FILE [-f FILE...] [-R]"],
  description:
    `For each object of the files, a unified diff of the stored object against what 'lv apply' would store
(status and lv's own metadata left out) and, for Domains, Networks and Volumes, the effect in libvirt of
each changed field: applied live, at the next boot (RestartRequired), or refused (immutable: delete and
re-create, or apply --force). Writes nothing. Exit 0 when nothing would change, 1 when something would,
2 on bad input.`,
  flags: { ...filenameFlags("manifest file, directory or -") },
  examples: ["lv diff -f examples/basic.yaml", "lv diff -f web.yaml && echo in sync"],
  async run({ flags, withRuntime }) {
    const { diff } = await import("../diff.ts");
    let changed = false;
    await withRuntime(async (rt) => {
      changed = await diff(rt, { files: flags.filename, recursive: flags.recursive });
    });
    return changed ? 1 : 0;
  },
});
