/**
 * Forwarder processes for real: lv starts itself (`lv port-forward --supervised UID`, the config on stdin),
 * detached (its own session: a Ctrl-C of the lv that started it does not reach it), and waits for its one
 * line on stdout saying it listens or why it cannot.
 */
import { within } from "../../api/within.ts";
import { existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ForwarderConfig, ForwarderProcesses } from "./forwarder_supervisor.ts";

/** The flag that makes `lv port-forward` the supervised forwarder. */
export const SUPERVISED_FLAG = "--supervised";

/** How long a forwarder may take to start listening (a deno run compiles lv first). */
const START_TIMEOUT_MS = 60_000;

/** The command line that runs this lv again: the binary itself, or deno running the same main module. */
export function selfCommand(): string[] {
  const exe = Deno.execPath();
  if (!/^deno(\.exe)?$/.test(basename(exe))) return [exe];
  const main = fileURLToPath(Deno.mainModule);
  const config = join(dirname(main), "deno.json");
  return [exe, "run", "-A", ...(existsSync(config) ? ["--config", config] : []), main];
}

/** The forwarder's answer on stdout: it listens, or it cannot (and has exited). */
export type ForwarderAnswer = { listening: true } | { listening: false; error: string; reason: string };

/** A forwarder could not start; `reason` is PortInUse when a host port is taken. */
export class ForwarderStartError extends Error {
  constructor(readonly reason: string, message: string) {
    super(message);
    this.name = "ForwarderStartError";
  }
}

function procState(pid: number): { cmdline: string[]; zombie: boolean } | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    const cmdline = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");
    return { cmdline, zombie: state === "Z" || state === "X" };
  } catch {
    return undefined;
  }
}

async function readAnswer(stdout: ReadableStream<Uint8Array>): Promise<ForwarderAnswer | undefined> {
  const reader = stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const read = (async () => {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    return text;
  })();
  try {
    const line = await within(read, START_TIMEOUT_MS, undefined);
    return line ? JSON.parse(line.split("\n")[0]) as ForwarderAnswer : undefined;
  } catch {
    return undefined;
  } finally {
    reader.cancel().catch(() => {});
  }
}

/** Whether `pid` is the forwarder of `uid` and runs (not a zombie, not a pid reused by another program). */
function alive(pid: number, uid: string): boolean {
  const p = procState(pid);
  return !!p && !p.zombie && p.cmdline.includes(SUPERVISED_FLAG) && p.cmdline.includes(uid);
}

/**
 * Waits until `pid` has exited (gone, or a zombie: its sockets are closed then), up to `ms`; whether it did.
 * Not `alive()`: an exiting process's cmdline reads empty before its files are closed.
 */
async function gone(pid: number, ms: number): Promise<boolean> {
  const exited = () => {
    const p = procState(pid);
    return !p || p.zombie;
  };
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (exited()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return exited();
}

/** Forwarders run by `command` (default {@linkcode selfCommand}: this lv) with `port-forward --supervised UID`. */
export function selfProcesses(command?: string[]): ForwarderProcesses {
  return {
    start: (config) => start(command ?? selfCommand(), config),
    alive,
    async stop(pid: number, uid: string): Promise<void> {
      if (!alive(pid, uid)) return;
      Deno.kill(pid, "SIGTERM");
      if (await gone(pid, 5_000)) return;
      Deno.kill(pid, "SIGKILL");
      await gone(pid, 5_000);
    },
  };
}

/** This lv's forwarders. */
export const SELF_PROCESSES: ForwarderProcesses = selfProcesses();

async function start(command: string[], config: ForwarderConfig): Promise<number> {
  const [cmd, ...args] = command;
  const child = new Deno.Command(cmd, {
    args: [...args, "port-forward", SUPERVISED_FLAG, config.uid],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
    detached: true,
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(config) + "\n"));
  await writer.close();
  child.status.catch(() => {}); // reaped when it ends, whoever ends it
  const answer = await readAnswer(child.stdout);
  if (answer?.listening) {
    child.unref();
    return child.pid;
  }
  try {
    child.kill("SIGKILL");
  } catch { /* exited */ }
  await child.status;
  if (!answer) {
    throw new ForwarderStartError("ForwarderFailed", `the port forwarder of ${config.name} did not start`);
  }
  throw new ForwarderStartError(answer.reason, answer.error);
}
