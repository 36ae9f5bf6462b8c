/**
 * A login to the fake guest (fake_guest.ts): every operation logged (a batch as one round trip, its
 * operations after it with inBatch), then done as the user, or as root through the guest's sudo.
 *
 * @module
 */
import { dirname } from "node:path";
import {
  appendedText,
  type BatchOptions,
  type GuestOp,
  type GuestOpResult,
  type GuestSession,
  opFailed,
  opName,
  type PutFileOptions,
  type RunOptions,
  type RunResult,
} from "../../src/guest/session.ts";
import type { Caller, FakeGuest, FakeGuestOp } from "./fake_guest.ts";

/** One login; each operation is logged, then done as the user (or root with sudo). */
export class FakeSession implements GuestSession {
  #closed = false;
  constructor(readonly guest: FakeGuest, readonly user: string) {}

  get hostKey(): string {
    return this.guest.hostKey;
  }

  #use(op: FakeGuestOp["op"], argv: string[], inBatch?: boolean): void {
    if (this.#closed) throw new Error("the connection is closed");
    this.guest.log.push({ user: this.user, op, argv, ...(inBatch ? { inBatch } : {}) });
  }

  #as(sudo?: boolean): Caller | RunResult {
    const caller = { user: this.user, root: false, env: {} };
    if (!sudo) return caller;
    const r = this.guest.exec(["sudo", "-n", "true"], caller);
    return r.code === 0 ? { ...caller, root: true } : r;
  }

  run(argv: string[], options: RunOptions = {}): Promise<RunResult> {
    this.#use("run", options.sudo ? ["sudo", "-n", ...argv] : argv);
    const r = this.guest.exec(options.sudo ? ["sudo", "-n", ...argv] : argv, {
      user: this.user,
      root: false,
      env: {},
    }, options.stdin);
    if (r.stdout) options.onStdout?.(r.stdout);
    if (r.stderr) options.onStderr?.(r.stderr);
    return Promise.resolve(r);
  }

  putFile(path: string, content: string, options: PutFileOptions = {}): Promise<void> {
    this.#use("put", [path]);
    const caller = this.#as(options.sudo);
    if ("code" in caller) {
      return Promise.reject(new Error(`cannot write ${path} in the guest: ${caller.stderr.trim()}`));
    }
    const r = this.#put(caller, { put: path, content, mode: options.mode, owner: options.owner });
    return r.error ? Promise.reject(new Error(r.error)) : Promise.resolve();
  }

  readFile(path: string, options: { sudo?: boolean } = {}): Promise<string | undefined> {
    this.#use("read", [path]);
    const caller = this.#as(options.sudo);
    if ("code" in caller) {
      return Promise.reject(new Error(`cannot read ${path} in the guest: ${caller.stderr}`));
    }
    return Promise.resolve(this.#read(path).text);
  }

  listDir(path: string): Promise<string[] | undefined> {
    this.#use("list", [path]);
    return Promise.resolve(this.#list(path).names);
  }

  /** One round trip (logged as op "batch"); each operation is logged too, with inBatch set. */
  batch(ops: GuestOp[], options: BatchOptions = {}): Promise<GuestOpResult[]> {
    if (ops.length === 0) return Promise.resolve([]);
    this.#use("batch", ops.map(opName));
    const caller = this.#as(options.sudo);
    if ("code" in caller) {
      return Promise.reject(
        new Error(`cannot run as root in the guest: exit code ${caller.code}: ${caller.stderr.trim()}`),
      );
    }
    const results: GuestOpResult[] = [];
    let stopped = false;
    for (const op of ops) {
      if (stopped) {
        results.push({ ran: false });
        continue;
      }
      const r = this.#op(op, caller);
      results.push(r);
      stopped = !!options.stopOnFailure && opFailed(r, op);
    }
    return Promise.resolve(results);
  }

  #op(op: GuestOp, caller: Caller): GuestOpResult {
    const sudo = caller.root ? ["sudo", "-n"] : [];
    if ("run" in op) {
      this.#use("run", [...sudo, ...op.run], true);
      return { ran: true, run: this.guest.exec(op.run, caller, op.stdin) };
    }
    if ("put" in op) {
      this.#use("put", [op.put], true);
      return this.#put(caller, op);
    }
    if ("read" in op) {
      this.#use("read", [op.read], true);
      return this.#read(op.read);
    }
    this.#use("list", [op.list], true);
    return this.#list(op.list);
  }

  #put(caller: Caller, op: Extract<GuestOp, { put: string }>): GuestOpResult {
    const path = op.put;
    const full = this.guest.path(this.user, path);
    if (op.dirMode !== undefined && !this.guest.dirs.has(dirname(full))) {
      if (!this.guest.dirs.has(dirname(dirname(full))) || !this.guest.mayWrite(caller, dirname(full))) {
        return {
          ran: true,
          error: `cannot write ${path} in the guest: mkdir: cannot create directory '${dirname(path)}'`,
        };
      }
      this.guest.dirs.add(dirname(full));
    }
    const why = !this.guest.dirs.has(dirname(full))
      ? `sh: 1: cannot create ${path}.lv-new: Directory nonexistent`
      : this.guest.readOnly.has(dirname(full))
      ? `sh: 1: cannot create ${path}.lv-new: Read-only file system`
      : !this.guest.mayWrite(caller, full)
      ? `sh: 1: cannot create ${path}.lv-new: Permission denied`
      : op.owner && !caller.root
      ? `chown: changing ownership of '${path}.lv-new': Operation not permitted`
      : undefined;
    if (why) return { ran: true, error: `cannot write ${path} in the guest: ${why}` };
    const owner = op.owner ?? (caller.root ? "root" : this.user);
    const content = op.append
      ? appendedText(this.guest.files.get(full)?.content ?? "", op.content)
      : op.content;
    this.guest.files.set(full, { content, mode: op.mode ?? 0o644, owner });
    return { ran: true };
  }

  #read(path: string): GuestOpResult {
    if (path === "/proc/sys/kernel/hostname") return { ran: true, text: `${this.guest.hostname}\n` };
    return { ran: true, text: this.guest.files.get(this.guest.path(this.user, path))?.content };
  }

  #list(path: string): GuestOpResult {
    const dir = this.guest.path(this.user, path).replace(/\/$/, "");
    if (!this.guest.dirs.has(dir)) return { ran: true };
    const names = new Set<string>();
    for (const p of [...this.guest.files.keys(), ...this.guest.dirs]) {
      if (p.startsWith(`${dir}/`)) names.add(p.slice(dir.length + 1).split("/")[0]);
    }
    return { ran: true, names: [...names].sort() };
  }

  close(): void {
    this.#closed = true;
  }
}
