/** Helpers for tests that drive the real lv CLI against the lab's real libvirtd. */
import { fileURLToPath } from "node:url";
import { parseDuration } from "../../src/cli/duration.ts";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Fails (never skips) when the tests do not run inside scripts/lab.sh. */
export function requireLab(): void {
  if (!Deno.env.get("LV_LAB")) {
    throw new Error(
      "integration and end-to-end tests need a private libvirtd: run them with `deno task test` (scripts/lab.sh)",
    );
  }
}

/** The test box's directory (scripts/build_test_box.sh, via scripts/test.sh); fails (never skips) without it. */
export function testBoxDir(): string {
  const dir = Deno.env.get("LV_TEST_BOX_DIR");
  if (!dir) {
    throw new Error("LV_TEST_BOX_DIR is not set: run the tests with `deno task test` (it builds the box)");
  }
  Deno.statSync(`${dir}/debian12.box`);
  return dir;
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** How long a command may run in a test when the caller names no limit. */
export const RUN_TIMEOUT_MS = 15 * 60_000;

/**
 * Runs a command and collects its output. Never hangs a test: a command still running after `timeoutMs`
 * (default {@linkcode RUN_TIMEOUT_MS}) is killed with everything it started, and one that exited while a
 * process it started still holds its output open is reported; either way the error shows the output so
 * far and the processes involved.
 */
export async function run(
  cmd: string,
  args: string[],
  options: {
    env?: Record<string, string>;
    stdin?: string;
    cwd?: string;
    timeoutMs?: number;
    /** How long its output may stay open after it exited. Default 20 s. */
    pipeGraceMs?: number;
  } = {},
): Promise<Run> {
  const child = new Deno.Command(cmd, {
    args,
    env: options.env,
    cwd: options.cwd,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = { stdout: "", stderr: "" };
  const collect = async (stream: ReadableStream<Uint8Array>, into: "stdout" | "stderr") => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) out[into] += chunk;
  };
  const pipes = Promise.all([collect(child.stdout, "stdout"), collect(child.stderr, "stderr")]);
  if (options.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(options.stdin));
    await w.close();
  }
  const what = [cmd, ...args].join(" ");
  const limit = options.timeoutMs ?? RUN_TIMEOUT_MS;
  const status = await within(child.status, limit);
  if (!status) {
    const tree = descendants(child.pid);
    for (const p of [child.pid, ...tree.map((t) => t.pid)]) {
      try {
        Deno.kill(p, "SIGKILL");
      } catch { /* gone */ }
    }
    await within(pipes, 5_000);
    throw new Error(
      `${what}: still running after ${limit / 1000}s; killed it and what it started:\n` +
        `${tree.map((t) => `  ${t.pid} ${t.args}`).join("\n") || "  (no child processes)"}\n` +
        `stdout so far:\n${out.stdout}\nstderr so far:\n${out.stderr}`,
    );
  }
  const grace = options.pipeGraceMs ?? 20_000;
  if (!await within(pipes, grace)) {
    throw new Error(
      `${what}: exited ${status.code}, but a process it started still holds its output open after ${
        grace / 1000
      } s\n` +
        `stdout:\n${out.stdout}\nstderr:\n${out.stderr}`,
    );
  }
  return { code: status.code, ...out };
}

/** `p`'s value, or undefined when it does not settle within `ms`. */
async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([p, new Promise<undefined>((r) => timer = setTimeout(() => r(undefined), ms))]);
  } finally {
    clearTimeout(timer);
  }
}

/** The processes under `pid` (children, their children, ...), from /proc. */
function descendants(pid: number): { pid: number; args: string }[] {
  const parent = new Map<number, number>();
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      parent.set(Number(e.name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch { /* gone */ }
  }
  const found: { pid: number; args: string }[] = [];
  const walk = (p: number) => {
    for (const [child, ppid] of parent) {
      if (ppid !== p) continue;
      let args = "";
      try {
        args = Deno.readTextFileSync(`/proc/${child}/cmdline`).replaceAll("\0", " ").trim();
      } catch { /* gone */ }
      found.push({ pid: child, args });
      walk(child);
    }
  };
  walk(pid);
  return found;
}

/** An lv home (store, caches) of the test's own, and a way to run lv with it. */
export class Lv {
  readonly home: string;
  readonly virshLog: string;
  readonly env: Record<string, string>;
  /** A command lv runs under, e.g. ["ip", "netns", "exec", NS] (another machine's network). */
  prefix: string[] = [];
  /** `env`: more environment for lv (its own LV_HOME and LV_VIRSH_LOG are always set). */
  constructor(env: (home: string) => Record<string, string> = () => ({})) {
    this.home = Deno.makeTempDirSync({ prefix: "lv-test-" });
    this.virshLog = `${this.home}/virsh.log`;
    this.env = env(this.home);
  }

  /** Runs lv; one that outlives its own --timeout by 3 minutes (or runs 15 without one) is killed and fails. */
  async run(args: string[], options: { stdin?: string; cwd?: string } = {}): Promise<Run> {
    const argv = [...this.prefix, Deno.execPath(), "run", "-A", `${ROOT}mod.ts`, ...args];
    const own = args.map((a) => a.match(/^--timeout=(.+)$/)?.[1]).find((t) => t !== undefined);
    return await run(argv[0], argv.slice(1), {
      env: { ...this.env, LV_HOME: this.home, LV_VIRSH_LOG: this.virshLog },
      stdin: options.stdin,
      cwd: options.cwd ?? ROOT,
      timeoutMs: own === undefined ? RUN_TIMEOUT_MS : (parseDuration(own) ?? 0) + 3 * 60_000,
    });
  }

  /** Runs lv and fails the test with lv's output when the exit code is not `code`. */
  async ok(args: string[], options: { stdin?: string; code?: number } = {}): Promise<Run> {
    const r = await this.run(args, options);
    if (r.code !== (options.code ?? 0)) {
      throw new Error(
        `lv ${args.join(" ")} exited ${r.code}, expected ${options.code ?? 0}\n${r.stdout}\n${r.stderr}`,
      );
    }
    return r;
  }

  /** virsh commands lv ran since the last call (from LV_VIRSH_LOG). */
  virshCalls(): string[][] {
    let text = "";
    try {
      text = Deno.readTextFileSync(this.virshLog);
      Deno.removeSync(this.virshLog);
    } catch { /* none yet */ }
    return text.split("\n").filter((l) => l).map((l) => JSON.parse(l));
  }

  cleanup(): void {
    Deno.removeSync(this.home, { recursive: true });
  }
}

export async function virsh(...args: string[]): Promise<string> {
  const r = await run("virsh", ["-q", "-c", "qemu:///system", ...args]);
  if (r.code !== 0) throw new Error(`virsh ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** Names virsh lists (domains, networks or volumes of a pool). */
export async function virshNames(what: "domains" | "networks" | "volumes"): Promise<string[]> {
  const out = what === "domains"
    ? await virsh("list", "--all", "--name")
    : what === "networks"
    ? await virsh("net-list", "--all", "--name")
    : await virsh("vol-list", "--pool", "default").catch(() => "");
  return out.split("\n").map((l) => l.trim().split(/\s+/)[0]).filter((n) => n).sort();
}

/** Polls `check` until it returns true; fails with `what` after timeoutMs. */
export async function waitFor(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs / 1000}s waiting until ${what}`);
}

/** Commands that change libvirt (everything but reads). */
export function mutating(calls: string[][]): string[][] {
  const reads =
    /^(version|capabilities|domcapabilities|pool-dumpxml|pool-info|vol-dumpxml|vol-list|vol-path|vol-info|vol-download|net-dumpxml|net-info|net-dhcp-leases|dumpxml|domstate|domifaddr|list|net-list|pool-list|snapshot-list|snapshot-dumpxml|nodedev-list|nodedev-dumpxml)$/;
  return calls.filter((c) => !reads.test(c[0]));
}

/** A Domain with no disk and no guest to talk to (communicator: none): boots in the lab in a second. */
export function disklessDomain(name: string): string {
  return `apiVersion: lv.dev/v1alpha1
kind: Domain
metadata:
  name: ${name}
spec:
  communicator: none
  driver: qemu
  memory: 128
  gracefulHaltTimeout: 1
`;
}

/** Whether anything is at `path` (a file, directory or /proc entry). */
export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
