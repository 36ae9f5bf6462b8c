/** lv apply -f FILE: validate, merge (three-way), write, converge until Ready. */
import { defineCommand } from "../command.ts";
import { filenameFlags } from "./filename_flags.ts";
import { waitFlags } from "./wait_flags.ts";

export const applyCommand = defineCommand({
  name: "apply",
  summary: "create or update resources, then converge until Ready",
  synopsis: ["-f FILE"],
  usage: [
    "apply -f FILE [-f FILE...] [-R] [--dry-run=client|server] [--restart] [--force] [--wait=false] [--timeout=10m]",
    "apply FILE...",
  ],
  description:
    `Validates every document of every file first (nothing is written if any is invalid), then creates or
updates each resource and prints KIND/NAME created|configured|unchanged. An update is a three-way merge
of what the file said last time (annotation lv.dev/last-applied), the file now and the stored object: a
field the file sets wins, a field removed from the file goes back to its default, a field the file never
set (lv halt's state, lv edit's changes) is kept. Immutable fields (lv explain says which) are refused
unless --force. Unless --wait=false, runs the controllers (or lets a running 'lv controller' do it) until
every applied resource is Ready, printing progress on stderr. FILE may be a directory (its *.yaml, *.yml
and *.json files), - for stdin, or the List 'lv get -o yaml' prints; files may also be given without -f.`,
  args: [{ name: "FILE", kind: "file", optional: true, repeatable: true }],
  flags: {
    ...filenameFlags("manifest file, directory or -"),
    "dry-run": {
      type: "string",
      value: "MODE",
      kind: "choice",
      choices: ["none", "client", "server"],
      description: "client: only parse and validate (no store, no libvirt); server: also merge against the " +
        "store and check references; both write nothing",
    },
    restart: {
      type: "boolean",
      description: "also restart the running domains of these files that need it: a change of this apply " +
        "that takes effect at the next boot, or one still pending (RestartRequired), and wait for the " +
        "restarts; no other domain",
    },
    force: {
      type: "boolean",
      description: "replace (delete, then create) objects whose immutable fields change",
    },
    ...waitFlags("only write; do not wait for Ready"),
  },
  examples: [
    "lv apply -f examples/basic.yaml",
    "lv apply -f machines/ -R --wait=false",
    "lv apply -f web.yaml --dry-run=client",
    "lv get domains -o yaml | lv apply -f -",
  ],
  async run({ flags, args, output, withRuntime }) {
    const { apply, applyClientDryRun, dryRunMode } = await import("../apply.ts");
    const dryRun = dryRunMode(flags["dry-run"]);
    const files = [...flags.filename, ...args];
    if (dryRun === "client") return await applyClientDryRun(files, { output, recursive: flags.recursive });
    await withRuntime((rt) =>
      apply(rt, {
        files,
        recursive: flags.recursive,
        dryRun,
        restart: flags.restart,
        force: flags.force,
        wait: flags.wait,
        timeoutMs: flags.timeout,
      })
    );
  },
});
