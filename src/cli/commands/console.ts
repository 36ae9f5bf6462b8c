/** lv console NAME and lv logs NAME [-f]: a domain's serial console, live and as logged since boot. */
import { defineCommand } from "../command.ts";
import { UsageError } from "../errors.ts";

export const consoleCommand = defineCommand({
  name: "console",
  summary: "the domain's serial console (Ctrl-] leaves it)",
  synopsis: ["NAME"],
  usage: ["console NAME [--force]"],
  description:
    `Attaches this terminal to the domain's serial console (virsh console on the domain's connection);
Ctrl-] leaves it. The domain must be running; lv logs NAME shows what it printed before.`,
  args: [{ name: "NAME", kind: "domain" }],
  flags: {
    force: { type: "boolean", description: "take the console over from another client" },
  },
  examples: ["lv console web"],
  async run({ flags, args, withRuntime }) {
    if (args.length !== 1) throw new UsageError("lv console takes one domain name", "e.g. lv console web");
    const { domainConsole } = await import("../console.ts");
    return await withRuntime((rt) =>
      domainConsole(rt, args[0], { namespace: flags.namespace, force: flags.force === true })
    );
  },
});

export const logsCommand = defineCommand({
  name: "logs",
  summary: "what the domain printed on its serial console since boot",
  synopsis: ["NAME [-f]"],
  usage: ["logs NAME [-f]"],
  description:
    `Prints what the domain printed on its serial console (firmware, boot loader, kernel, login prompt) from
the log file libvirt keeps per domain, also when SSH never came up. -f keeps printing what is appended
until Ctrl-C.`,
  args: [{ name: "NAME", kind: "domain" }],
  flags: {
    follow: { type: "boolean", short: "f", description: "keep printing what is appended" },
  },
  examples: ["lv logs web", "lv logs web -f"],
  async run({ flags, args, withRuntime }) {
    if (args.length !== 1) throw new UsageError("lv logs takes one domain name", "e.g. lv logs web");
    const { domainLogs } = await import("../logs.ts");
    const follow = flags.follow === true;
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    if (follow) Deno.addSignalListener("SIGINT", onSignal);
    try {
      await withRuntime((rt) =>
        domainLogs(rt, args[0], { namespace: flags.namespace, follow, signal: stop.signal })
      );
    } finally {
      if (follow) Deno.removeSignalListener("SIGINT", onSignal);
    }
  },
});
