/** lv console NAME: the domain's serial console through `virsh console` (Ctrl-] leaves it). */
import type { Domain } from "../api/types.ts";
import { CommandFailed } from "./errors.ts";
import type { Runtime } from "./runtime.ts";

/** The argv of `virsh console` for a domain; `--force` takes the console over from another client. */
export function consoleArgs(connectUri: string, name: string, options: { force?: boolean } = {}): string[] {
  return ["-c", connectUri, "console", name, ...(options.force ? ["--force"] : [])];
}

/** Attaches this terminal to the serial console of domain `name`; returns virsh's exit code. */
export async function domainConsole(
  rt: Runtime,
  name: string,
  options: { namespace: string; force?: boolean },
): Promise<number> {
  const dom = await rt.store.get({ kind: "Domain", namespace: options.namespace, name }) as
    | Domain
    | undefined;
  if (!dom) throw new CommandFailed(`domain/${name} not found`);
  const { state } = await rt.libvirtFor(dom).domState(name);
  if (state !== "running" && state !== "paused") {
    throw new CommandFailed(
      `domain/${name} is ${state}: start it first (lv up ${name}); lv logs ${name} shows what it printed`,
    );
  }
  if (Deno.stdin.isTerminal()) {
    rt.output.err(`Connected to domain/${name}; escape character is ^] (Ctrl-])\n`);
  }
  const child = new Deno.Command("virsh", {
    args: consoleArgs(rt.virshUriFor(dom), name, { force: options.force }),
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
    env: { LC_ALL: "C" },
  }).spawn();
  return (await child.status).code;
}
