/** lv apply -f FILE: validate, write, converge until Ready. */
import { defineCommand } from "../command.ts";
import { filenameFlags } from "./filename_flags.ts";
import { waitFlags } from "./wait_flags.ts";

export const applyCommand = defineCommand({
  name: "apply",
  summary: "create or update resources, then converge until Ready",
  synopsis: ["-f FILE"],
  usage: ["apply -f FILE [-f FILE...] [--wait=false] [--timeout=10m]", "apply FILE..."],
  description:
    `Validates every document of every file first (nothing is written if any is invalid), then creates or
updates each resource and prints KIND/NAME created|configured|unchanged. Unless --wait=false, runs the
controllers (or lets a running 'lv controller' do it) until every applied resource is Ready, printing
progress on stderr. FILE may be a directory (its *.yaml files) or - for stdin; files may also be given
without -f.`,
  args: [{ name: "FILE", kind: "file", optional: true, repeatable: true }],
  flags: {
    ...filenameFlags("manifest file, directory or -"),
    ...waitFlags("only write; do not wait for Ready"),
  },
  examples: ["lv apply -f examples/basic.yaml", "lv apply -f machines/ --wait=false"],
  async run({ flags, args, withRuntime }) {
    const { apply } = await import("../apply.ts");
    const files = [...flags.filename, ...args];
    await withRuntime((rt) => apply(rt, { files, wait: flags.wait, timeoutMs: flags.timeout }));
  },
});
