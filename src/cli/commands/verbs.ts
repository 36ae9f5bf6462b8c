/**
 * Vagrant's verbs: up, halt, suspend, resume set spec.state; reload, provision, rsync request work the
 * controller carries out. Each waits (unless --wait=false) until it is done.
 */
import { type Command, defineCommand } from "../command.ts";
import { checkSelection, SELECTION_FLAGS, selectNames } from "../domain_selection.ts";
import { waitFlags } from "./wait_flags.ts";

interface Verb {
  name: string;
  summary: string;
  description: string;
  listedWith?: string;
}

const VERBS: Verb[] = [
  {
    name: "up",
    summary: "set a domain's state (Running, Stopped, Paused) and wait for it",
    description: "Sets spec.state to Running, syncs rsync folders again, and waits until the guest is Ready.",
  },
  {
    name: "halt",
    listedWith: "up",
    summary: "shut a domain down (ACPI, then power off) and wait until it is off",
    description: "Sets spec.state to Stopped: ACPI shutdown, power off after gracefulHaltTimeout.",
  },
  {
    name: "suspend",
    listedWith: "up",
    summary: "pause a domain and wait until it is paused",
    description: "Sets spec.state to Paused (virsh suspend).",
  },
  {
    name: "resume",
    listedWith: "up",
    summary: "run a paused domain again and wait until it runs",
    description: "Sets spec.state to Running from Paused (virsh resume).",
  },
  {
    name: "reload",
    summary: "stop and start a domain, sync folders, run the run: always provisioners again",
    description: "Stops and starts the domain so changes that need a boot apply, then syncs folders again " +
      "and runs the provisioners with run: always (lv provision runs every one).",
  },
  {
    name: "provision",
    summary: "run the domain's provisioners again",
    description: "Runs every provisioner again (run: once ones too), streaming their output.",
  },
  {
    name: "rsync",
    summary: "sync the domain's rsync folders again (--watch: after every change)",
    description:
      "Copies every rsync synced folder to the guest again. With --watch, then watches the folders' " +
      "host directories and copies again after each change (debounced), until Ctrl-C.",
  },
];

/** lv rsync's --watch (Vagrant's rsync-auto). */
const WATCH_FLAG = {
  watch: { type: "boolean", default: false, description: "then sync again after every change, until Ctrl-C" },
} as const;

function verbCommand(verb: Verb): Command {
  return defineCommand({
    ...verb,
    synopsis: ["NAME"],
    usage: [
      `${verb.name} NAME... [--wait=false] [--timeout=10m]${verb.name === "rsync" ? " [--watch]" : ""}`,
      `${verb.name} -l SELECTOR | -f FILE | --all`,
    ],
    args: [{ name: "NAME", kind: "domain", optional: true, repeatable: true }],
    flags: {
      ...SELECTION_FLAGS,
      ...waitFlags("only record the request; do not wait"),
      ...(verb.name === "rsync" ? WATCH_FLAG : {}),
    },
    examples: [
      `lv ${verb.name} web`,
      `lv ${verb.name} -l app=web`,
      `lv ${verb.name} -f examples/basic.yaml`,
      ...(verb.name === "rsync" ? ["lv rsync web --watch"] : []),
    ],
    async run({ flags, args, output, withRuntime }) {
      const selection = { names: args, selector: flags.selector, files: flags.filename, all: flags.all };
      checkSelection(selection, `lv ${verb.name} web`);
      const { request, setState, VERB_STATES } = await import("../verbs.ts");
      const options = { wait: flags.wait, timeoutMs: flags.timeout, namespace: flags.namespace };
      await withRuntime(async (rt) => {
        if (verb.name === "up" && selection.files.length > 0) {
          // vagrant up: create what the file declares, then bring its domains up
          const { apply } = await import("../apply.ts");
          await apply(rt, { files: selection.files, wait: false, timeoutMs: flags.timeout });
        }
        const names = await selectNames(rt, "Domain", selection, flags.namespace);
        if (names.length === 0) return output.err("No domains matched.\n");
        if ((flags as { watch?: boolean }).watch) {
          const { watchRsync } = await import("../rsync_watch.ts");
          return await watchRsync(rt, names, options);
        }
        await (verb.name in VERB_STATES ? setState : request)(rt, verb.name, names, options);
      });
    },
  });
}

export const verbCommands: Command[] = VERBS.map(verbCommand);
