/**
 * The guest driver over SSH (ssh_client.ts, npm:ssh2): host key trusted on first use then pinned, the jump
 * through a remote libvirt host, each operation one command on the open connection.
 */
import { GuestConnection } from "./ssh_client.ts";
import { shellQuote } from "./shell.ts";
import {
  type GuestDriver,
  type GuestSession,
  type GuestTarget,
  type PutFileOptions,
  tail,
} from "./session.ts";
import type { RunOptions, RunResult } from "./session.ts";

/** Exit code the read and list scripts give for "no such file": told apart from every other failure. */
const MISSING = 66;

/**
 * Writes stdin to a new file beside $1 (noclobber: a planted file or link fails it), sets mode $2 and owner
 * $3, then renames it over $1.
 */
const PUT_SCRIPT = 'set -e; t="$1.lv-new"; rm -f "$t"; umask 077; set -C; cat > "$t"; chmod "$2" "$t"; ' +
  'if [ -n "$3" ]; then chown "$3" "$t"; fi; mv -f "$t" "$1"';
const READ_SCRIPT = `if [ ! -e "$1" ]; then exit ${MISSING}; fi; exec cat -- "$1"`;
const LIST_SCRIPT = `if [ ! -d "$1" ]; then exit ${MISSING}; fi; exec ls -1A -- "$1"`;

function commandLine(argv: string[], sudo?: boolean): string {
  return [...(sudo ? ["sudo", "-n"] : []), ...argv].map(shellQuote).join(" ");
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
    const mode = (options.mode ?? 0o644).toString(8);
    const argv = ["sh", "-c", PUT_SCRIPT, "sh", path, mode, options.owner ?? ""];
    const r = await this.run(argv, { sudo: options.sudo, stdin: content });
    if (r.code !== 0) throw new Error(`cannot write ${path} in the guest: ${tail(r.stderr || r.stdout, 3)}`);
  }

  async readFile(path: string, options: { sudo?: boolean } = {}): Promise<string | undefined> {
    const r = await this.run(["sh", "-c", READ_SCRIPT, "sh", path], options);
    if (r.code === MISSING) return undefined;
    if (r.code !== 0) throw new Error(`cannot read ${path} in the guest: ${tail(r.stderr, 3)}`);
    return r.stdout;
  }

  async listDir(path: string): Promise<string[] | undefined> {
    const r = await this.run(["sh", "-c", LIST_SCRIPT, "sh", path]);
    if (r.code === MISSING) return undefined;
    if (r.code !== 0) throw new Error(`cannot list ${path} in the guest: ${tail(r.stderr, 3)}`);
    return r.stdout.split("\n").filter((name) => name !== "");
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
