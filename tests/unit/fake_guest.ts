/**
 * A stateful fake guest for unit tests, the way fake_virsh.ts fakes libvirt: a Debian-like guest with files,
 * users, a hostname, network interfaces, systemd-networkd, mounts and a log of every operation, reached
 * through `driver` (a GuestDriver) and `runHost` (rsync/exportfs on the host side).
 *
 * It fails like a real guest: a key not in authorized_keys is refused, a pinned host key that differs raises
 * HostKeyMismatchError, `sudo -n` without sudo is "not found" (127) and with a password-asking sudo exits 1,
 * root-only commands and writes outside the user's home and /tmp are refused, a missing command is 127, a
 * script's `exit N` is its exit code.
 *
 * @module
 */
import { dirname, join as hostJoin, relative } from "node:path";
import { HostKeyMismatchError } from "../../src/guest/host_key.ts";
import type { HostCommand } from "../../src/guest/host_command.ts";
import { publicKeyBlob } from "../../src/guest/key_files.ts";
import type { GuestDriver, GuestSession, GuestTarget, RunResult } from "../../src/guest/session.ts";
import { FakeSession } from "./fake_guest_session.ts";
import { type Command, COMMANDS, fail, ok } from "./fake_guest_commands.ts";

export interface FakeFile {
  content: string;
  mode: number;
  owner: string;
}

export interface FakeUser {
  home: string;
  /** "nopasswd": sudo -n works; "password": sudo -n exits 1 (a password is required); "none": no sudo at all. */
  sudo: "nopasswd" | "password" | "none";
}

/**
 * One thing done to the guest: a command (argv as run, sudo included), a file operation, or a batch (one
 * round trip; argv names its operations, each logged after it with `inBatch`).
 */
export interface FakeGuestOp {
  user: string;
  op: "run" | "put" | "read" | "list" | "batch";
  argv: string[];
  /** Done inside a batch: no round trip of its own. */
  inBatch?: boolean;
}

/** Who runs a command, with what environment. */
export interface Caller {
  user: string;
  root: boolean;
  env: Record<string, string>;
}

export class FakeGuest {
  hostname = "debian12";
  hostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGZha2UgaG9zdCBrZXkgb2YgdGhlIGZha2UgZ3Vlc3Q=";
  /** Addresses the guest answers SSH on. */
  addresses = new Set(["10.123.0.50"]);
  /** The port it answers on there (a forwarded host port behind user-mode networking). */
  sshPort = 22;
  /** False: every connect fails as an unreachable host does. */
  reachable = true;
  /** The next this many connects are refused, as before the guest's sshd listens. */
  refuseConnects = 0;
  /**
   * What a refused connect says, as lv's SSH client reports it: a user-mode network's port forward accepts and
   * drops it; an sshd restarting at first boot closes after its version line; a login refused (a wrong key).
   */
  refusedWith?:
    | "Connection lost before handshake"
    | "the connection closed before login"
    | "All configured authentication methods failed";
  /** Connect attempts, refused ones included. */
  connects = 0;
  files = new Map<string, FakeFile>();
  dirs = new Set<string>(["/", "/etc", "/tmp", "/home", "/sys/class/net", "/etc/systemd/network"]);
  /** Directories on a read-only file system: nothing is made in them. */
  readOnly = new Set<string>();
  users = new Map<string, FakeUser>();
  /** Commands on the guest's PATH (besides the shell's builtins). */
  installed = new Set([
    "hostname",
    "mkdir",
    "chown",
    "rm",
    "cat",
    "touch",
    "sleep",
    "whoami",
    "systemctl",
    "networkctl",
    "mountpoint",
    "mount",
    "modprobe",
    "flock",
    "env",
    "sh",
    "/bin/sh",
    "sudo",
    "rsync",
  ]);
  activeServices = new Set(["systemd-networkd"]);
  mounts = new Map<string, string>();
  /** Kernel modules modprobe finds (Debian's generic kernel: 9p and virtiofs; a test may take some away). */
  modules = new Set(["9p", "9pnet_virtio", "virtiofs"]);
  /** networkctl calls, in order: "reload", "reconfigure eth1". */
  networkctl: string[] = [];
  /** Every operation, in order. */
  log: FakeGuestOp[] = [];
  /** Logins (the private keys' blobs are not kept): the user of each connect that succeeded. */
  logins: string[] = [];
  /** Commands the host ran for this guest (rsync, exportfs). */
  hostLog: string[][] = [];
  #failNext = new Map<string, RunResult>();
  /** Commands a test adds or replaces (fake_guest_network.ts: nmcli, netplan, ifup...), by name. */
  commandTable = new Map<string, Command>();

  constructor() {
    this.addUser("vagrant", { sudo: "nopasswd" });
    this.addInterface("lo", "00:00:00:00:00:00");
    this.addInterface("eth0", "52:54:00:00:00:01");
    this.files.set("/etc/hostname", { content: "debian12\n", mode: 0o644, owner: "root" });
    this.files.set("/etc/hosts", {
      content: "127.0.0.1 localhost\n127.0.1.1 debian12\n::1 localhost\n",
      mode: 0o644,
      owner: "root",
    });
  }

  addUser(name: string, options: Partial<FakeUser> = {}): void {
    const home = options.home ?? `/home/${name}`;
    this.users.set(name, { home, sudo: options.sudo ?? "nopasswd" });
    this.dirs.add(home);
  }

  addInterface(name: string, mac: string): void {
    this.dirs.add(`/sys/class/net/${name}`);
    this.files.set(`/sys/class/net/${name}/address`, { content: `${mac}\n`, mode: 0o444, owner: "root" });
  }

  /** Lets `publicLine` (an authorized_keys line) log in as `user`. */
  authorize(user: string, publicLine: string): void {
    const home = this.users.get(user)!.home;
    this.dirs.add(`${home}/.ssh`);
    const path = `${home}/.ssh/authorized_keys`;
    const before = this.files.get(path)?.content ?? "";
    this.files.set(path, { content: `${before}${publicLine.trim()}\n`, mode: 0o600, owner: user });
  }

  /** The next command whose argv[0] (after sudo, flock and env) is `command` gives `result` instead. */
  failNext(command: string, result: Partial<RunResult> & { code: number }): void {
    this.#failNext.set(command, { stdout: "", stderr: "", ...result });
  }

  /** The text of a file, or undefined. */
  read(path: string): string | undefined {
    return this.files.get(path)?.content;
  }

  /** Round trips to the guest: every operation but those inside a batch (a batch is one). */
  roundTrips(): number {
    return this.log.filter((o) => !o.inBatch).length;
  }

  /** The commands run (op "run"), as argv joined by spaces. */
  commands(): string[] {
    return this.log.filter((o) => o.op === "run").map((o) => o.argv.join(" "));
  }

  /** A GuestDriver reaching this guest. */
  readonly driver: GuestDriver = {
    connect: (target) => this.#connect(target),
  };

  /** The host side: rsync copies a local folder into the guest, exportfs succeeds; both are logged. */
  readonly runHost: HostCommand = async (argv, options = {}) => {
    this.hostLog.push(argv);
    const failing = this.#failNext.get(argv[0]);
    if (failing) this.#failNext.delete(argv[0]);
    const r = failing ?? (argv[0] === "rsync" ? await this.#rsync(argv) : ok());
    if (r.stdout) options.onStdout?.(r.stdout);
    if (r.stderr) options.onStderr?.(r.stderr);
    return r;
  };

  async #connect(target: GuestTarget): Promise<GuestSession> {
    this.connects++;
    const refused = this.refuseConnects > 0;
    if (refused) this.refuseConnects--;
    if (refused && this.refusedWith) throw new Error(this.refusedWith);
    if (!this.reachable || refused || !this.addresses.has(target.host) || target.port !== this.sshPort) {
      throw new Error(`connect ECONNREFUSED ${target.host}:${target.port}`);
    }
    if (target.pinnedHostKey && target.pinnedHostKey !== this.hostKey) {
      throw new HostKeyMismatchError(target.host, target.pinnedHostKey, this.hostKey);
    }
    const user = this.users.get(target.user);
    const blob = await publicKeyBlob(target.privateKey);
    const keys = user ? this.files.get(`${user.home}/.ssh/authorized_keys`)?.content ?? "" : "";
    if (!keys.split("\n").some((line) => line.split(/\s+/).includes(blob))) {
      throw new Error("All configured authentication methods failed");
    }
    this.logins.push(target.user);
    return new FakeSession(this, target.user);
  }

  /** Resolves a path as a login shell does: relative to the user's home. */
  path(user: string, path: string): string {
    return path.startsWith("/") ? path : `${this.users.get(user)!.home}/${path}`;
  }

  /** Whether the caller may write `path`: root anywhere, a user in its home and /tmp. */
  mayWrite(caller: Caller, path: string): boolean {
    const home = this.users.get(caller.user)!.home;
    return caller.root || path.startsWith(`${home}/`) || path === home || path.startsWith("/tmp/");
  }

  /** Runs argv as the caller: sudo, flock and env unwrapped, then a builtin or a command of the table. */
  exec(argv: string[], caller: Caller, stdin = ""): RunResult {
    const [cmd, ...args] = argv;
    const file = cmd.startsWith("/") ? this.files.get(cmd) : undefined;
    if (file && !this.installed.has(cmd)) return this.#execFile(argv, file, caller, stdin);
    const failing = this.#failNext.get(cmd);
    if (failing && cmd !== "sudo" && cmd !== "flock" && cmd !== "env") {
      this.#failNext.delete(cmd);
      return failing;
    }
    if (!this.installed.has(cmd) && !["echo", "true", "false"].includes(cmd)) {
      return fail(127, `sh: 1: ${cmd}: not found`);
    }
    const run = this.commandTable.get(cmd) ?? COMMANDS[cmd];
    if (!run) return fail(127, `sh: 1: ${cmd}: not found`);
    return run(this, args, caller, stdin);
  }

  /** A file run as a command, as the kernel does: its shebang's interpreter runs it (with `file` as its argument). */
  #execFile(argv: string[], file: FakeFile, caller: Caller, stdin: string): RunResult {
    const [path, ...args] = argv;
    if ((file.mode & 0o111) === 0) return fail(126, `env: '${path}': Permission denied`);
    const shebang = /^#!\s*(\S+)/.exec(file.content);
    if (!shebang) return fail(126, `env: '${path}': Exec format error`);
    if (!this.installed.has(shebang[1])) return fail(127, `env: '${path}': No such file or directory`);
    return this.exec([shebang[1], path, ...args], caller, stdin);
  }

  async #rsync(argv: string[]): Promise<RunResult> {
    const source = argv.at(-2)!;
    const [login, target] = argv.at(-1)!.split(":");
    const excludes = argv.filter((a) => a.startsWith("--exclude=")).map((a) => a.slice(10));
    const user = login.split("@")[0];
    // Without --rsync-path=sudo rsync the receiving rsync runs as the login user.
    const caller = { user, root: argv.includes("--rsync-path=sudo rsync"), env: {} };
    const info = await Deno.stat(source.replace(/\/$/, "")).catch(() => undefined);
    if (!info) return fail(23, `rsync: [sender] link_stat "${source}" failed: No such file or directory (2)`);
    if (info.isFile) {
      if (!this.dirs.has(dirname(target))) {
        return fail(23, `rsync: [Receiver] mkstemp "${target}" failed: No such file or directory (2)`);
      }
      if (!this.mayWrite(caller, target)) {
        return fail(23, `rsync: [Receiver] mkstemp "${target}" failed: Permission denied (13)`);
      }
      this.files.set(target, { content: await Deno.readTextFile(source), mode: 0o644, owner: user });
      return ok();
    }
    if (!this.dirs.has(target)) {
      return fail(3, `rsync: [Receiver] change_dir#3 "${target}" failed: No such file or directory (2)`);
    }
    if (!this.mayWrite(caller, `${target}/`)) {
      return fail(23, `rsync: [Receiver] mkstemp "${target}/" failed: Permission denied (13)`);
    }
    if (argv.includes("--delete")) {
      for (const [path] of this.files) if (path.startsWith(`${target}/`)) this.files.delete(path);
    }
    const walk = async (dir: string) => {
      for await (const entry of Deno.readDir(dir)) {
        const local = hostJoin(dir, entry.name);
        if (excludes.some((e) => globMatch(e, entry.name))) continue;
        const inGuest = `${target}/${relative(source, local)}`;
        if (entry.isDirectory) {
          this.dirs.add(inGuest);
          await walk(local);
        } else this.files.set(inGuest, { content: await Deno.readTextFile(local), mode: 0o644, owner: user });
      }
    };
    await walk(source);
    return ok();
  }
}

function globMatch(glob: string, name: string): boolean {
  const re = new RegExp(
    `^${glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`,
  );
  return re.test(name);
}
