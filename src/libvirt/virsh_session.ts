/**
 * One long-lived `virsh -q -c URI` process that runs one command line at a time: the framing of a
 * command's stdout and stderr by nonce marks, the echo check, a timeout that kills it, and its end. The
 * pool that hands out sessions, and why a command is sent as it is, are in session_virsh.ts.
 *
 * @module
 */
import { within } from "../api/within.ts";

const PROMPT = "virsh # ";

/** What a session gave back for one command. */
export interface Exchange {
  /** stdout between the echoed command line and the marks (or all of it when the session ended). */
  stdout: string;
  stderr: string;
  /** Why the session ended during the command; undefined when it answered. */
  ended?: string;
  /** The session ended before it read the command (a failed start). */
  unread?: boolean;
  exitCode?: number;
}

const enc = new TextEncoder();

/** One `virsh` process: runs one command at a time. */
export class VirshSession {
  readonly pid: number;
  readonly cwd: string;
  busy = false;
  #alive = true;
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #out = "";
  #err = "";
  #nonce = crypto.randomUUID().replaceAll("-", "");
  #seq = 0;
  #pending?: { check: () => void };
  #started = false;
  #ended: Promise<void>;
  #onEnd: () => void;
  #why?: string;
  #status?: Deno.CommandStatus;

  constructor(connectUri: string, cwd: string, env: Record<string, string>, onEnd: () => void) {
    this.cwd = cwd;
    this.#onEnd = onEnd;
    this.#child = new Deno.Command("virsh", {
      args: ["-q", "-c", connectUri],
      cwd,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env,
    }).spawn();
    this.pid = this.#child.pid;
    this.#child.unref();
    this.#writer = this.#child.stdin.getWriter();
    this.#writer.closed.catch(() => {});
    const pumps = Promise.all([
      this.#pump(this.#child.stdout, (t) => this.#out += t),
      this.#pump(this.#child.stderr, (t) => {
        this.#err += t;
        // Between commands virsh says something only when the connection dropped.
        if (this.#started && !this.#pending && this.#err.trim()) {
          this.kill("SIGTERM", "it wrote on stderr between commands");
        }
      }),
    ]);
    this.#ended = this.#child.status.then(async (status) => {
      this.#status = status;
      // Whatever virsh wrote before it ended is read before the command is answered; a child of virsh
      // holding the pipes (ssh) is not waited for long.
      await within(pumps, 2000, undefined);
      this.#alive = false;
      this.#pending?.check();
      this.#onEnd();
    });
  }

  /** Running and not being ended: takes commands. */
  get usable(): boolean {
    return this.#alive && this.#why === undefined;
  }

  async #pump(stream: ReadableStream<Uint8Array>, push: (text: string) => void): Promise<void> {
    const dec = new TextDecoder();
    try {
      for await (const chunk of stream) {
        push(dec.decode(chunk, { stream: true }));
        this.#pending?.check();
      }
    } catch { /* the process is gone */ }
    push(dec.decode());
  }

  /** Ends the process (by its PID, through the child handle). `why` is what a command in flight is told. */
  kill(signal: Deno.Signal, why: string): void {
    this.#why ??= why;
    try {
      this.#child.kill(signal);
    } catch { /* already ended */ }
  }

  /** Runs one command line; resolves when virsh answered or the session ended. */
  exchange(line: string, timeoutMs: number): Promise<Exchange> {
    const seq = ++this.#seq;
    const typed = `'lv-${this.#nonce}' ${seq}`;
    const mark = `lv-${this.#nonce} ${seq}`;
    const echoed = `${PROMPT}${line}\n`;
    const tail = `${PROMPT}echo --err ${typed}\n${PROMPT}echo ${typed}\n${mark}`;
    const errNeedle = `error: ${mark}\n`;
    return new Promise<Exchange>((resolve) => {
      const timer: { id?: ReturnType<typeof setTimeout> } = {};
      const finish = (x: Exchange) => {
        clearTimeout(timer.id);
        this.#pending = undefined;
        try {
          this.#child.unref();
        } catch { /* ended */ }
        resolve(x);
      };
      const check = () => {
        const o = this.#out.indexOf(tail);
        const e = o >= 0 ? this.#err.indexOf(errNeedle) : -1;
        if (o >= 0 && e >= 0) {
          const out = this.#out.slice(0, o), err = this.#err.slice(0, e);
          this.#out = this.#out.slice(o + tail.length);
          this.#err = this.#err.slice(e + errNeedle.length);
          if (out.startsWith(echoed)) {
            finish({ stdout: out.slice(echoed.length), stderr: err });
          } else {
            // Never seen; a session that says something unexpected is not trusted further.
            this.kill("SIGTERM", "its output was not framed as expected");
            finish({
              stdout: out,
              stderr:
                `${err}error: virsh session (pid ${this.pid}): unexpected output before the command's\n`,
              ended: "its output was not framed as expected",
            });
          }
        } else if (!this.#alive) {
          const unread = !this.#out.startsWith(echoed);
          const out = unread ? this.#out : this.#out.slice(echoed.length);
          const st = this.#status;
          const how = this.#why ??
            (st?.signal ? `it was killed (${st.signal})` : `it exited with code ${st?.code}`);
          finish({ stdout: out, stderr: this.#err, ended: how, unread, exitCode: st?.code });
        }
      };
      this.#pending = { check };
      this.#started = true;
      if (!this.#alive) return check();
      try {
        this.#child.ref();
      } catch { /* ended */ }
      timer.id = setTimeout(() => {
        this.kill("SIGKILL", `it gave no answer within ${timeoutMs / 1000} s and was killed`);
      }, timeoutMs);
      this.#writer.write(enc.encode(`${line}\necho --err ${typed}\necho ${typed}\n`)).catch(() => {
        // EPIPE: the process ended; its end answers the command.
      });
    });
  }

  /** Whether the process ended (and its output was read) within `ms`. */
  #endsWithin(ms: number): Promise<boolean> {
    return within(this.#ended.then(() => true), ms, false);
  }

  /**
   * Ends the session (SIGTERM: virsh writes no history then; SIGKILL 5 s later) and waits until it has, at
   * most 10 s: closing never hangs the command that closes it.
   */
  async close(): Promise<void> {
    this.kill("SIGTERM", "the session was closed");
    try {
      this.#child.ref(); // waited for now
    } catch { /* ended */ }
    if (!await this.#endsWithin(5_000)) {
      this.kill("SIGKILL", "it did not end on SIGTERM");
      await this.#endsWithin(5_000);
    }
    await this.#writer.close().catch(() => {});
  }
}
