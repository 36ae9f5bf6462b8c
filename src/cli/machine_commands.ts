/** The hook main.ts calls for lv console and lv logs. */
import { domainConsole } from "./console.ts";
import { domainLogs } from "./logs.ts";
import type { Runtime } from "./runtime.ts";

/** Runs `lv console NAME` or `lv logs NAME`; returns the exit code. */
export async function machineCommand(
  rt: Runtime,
  command: "console" | "logs",
  name: string,
  options: { namespace: string; flags: Record<string, unknown> },
): Promise<number> {
  if (command === "console") {
    return await domainConsole(rt, name, {
      namespace: options.namespace,
      force: options.flags.force === true,
    });
  }
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  const follow = options.flags.follow === true;
  if (follow) Deno.addSignalListener("SIGINT", onSignal);
  try {
    await domainLogs(rt, name, { namespace: options.namespace, follow, signal: stop.signal });
  } finally {
    if (follow) Deno.removeSignalListener("SIGINT", onSignal);
  }
  return 0;
}
