/**
 * The guest driver: how lv reaches inside a running guest. A `GuestDriver` opens a `GuestSession` to one
 * guest; the steps (hostname, network, keys, folders, provisioners) are written against the session alone,
 * so the SSH implementation (ssh_session.ts) and the unit tests' fake guest are interchangeable.
 *
 * Paths are absolute, or relative to the login user's home directory (where an SSH session starts).
 */
import type { JumpHost } from "../config/ssh_transport.ts";

/** Where a guest is and how to log in. */
export interface GuestTarget {
  host: string;
  port: number;
  user: string;
  /** PEM/OpenSSH private key text. */
  privateKey: string;
  /**
   * The host key lv pinned for this guest ("ssh-ed25519 AAAA..."), or undefined on first contact: then the
   * key presented is accepted and returned in `GuestSession.hostKey` for the caller to pin (trust on first use).
   */
  pinnedHostKey?: string;
  forwardAgent?: boolean;
  /** Connect timeout. */
  timeoutMs?: number;
  /** Send SSH keepalives this often; 3 unanswered drop the connection. Default 30 s (ssh_client.ts). */
  keepaliveMs?: number;
  /** Reach the guest through this host (the remote libvirt host), as ssh -J does. */
  via?: JumpHost;
}

export interface GuestDriver {
  /**
   * Logs in to the guest. Rejects with `HostKeyMismatchError` (ssh_client.ts) when the guest presents a host
   * key other than `target.pinnedHostKey` (never retried silently), and with a plain Error when the guest
   * cannot be reached or refuses the key. Opening a session changes nothing in the guest.
   */
  connect(target: GuestTarget): Promise<GuestSession>;
}

export interface RunOptions {
  /** Run as root through `sudo -n`: a guest without sudo, or whose sudo asks a password, fails the command. */
  sudo?: boolean;
  /** Bytes on the command's standard input (then end of input); default none. */
  stdin?: string;
  /** Output as it comes (provisioners); it is collected into the result either way. */
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
}

export interface RunResult {
  /** The exit code: 127 for a command not found, 255 when the command died without one. */
  code: number;
  stdout: string;
  stderr: string;
}

export interface PutFileOptions {
  /** Permission bits of the file written; default 0644. */
  mode?: number;
  /** "user" or "user:group" to own the file (needs `sudo`); default the writer. */
  owner?: string;
  /** Write as root (sudo -n). */
  sudo?: boolean;
}

/**
 * One operation of a batch: what `run`, `putFile`, `readFile` and `listDir` do, as data (the run's argv is
 * passed as it is; put writes `content` with `mode`, default 0644, and `owner`). A run with `mayFail` is
 * not a failure whatever its exit code (a batch with `stopOnFailure` goes on): `ifdown` of what may be down.
 */
export type GuestOp =
  | { run: string[]; stdin?: string; mayFail?: boolean }
  | {
    put: string;
    content: string;
    mode?: number;
    owner?: string;
    /** After the file's text (a newline added first when it ends without one); the file made when missing. */
    append?: boolean;
    /** The file's directory made with this mode when missing (its parent must be there): ~/.ssh. */
    dirMode?: number;
  }
  | { read: string }
  | { list: string };

/** The text a put with `append` leaves: `old`, a newline when it ends without one, then `text`. */
export function appendedText(old: string, text: string): string {
  return `${old}${old && !old.endsWith("\n") ? "\n" : ""}${text}`;
}

/** What one operation of a batch gave. */
export interface GuestOpResult {
  /** False when an earlier operation of a batch with `stopOnFailure` failed: this one was not run. */
  ran: boolean;
  /** A run operation's exit code and output. */
  run?: RunResult;
  /** A read operation's text; undefined when there is no such file. */
  text?: string;
  /** A list operation's names; undefined when there is no such directory. */
  names?: string[];
  /** Why a put, read or list failed, in the words putFile, readFile and listDir reject with. */
  error?: string;
}

export interface BatchOptions {
  /** Every operation as root, through one `sudo -n` for the whole batch. */
  sudo?: boolean;
  /** A failed operation (a run's non-zero exit, a put, read or list error) ends the batch there. */
  stopOnFailure?: boolean;
}

/** One login to a guest. Every operation rejects when the connection is lost. */
export interface GuestSession {
  /** The host key the guest presented ("ssh-ed25519 AAAA..."): pinned by the caller after first contact. */
  readonly hostKey: string;
  /**
   * Runs one command, argv[0] looked up on the guest's PATH, the words passed as they are (no shell
   * expansion). Resolves with the exit code and output whatever the code: a non-zero exit is the caller's to
   * judge (see `check`). Idempotent as far as the command is.
   */
  run(argv: string[], options?: RunOptions): Promise<RunResult>;
  /**
   * Makes `path` hold exactly `content` with `mode` (and `owner`): written to a new file beside it, then
   * renamed over it, so a reader sees the old file or the new one, never a part. Idempotent. Rejects naming
   * the path when the file cannot be written (no such directory, permission, sudo refused).
   */
  putFile(path: string, content: string, options?: PutFileOptions): Promise<void>;
  /** A file's text, or undefined when there is no such file; rejects on any other failure. Changes nothing. */
  readFile(path: string, options?: { sudo?: boolean }): Promise<string | undefined>;
  /** The names in a directory (no "." or ".."), or undefined when there is no such directory. Changes nothing. */
  listDir(path: string): Promise<string[] | undefined>;
  /**
   * Runs the operations in order in ONE command on the guest (one round trip instead of one each), each doing
   * what its single method does, and resolves with a result per operation (failures included: see
   * `checkBatch`). With `sudo` all of them run as root. Rejects when the connection is lost or the batch
   * cannot start at all (sudo refused: "cannot run as root in the guest: ...").
   */
  batch(ops: GuestOp[], options?: BatchOptions): Promise<GuestOpResult[]>;
  /** Ends the login; further calls reject. Idempotent. */
  close(): void;
}

/** The last lines of a command's output, for messages and conditions. */
export function tail(text: string, lines = 10): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/** Runs argv and rejects unless it exits 0, naming `what` and the output's tail. Returns its standard output. */
export async function check(
  session: GuestSession,
  argv: string[],
  options: RunOptions & { what?: string } = {},
): Promise<string> {
  const r = await session.run(argv, options);
  if (r.code !== 0) {
    throw new Error(
      `${options.what ?? argv.join(" ")}: exit code ${r.code}: ${tail(r.stderr || r.stdout, 5)}`,
    );
  }
  return r.stdout;
}

/** Whether a batch's operation failed (a run's non-zero exit unless `mayFail`, a put/read/list error). */
export function opFailed(result: GuestOpResult, op?: GuestOp): boolean {
  if (op && "run" in op && op.mayFail) return false;
  return result.error !== undefined || (result.run !== undefined && result.run.code !== 0);
}

/** A short name of an operation for messages: "hostname web", "write /etc/hosts". */
export function opName(op: GuestOp): string {
  if ("run" in op) return op.run.join(" ");
  if ("put" in op) return `write ${op.put}`;
  if ("read" in op) return `read ${op.read}`;
  return `list ${op.list}`;
}

/**
 * Runs a step's batch of writes (none: no round trip) and rejects at its first failure, or when the batch
 * cannot start (sudo refused), the message naming `step`.
 */
export async function runStepBatch(
  session: GuestSession,
  step: string,
  ops: GuestOp[],
  options: BatchOptions = {},
): Promise<GuestOpResult[]> {
  if (ops.length === 0) return [];
  const results = await session.batch(ops, { ...options, stopOnFailure: true }).catch((e: Error) => {
    throw new Error(`${step}: ${e.message}`, { cause: e });
  });
  return checkBatch(step, ops, results);
}

/**
 * Rejects at the batch's first failed operation, the message naming `step` (the guest step: "hostname"),
 * the operation and the guest's words. Returns the results when every operation ran and succeeded.
 */
export function checkBatch(step: string, ops: GuestOp[], results: GuestOpResult[]): GuestOpResult[] {
  results.forEach((r, i) => {
    if (!opFailed(r, ops[i])) return;
    const why = r.error ??
      `${opName(ops[i])}: exit code ${r.run!.code}: ${tail(r.run!.stderr || r.run!.stdout, 5)}`;
    throw new Error(`${step}: ${why}`);
  });
  return results;
}
