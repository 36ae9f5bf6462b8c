/**
 * The guest driver over SSH (ssh_client.ts, npm:ssh2): host key trusted on first use then pinned, the jump
 * through a remote libvirt host, each operation one command on the open connection, a batch one sh script
 * (ssh_batch.ts).
 */
import { GuestConnection } from "./ssh_client.ts";
import { shellQuote } from "./shell.ts";
import {
  type BatchOptions,
  type GuestDriver,
  type GuestOp,
  type GuestOpResult,
  type GuestSession,
  type GuestTarget,
  type PutFileOptions,
  tail,
} from "./session.ts";
import type { RunOptions, RunResult } from "./session.ts";
import { type BatchCommand, batchScript, newBoundary, parseBatchOutput } from "./ssh_batch.ts";

/** Exit code the read and list scripts give for "no such file": told apart from every other failure. */
const MISSING = 66;

/**
 * Makes a new file beside $1 (noclobber: a planted file or link fails it, so one there is removed first),
 * fills it (`fill`: from stdin) created with `mode` (umask) or made so by chmod when umask cannot give it
 * (execute bits), sets owner $2, then renames it over $1.
 */
function putScript(fill: string, mode: number): string {
  const umask = mode & 0o111 ? "077" : (0o777 & ~mode).toString(8).padStart(3, "0");
  const chmod = mode & 0o111 ? `chmod ${(mode & 0o7777).toString(8)} "$t"; ` : "";
  return `set -e; t="$1.lv-new"; if [ -e "$t" ] || [ -h "$t" ]; then rm -f "$t"; fi; umask ${umask}; set -C; ` +
    `${fill}; ${chmod}if [ -n "$2" ]; then chown "$2" "$t"; fi; mv -f "$t" "$1"`;
}
/** Writes stdin as the whole file. */
const PUT_FILL = 'cat > "$t"';
/** PUT_FILL whose new file starts with the old one's text (ending in a newline), when there is one. */
const APPEND_FILL = ': > "$t"; if [ -s "$1" ]; then cat -- "$1" >> "$t"; ' +
  'if [ -n "$(tail -c 1 -- "$t")" ]; then echo >> "$t"; fi; fi; cat >> "$t"';
const READ_SCRIPT = `if [ ! -e "$1" ]; then exit ${MISSING}; fi; exec cat -- "$1"`;
const LIST_SCRIPT = `if [ ! -d "$1" ]; then exit ${MISSING}; fi; exec ls -1A -- "$1"`;

function commandLine(argv: string[], sudo?: boolean): string {
  return [...(sudo ? ["sudo", "-n"] : []), ...argv].map(shellQuote).join(" ");
}

/** The command an operation runs (the put, read and list scripts above). */
export function opCommand(op: GuestOp): BatchCommand {
  if ("run" in op) return { argv: op.run, stdin: op.stdin, mayFail: op.mayFail };
  if ("put" in op) {
    const script = putScript(op.append ? APPEND_FILL : PUT_FILL, op.mode ?? 0o644);
    return { argv: ["sh", "-c", script, "sh", op.put, op.owner ?? ""], stdin: op.content };
  }
  // No such file or directory is an answer, not a failure: a batch stopping on failure goes on.
  if ("read" in op) return { argv: ["sh", "-c", READ_SCRIPT, "sh", op.read], okCodes: [MISSING] };
  return { argv: ["sh", "-c", LIST_SCRIPT, "sh", op.list], okCodes: [MISSING] };
}

/** What an operation's command gave, as the operation's result. */
export function opResult(op: GuestOp, r: RunResult | undefined): GuestOpResult {
  if (!r) return { ran: false };
  if ("run" in op) return { ran: true, run: r };
  const why = tail(r.stderr || r.stdout, 3);
  if ("put" in op) {
    return r.code === 0 ? { ran: true } : { ran: true, error: `cannot write ${op.put} in the guest: ${why}` };
  }
  if ("read" in op) {
    if (r.code === MISSING) return { ran: true };
    return r.code === 0
      ? { ran: true, text: r.stdout }
      : { ran: true, error: `cannot read ${op.read} in the guest: ${why}` };
  }
  if (r.code === MISSING) return { ran: true };
  if (r.code !== 0) return { ran: true, error: `cannot list ${op.list} in the guest: ${why}` };
  return { ran: true, names: r.stdout.split("\n").filter((name) => name !== "") };
}

/** A session over one SSH connection (anything with GuestConnection's exec, hostKey and close). */
export class SshGuestSession implements GuestSession {
  constructor(readonly conn: Pick<GuestConnection, "exec" | "hostKey" | "close">) {}

  get hostKey(): string {
    return this.conn.hostKey;
  }

  run(argv: string[], options: RunOptions = {}): Promise<RunResult> {
    return this.conn.exec(commandLine(argv, options.sudo), {
      stdin: options.stdin,
      onStdout: options.onStdout,
      onStderr: options.onStderr,
    });
  }

  async putFile(path: string, content: string, options: PutFileOptions = {}): Promise<void> {
    const op = { put: path, content, mode: options.mode, owner: options.owner };
    const r = opResult(op, await this.#one(op, options.sudo));
    if (r.error) throw new Error(r.error);
  }

  async readFile(path: string, options: { sudo?: boolean } = {}): Promise<string | undefined> {
    const r = opResult({ read: path }, await this.#one({ read: path }, options.sudo));
    if (r.error) throw new Error(r.error);
    return r.text;
  }

  async listDir(path: string): Promise<string[] | undefined> {
    const r = opResult({ list: path }, await this.#one({ list: path }));
    if (r.error) throw new Error(r.error);
    return r.names;
  }

  async batch(ops: GuestOp[], options: BatchOptions = {}): Promise<GuestOpResult[]> {
    if (ops.length === 0) return [];
    const boundary = newBoundary();
    const script = batchScript(ops.map(opCommand), { boundary, stopOnFailure: options.stopOnFailure });
    const r = await this.run(["sh", "-s"], { sudo: options.sudo, stdin: script });
    if (!r.stdout.includes(`${boundary}:0:out`)) {
      const who = options.sudo ? "as root" : "a batch of commands";
      throw new Error(
        `cannot run ${who} in the guest: exit code ${r.code}: ${tail(r.stderr || r.stdout, 3)}`,
      );
    }
    const raw = parseBatchOutput(r.stdout, boundary, ops.length);
    return ops.map((op, i) => opResult(op, raw[i]));
  }

  #one(op: GuestOp, sudo?: boolean): Promise<RunResult> {
    const c = opCommand(op);
    return this.run(c.argv, { sudo, stdin: c.stdin });
  }

  close(): void {
    this.conn.close();
  }
}

/** The SSH guest driver. */
export const sshGuestDriver: GuestDriver = {
  async connect(target: GuestTarget): Promise<GuestSession> {
    return new SshGuestSession(await GuestConnection.connect(target));
  },
};
