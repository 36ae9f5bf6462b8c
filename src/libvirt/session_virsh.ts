/**
 * Long-lived `virsh` processes fed commands on stdin. A process per command costs ~20 ms locally (process
 * start and connect) and ~140 ms over qemu+ssh even through lv's ssh ControlMaster; a command in a running
 * session costs what libvirtd takes to answer: ~1 ms locally, ~1.6 ms over ssh (bench/session.ts).
 *
 * How a session is driven (libvirt 9.0's virsh, checked by tests/unit/session_virsh_test.ts against `virsh`
 * run with an argv):
 *
 * - `virsh -q -c URI` with stdin not a terminal reads commands with readline and echoes each one after a
 *   "virsh # " prompt on stdout. With COLUMNS large and INPUTRC=/dev/null the echo is exactly
 *   "virsh # " + line + "\n" (a line wider than the screen would be echoed with line-wrapping codes), so
 *   it is checked and dropped. readline acts on control characters (TAB completes, ^A moves the cursor, ...):
 *   only printable ASCII goes through a session.
 * - virsh's shell splits a line like a POSIX shell: inside '...' every character is literal, and outside
 *   quotes \' is a quote. Every argument is sent as '...' with ' written '\'', so the words virsh sees are
 *   the argv exactly (comments, ';', '"' and '\' inside quotes are literal).
 * - Framing: after the command the session runs `echo --err 'lv-NONCE' N` and `echo 'lv-NONCE' N`; the
 *   command's stderr ends at "error: lv-NONCE N\n" and its stdout at the second echo's output. NONCE is
 *   random per session, and the quotes keep the echoed command lines from containing the output.
 * - virsh's shell has no per-command exit status: a command failed when it wrote a line starting with
 *   "error:" on stderr; the code is then 1, as virsh's own exit code is.
 * - Text for stdin (`define /dev/stdin` and the like) goes through a temporary file (0600) named instead of
 *   /dev/stdin; the file's name is turned back into "/dev/stdin" in the output, so messages read as a
 *   process's would.
 * - A dropped connection (libvirtd restarted, ssh gone): virsh prints "Disconnected from URI due to ..." at
 *   once, even between commands, and reconnects at the next command ("Reconnected to the hypervisor" or
 *   "Failed to reconnect to the hypervisor"). A session that says any of this is ended after the command
 *   (stderr between commands ends it at once), and those lines are translated into what a new process would
 *   have said: nothing for a reconnection, "failed to connect to the hypervisor" for a failed one.
 * - A session whose process ends during a command (killed, crashed) or gives no answer within the timeout
 *   (it is killed) fails that command with an error {@linkcode VirshError.unreachable} recognizes; the next
 *   command starts a new session. A session that cannot connect exits at once with virsh's usual "failed to
 *   connect to the hypervisor" error, which the command gets, as from a process.
 * - Commands that stream or run long (vol-upload, vol-download, console, snapshots, save, migrate, ...),
 *   shell built-ins with state (cd, connect, quit), arguments a session cannot carry and arguments naming
 *   the session's own standard streams run as one `virsh` process each, exactly like
 *   {@linkcode ProcessVirsh}, so their argv stays visible in /proc (vol-upload progress reads it).
 * - virsh writes its readline history to $XDG_CACHE_HOME/libvirt/virsh/history when it ends normally: a
 *   session gets XDG_CACHE_HOME=/dev/null (history off) unless its URI is a local session one, whose daemon
 *   virsh may start with that variable; sessions are ended with SIGTERM, which writes no history.
 * - The process does not outlive lv: it is not waited for (unref'd while idle), and when lv ends, killed
 *   or not, virsh reads EOF on stdin and exits after the command it runs, if any.
 *
 * @module
 */
import { DEFAULT_URI, ProcessVirsh, type RunOptions, type VirshResult, type VirshRunner } from "./virsh.ts";
import { type Exchange, VirshSession } from "./virsh_session.ts";

export interface SessionVirshOptions {
  /** Most sessions open at once; more concurrent commands wait for a free one. Default 4 (lv's workers). */
  maxSessions?: number;
  /**
   * A command that gives no answer within this many ms kills its session and fails as unreachable.
   * Commands run as processes (vol-upload, ...) have no timeout. Default 120 000.
   */
  timeoutMs?: number;
}

/** Commands that stream, wait or run long: always a process of their own (with no timeout). */
const ONE_OFF_COMMANDS: ReadonlySet<string> = new Set([
  "vol-upload",
  "vol-download",
  "vol-wipe",
  "vol-clone",
  "vol-create-from",
  "console",
  "event",
  "qemu-monitor-event",
  "save",
  "restore",
  "managedsave",
  "dump",
  "migrate",
  "blockcopy",
  "blockcommit",
  "blockpull",
  "snapshot-create",
  "snapshot-create-as",
  "snapshot-revert",
  "snapshot-delete",
  // virsh shell built-ins that change the session itself.
  "cd",
  "connect",
  "exit",
  "quit",
]);

/** The longest command line sent to a session (readline echoes it unchanged below COLUMNS). */
const MAX_LINE = 16_384;
const COLUMNS = "100000";

/** The session's own stdin, stdout or stderr, named as a file. */
const STD_STREAM = /^\/(dev\/(std(in|out|err)|fd\/[0-2]|tty)|proc\/[^/]+\/fd\/[0-2])$/;

/**
 * Why a command must run as a process of its own instead of in a session; undefined when a session can run
 * it. `stdin` is whether the command is given text on stdin.
 */
export function oneOffReason(args: readonly string[], stdin = false): string | undefined {
  if (args.length === 0) return "no command";
  if (args[0].startsWith("-")) return "global option";
  if (ONE_OFF_COMMANDS.has(args[0])) return `${args[0]} streams, runs long or changes the shell`;
  // An editor or a prompt would read the session's stdin: the commands still to come.
  if (args[0].endsWith("edit") || args.includes("--interactive")) return `${args[0]} reads the terminal`;
  if (args.some((a) => !/^[\x20-\x7e]*$/.test(a))) return "an argument is not printable ASCII";
  for (const a of args) {
    if (STD_STREAM.test(a) && !(stdin && a === "/dev/stdin")) return `${a} would be the session's`;
  }
  if (stdin && !args.includes("/dev/stdin")) return "stdin text without a /dev/stdin argument";
  if (sessionLine(args).length > MAX_LINE) return "command line too long";
  return undefined;
}

/** One argument as a word of virsh's shell: always single-quoted, ' as '\''. */
export function shellWord(arg: string): string {
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** The line a session is sent for argv. */
export function sessionLine(args: readonly string[]): string {
  return args.map(shellWord).join(" ");
}

const DISCONNECTED = /^error: Disconnected from .* due to .*\n?/gm;
const RECONNECTED = /^error: Reconnected to the hypervisor\n?/gm;
const FAILED_RECONNECT = /^error: Failed to reconnect to the hypervisor$/gm;

/**
 * Runs virsh commands through long-lived `virsh` sessions (at most `maxSessions`, started when needed), and
 * the ones a session cannot run as a process each, like {@linkcode ProcessVirsh}. Same constructor and
 * results as ProcessVirsh; with LV_VIRSH_LOG=FILE, every command's argv is appended to FILE as a JSON line.
 * Call close() when done (the sessions also end when this process does).
 */
export class SessionVirsh implements VirshRunner {
  readonly uri: string;
  #connectUri: string;
  #explain?: (stderr: string) => string | undefined;
  #log: string | undefined;
  #calls = 0;
  #process: ProcessVirsh;
  #max: number;
  #timeoutMs: number;
  #env: Record<string, string>;
  #sessions: VirshSession[] = [];
  #waiters: (() => void)[] = [];
  #closed = false;

  /**
   * `uri` is shown to users; `connectUri` (default the same) is what virsh gets (lv's ssh wrapper added).
   * `explain` turns a failure to connect into lv's words, added to the command's error.
   */
  constructor(
    uri: string = DEFAULT_URI,
    connectUri: string = uri,
    explain?: (stderr: string) => string | undefined,
    options: SessionVirshOptions = {},
  ) {
    this.uri = uri;
    this.#connectUri = connectUri;
    this.#explain = explain;
    this.#log = Deno.env.get("LV_VIRSH_LOG") || undefined;
    this.#process = new ProcessVirsh(uri, connectUri, explain);
    this.#max = Math.max(1, options.maxSessions ?? 4);
    this.#timeoutMs = options.timeoutMs ?? 120_000;
    this.#env = { LC_ALL: "C", TERM: "dumb", COLUMNS, INPUTRC: "/dev/null" };
    if (!localSessionUri(connectUri)) this.#env.XDG_CACHE_HOME = "/dev/null";
  }

  get calls(): number {
    return this.#calls;
  }

  /** PIDs of the virsh sessions running now (tests kill them). */
  get pids(): number[] {
    return this.#sessions.filter((s) => s.usable).map((s) => s.pid);
  }

  async run(args: string[], options: RunOptions = {}): Promise<VirshResult> {
    this.#calls++;
    let cwd: string | undefined;
    try {
      cwd = Deno.cwd();
    } catch { /* the working directory is gone: a process reports what virsh makes of it */ }
    if (this.#closed || cwd === undefined || oneOffReason(args, options.stdin !== undefined)) {
      return await this.#process.run(args, options);
    }
    let file: string | undefined;
    let argv = args;
    if (options.stdin !== undefined) {
      try {
        file = await Deno.makeTempFile({ prefix: "lv-virsh-stdin-" });
        await Deno.writeTextFile(file, options.stdin);
      } catch {
        // No temporary file (TMPDIR not writable, disk full): a process reads the text on its stdin.
        if (file) await Deno.remove(file).catch(() => {});
        return await this.#process.run(args, options);
      }
      if (!/^[\x20-\x7e]+$/.test(file)) {
        await Deno.remove(file);
        return await this.#process.run(args, options);
      }
      argv = args.map((a) => a === "/dev/stdin" ? file! : a);
    }
    try {
      const session = await this.#acquire(cwd);
      if (!session) return await this.#process.run(args, options); // closed meanwhile
      if (this.#log) Deno.writeTextFileSync(this.#log, JSON.stringify(args) + "\n", { append: true });
      let x: Exchange;
      try {
        x = await session.exchange(sessionLine(argv), this.#timeoutMs);
      } finally {
        this.#release(session);
      }
      if (file) {
        x.stdout = x.stdout.replaceAll(file, "/dev/stdin");
        x.stderr = x.stderr.replaceAll(file, "/dev/stdin");
      }
      return this.#result(args, session, x);
    } finally {
      if (file) await Deno.remove(file).catch(() => {});
    }
  }

  #result(args: string[], session: VirshSession, x: Exchange): VirshResult {
    let stderr = x.stderr;
    let code: number;
    if (x.ended === undefined) {
      const seen = droppedConnection(stderr);
      // The connection dropped: a new session next time.
      if (seen.dropped) session.kill("SIGTERM", "its connection dropped");
      stderr = seen.stderr;
      code = /^error:/m.test(stderr) ? 1 : 0;
    } else if (x.unread && x.exitCode && /^error:/m.test(stderr)) {
      // virsh ended before reading the command, with its own error: it could not connect. (Ending, it
      // also says it cannot write its history under /dev/null: not something a process says.)
      code = x.exitCode;
      stderr = stderr.replace(/^error: Failed to create '\/dev\/null\/libvirt\/virsh': .*\n/m, "");
    } else {
      code = 1;
      stderr += `error: End of file while reading data: virsh session (pid ${session.pid}) ended during ` +
        `"${args[0]}": ${x.ended}\n`;
    }
    const why = code !== 0 && /failed to connect to the hypervisor/i.test(stderr)
      ? this.#explain?.(stderr)
      : undefined;
    if (why) stderr += `error: ${why}\n`;
    return { code, stdout: x.stdout, stderr };
  }

  /** A session for one command, started if need be; undefined once closed. */
  async #acquire(cwd: string): Promise<VirshSession | undefined> {
    for (;;) {
      if (this.#closed) return undefined;
      for (const s of this.#sessions) {
        if (s.busy || !s.usable) continue;
        if (s.cwd !== cwd) {
          // Relative paths must mean what they mean to lv now.
          s.kill("SIGTERM", "lv's working directory changed");
          continue;
        }
        s.busy = true;
        return s;
      }
      const live = this.#sessions.filter((s) => s.usable).length;
      if (live < this.#max) {
        const s: VirshSession = new VirshSession(this.#connectUri, cwd, this.#env, () => this.#ended(s));
        s.busy = true;
        this.#sessions.push(s);
        return s;
      }
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  #release(session: VirshSession): void {
    session.busy = false;
    this.#waiters.shift()?.();
  }

  #ended(session: VirshSession): void {
    this.#sessions = this.#sessions.filter((s) => s !== session);
    this.#waiters.shift()?.();
  }

  /** Ends every session (a command still running in one fails); later commands run as processes. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#sessions.map((s) => s.close()));
    for (const w of this.#waiters.splice(0)) w();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * What virsh's shell says about a connection that dropped (before or during a command), turned into what a
 * new `virsh` process would have said: "Disconnected from URI due to ..." and "Reconnected to the
 * hypervisor" go, "Failed to reconnect to the hypervisor" becomes "failed to connect to the hypervisor".
 * `dropped` tells whether there was any of it.
 */
export function droppedConnection(stderr: string): { stderr: string; dropped: boolean } {
  const dropped = [DISCONNECTED, RECONNECTED, FAILED_RECONNECT].some((re) => stderr.search(re) >= 0);
  if (!dropped) return { stderr, dropped };
  return {
    stderr: stderr.replace(DISCONNECTED, "").replace(RECONNECTED, "")
      .replace(FAILED_RECONNECT, "error: failed to connect to the hypervisor"),
    dropped,
  };
}

/** A local URI of a per-user daemon (qemu:///session), which virsh may start with its own environment. */
function localSessionUri(uri: string): boolean {
  const m = /^[a-z0-9+]+:\/\/([^/?]*)(\/[^?]*)?/i.exec(uri);
  return !!m && m[1] === "" && m[2] === "/session";
}
