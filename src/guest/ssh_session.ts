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
import { type BatchCommand, batchScript, newBoundary, parseBatchOutput, printfFormat } from "./ssh_batch.ts";

/** Exit code the read and list scripts give for "no such file": told apart from every other failure. */
const MISSING = 66;

/**
 * Makes a new file beside $1 (noclobber: a planted file or link fails it, so one there is removed first),
 * fills it (`fill`) created with `mode` (umask) or made so by chmod when umask cannot give it
 * (execute bits), sets owner $2, then renames it over $1.
 */
function putScript(fill: string, mode: number): string {
  const umask = mode & 0o111 ? "077" : (0o777 & ~mode).toString(8).padStart(3, "0");
  const chmod = mode & 0o111 ? `chmod ${(mode & 0o7777).toString(8)} "$t"; ` : "";
  return `set -e; t="$1.lv-new"; if [ -e "$t" ] || [ -h "$t" ]; then rm -f "$t"; fi; umask ${umask}; set -C; ` +
    `${fill}; ${chmod}if [ -n "$2" ]; then chown "$2" "$t"; fi; mv -f "$t" "$1"`;
}
/**
 * The start of an appending put's new file: the old file's text (ending in a newline), when there is one. A
 * failed read fails the put (`set -e`): the old text is never dropped.
 */
const OLD_TEXT =
  'if [ -s "$1" ]; then lv_o=$(cat -- "$1" && echo .); lv_o=${lv_o%.}; printf \'%s\' "$lv_o"; ' +
  "case $lv_o in *'\n') ;; *) echo ;; esac; fi";
/**
 * Prints the file: its first 100 lines by the shell's own `read` (no program started: most files lv reads,
 * /etc/hosts, authorized_keys, a network family's, are that short), the rest by cat from where `read` left
 * the file (dash's `read` takes a byte at a time: slow on a long file). Text: a NUL byte does not survive.
 */
const READ_SCRIPT =
  `if [ ! -e "$1" ]; then exit ${MISSING}; fi; { n=0; while IFS= read -r l; do printf '%s\\n' "$l"; ` +
  `n=$((n+1)); if [ $n -ge 100 ]; then exec cat; fi; done; if [ -n "$l" ]; then printf '%s' "$l"; fi; } < "$1"`;
/** Prints the directory's names, dot files too, a line each, by the shell's own globbing (`ls -1A` unsorted). */
const LIST_SCRIPT = `if [ ! -d "$1" ]; then exit ${MISSING}; fi; ` +
  `if [ ! -r "$1" ] || [ ! -x "$1" ]; then echo "cannot open directory $1: Permission denied" >&2; exit 2; fi; ` +
  `for f in "$1"/* "$1"/.*; do n=\${f##*/}; case $n in .|..) continue ;; esac; ` +
  `if [ -e "$f" ] || [ -h "$f" ]; then printf '%s\\n' "$n"; fi; done`;

function commandLine(argv: string[], sudo?: boolean): string {
  return [...(sudo ? ["sudo", "-n"] : []), ...argv].map(shellQuote).join(" ");
}

/**
 * The command an operation runs in a batch (the put, read and list scripts above). A put's text is printed
 * by its script (sent on the batch's standard input: no program copies it, no command line limits it).
 */
export function opCommand(op: GuestOp): BatchCommand {
  if ("run" in op) return { argv: op.run, stdin: op.stdin, mayFail: op.mayFail };
  if ("put" in op) {
    const text = `printf '${printfFormat(op.content)}'`;
    const fill = op.append ? `${OLD_TEXT} > "$t"; ${text} >> "$t"` : `${text} > "$t"`;
    const mkdir = op.dirMode === undefined
      ? ""
      : `case $1 in */*) d=\${1%/*} ;; *) d=. ;; esac; if [ ! -d "$d" ]; then mkdir -m ${
        op.dirMode.toString(8)
      } -- "$d"; fi; `;
    return { argv: ["sh", "-c", mkdir + putScript(fill, op.mode ?? 0o644), "sh", op.put, op.owner ?? ""] };
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
  return { ran: true, names: r.stdout.split("\n").filter((name) => name !== "").sort() };
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
    const r = await this.#one({ put: path, content, mode: options.mode, owner: options.owner }, options.sudo);
    if (r.error) throw new Error(r.error);
  }

  async readFile(path: string, options: { sudo?: boolean } = {}): Promise<string | undefined> {
    const r = await this.#one({ read: path }, options.sudo);
    if (r.error) throw new Error(r.error);
    return r.text;
  }

  async listDir(path: string): Promise<string[] | undefined> {
    const r = await this.#one({ list: path });
    if (r.error) throw new Error(r.error);
    return r.names;
  }

  async batch(ops: GuestOp[], options: BatchOptions = {}): Promise<GuestOpResult[]> {
    if (ops.length === 0) return [];
    const { session, results } = await this.#script(ops, options);
    if (!results) {
      const who = options.sudo ? "as root" : "a batch of commands";
      throw new Error(
        `cannot run ${who} in the guest: exit code ${session.code}: ${
          tail(session.stderr || session.stdout, 3)
        }`,
      );
    }
    return results;
  }

  /** One operation as a batch of one; when the script did not start (sudo refused), the operation's failure. */
  async #one(op: GuestOp, sudo?: boolean): Promise<GuestOpResult> {
    const { session, results } = await this.#script([op], { sudo });
    return results?.[0] ?? opResult(op, { ...session, code: session.code || 1 });
  }

  /** Runs ops' batch script: what the session gave, and each operation's result (none: it did not start). */
  async #script(
    ops: GuestOp[],
    options: BatchOptions,
  ): Promise<{ session: RunResult; results?: GuestOpResult[] }> {
    const boundary = newBoundary();
    const script = batchScript(ops.map(opCommand), { boundary, stopOnFailure: options.stopOnFailure });
    const session = await this.run(["sh", "-s"], { sudo: options.sudo, stdin: script });
    if (!session.stdout.includes(`${boundary}:0:out`)) return { session };
    const raw = parseBatchOutput(session, boundary, ops.length);
    return { session, results: ops.map((op, i) => opResult(op, raw[i])) };
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
