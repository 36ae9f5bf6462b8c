/**
 * The fake guest's commands, as far as lv and the tests' scripts use them, and its /bin/sh: runs a script
 * file of the fake guest line by line. Enough of sh for the tests' provisioners: simple commands with '...'
 * and "..." words, $1..$9, $@ and $NAME, `> file` and `>> file`, `set -e`, `exit N`; a command not found is
 * 127 and the script goes on (unless set -e), as sh does.
 */
import { dirname } from "node:path";
import type { RunResult } from "../../src/guest/session.ts";
import type { Caller, FakeGuest } from "./fake_guest.ts";

export const ok = (stdout = ""): RunResult => ({ code: 0, stdout, stderr: "" });
export const fail = (code: number, stderr: string): RunResult => ({
  code,
  stdout: "",
  stderr: `${stderr}\n`,
});

/** Splits a line into words, expanding $N, $@ and $NAME outside single quotes. */
function words(line: string, vars: (name: string) => string): string[] {
  const out: string[] = [];
  let word = "";
  let quote = "";
  let started = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote === "'") {
      if (c === "'") quote = "";
      else word += c;
    } else if (c === "$" && /[A-Za-z0-9_@]/.test(line[i + 1] ?? "")) {
      const name = /^[0-9@]|^[A-Za-z_][A-Za-z0-9_]*/.exec(line.slice(i + 1))![0];
      word += vars(name);
      i += name.length;
      started = true;
    } else if (quote === '"') {
      if (c === '"') quote = "";
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      started = true;
    } else if (c === " " || c === "\t") {
      if (started || word) out.push(word);
      word = "";
      started = false;
    } else word += c;
  }
  if (started || word) out.push(word);
  return out;
}

/** Runs `sh FILE ARGS...` as the caller. */
export function runScript(guest: FakeGuest, args: string[], caller: Caller): RunResult {
  const [file, ...positional] = args;
  const script = guest.files.get(guest.path(caller.user, file))?.content;
  if (script === undefined) {
    return { code: 2, stdout: "", stderr: `sh: 0: cannot open ${file}: No such file\n` };
  }
  const vars = (name: string) =>
    name === "@"
      ? positional.join(" ")
      : /^\d$/.test(name)
      ? positional[+name - 1] ?? ""
      : caller.env[name] ?? "";
  let stdout = "", stderr = "", code = 0, errexit = false;
  for (const [n, raw] of script.split("\n").entries()) {
    const line = raw.replace(/^\s*#.*$/, "").trim();
    if (!line) continue;
    let argv = words(line, vars);
    if (argv[0] === "exit") return { code: Number(argv[1] ?? code), stdout, stderr };
    if (argv[0] === "set") {
      errexit = argv.includes("-e");
      continue;
    }
    const redirect = argv.findIndex((w) => w === ">" || w === ">>");
    const target = redirect >= 0 ? guest.path(caller.user, argv[redirect + 1]) : undefined;
    if (redirect >= 0) argv = argv.slice(0, redirect);
    const r = guest.exec(argv, caller);
    code = r.code;
    stderr += r.code === 127 ? `${file}: ${n + 1}: ${argv[0]}: not found\n` : r.stderr;
    if (target === undefined) stdout += r.stdout;
    else if (!guest.mayWrite(caller, target)) {
      code = 2;
      stderr += `${file}: ${n + 1}: cannot create ${target}: Permission denied\n`;
    } else {
      const before = argv && line.includes(">>") ? guest.files.get(target)?.content ?? "" : "";
      guest.files.set(target, {
        content: before + r.stdout,
        mode: 0o644,
        owner: caller.root ? "root" : caller.user,
      });
    }
    if (errexit && code !== 0) return { code, stdout, stderr };
  }
  return { code, stdout, stderr };
}

export type Command = (guest: FakeGuest, args: string[], caller: Caller, stdin: string) => RunResult;

const rootOnly = (what: string) => fail(1, `${what}: Operation not permitted`);

/** The guest's commands, as far as lv and the tests' scripts use them. */
export const COMMANDS: Record<string, Command> = {
  sudo(guest, args, caller, stdin) {
    const user = guest.users.get(caller.user)!;
    if (user.sudo === "none") return fail(127, "sh: 1: sudo: not found");
    if (user.sudo === "password") return fail(1, "sudo: a password is required");
    const rest = args[0] === "-n" ? args.slice(1) : args;
    return guest.exec(rest, { ...caller, root: true }, stdin);
  },
  flock(guest, args, caller, stdin) {
    if (args[0] === "--version") return ok("flock from util-linux 2.38.1\n");
    guest.files.set(args[0], guest.files.get(args[0]) ?? { content: "", mode: 0o644, owner: caller.user });
    return guest.exec(args.slice(1), caller, stdin);
  },
  env(guest, args, caller, stdin) {
    const env = { ...caller.env };
    let i = 0;
    if (args[0] === "-C") {
      // coreutils' --chdir: the directory must exist.
      if (!guest.dirs.has(args[1])) {
        return fail(125, `env: cannot change directory to '${args[1]}': No such file or directory`);
      }
      env.PWD = args[1];
      i = 2;
    }
    for (; i < args.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(args[i]); i++) {
      const eq = args[i].indexOf("=");
      env[args[i].slice(0, eq)] = args[i].slice(eq + 1);
    }
    return guest.exec(args.slice(i), { ...caller, env }, stdin);
  },
  sh: (guest, args, caller) => runScript(guest, args, caller),
  "/bin/sh": (guest, args, caller) => runScript(guest, args, caller),
  hostname(guest, args, caller) {
    if (args.length === 0) return ok(`${guest.hostname}\n`);
    if (!caller.root) return fail(1, "hostname: you must be root to change the host name");
    guest.hostname = args[0];
    return ok();
  },
  whoami: (_guest, _args, caller) => ok(`${caller.root ? "root" : caller.user}\n`),
  echo: (_guest, args) => ok(`${args.join(" ")}\n`),
  true: () => ok(),
  false: () => ({ code: 1, stdout: "", stderr: "" }),
  sleep: () => ok(),
  mkdir(guest, args, caller) {
    for (const p of args.filter((a, i) => !a.startsWith("-") && args[i - 1] !== "-m")) {
      const path = guest.path(caller.user, p);
      if (guest.dirs.has(path)) continue;
      if (!guest.mayWrite(caller, path)) {
        return fail(1, `mkdir: cannot create directory '${p}': Permission denied`);
      }
      for (let d = path; !guest.dirs.has(d); d = dirname(d)) guest.dirs.add(d);
    }
    return ok();
  },
  chown(guest, args, caller) {
    if (!caller.root) return rootOnly(`chown: changing ownership of '${args[1]}'`);
    const file = guest.files.get(args[1]);
    if (file) file.owner = args[0];
    else if (!guest.dirs.has(args[1])) {
      return fail(1, `chown: cannot access '${args[1]}': No such file or directory`);
    }
    return ok();
  },
  rm(guest, args, caller) {
    for (const p of args.filter((a) => !a.startsWith("-"))) {
      const path = guest.path(caller.user, p);
      if (!guest.mayWrite(caller, path)) return fail(1, `rm: cannot remove '${p}': Permission denied`);
      guest.files.delete(path);
    }
    return ok();
  },
  cat(guest, args, caller) {
    const file = guest.files.get(guest.path(caller.user, args[0]));
    return file ? ok(file.content) : fail(1, `cat: ${args[0]}: No such file or directory`);
  },
  touch(guest, args, caller) {
    const path = guest.path(caller.user, args[0]);
    if (!guest.mayWrite(caller, path)) return fail(1, `touch: cannot touch '${args[0]}': Permission denied`);
    guest.files.set(path, guest.files.get(path) ?? { content: "", mode: 0o644, owner: caller.user });
    return ok();
  },
  systemctl(guest, args) {
    // is-active UNIT...: a line per unit, in order; 0 when any is active.
    const active = args.slice(1).map((unit) => guest.activeServices.has(unit));
    const stdout = active.map((a) => (a ? "active\n" : "inactive\n")).join("");
    return { code: active.some((a) => a) ? 0 : 3, stdout, stderr: "" };
  },
  networkctl(guest, args, caller) {
    if (!caller.root) return fail(1, "Failed to reload network settings: Access denied");
    if (!guest.activeServices.has("systemd-networkd")) {
      return fail(1, "Failed to connect to bus: systemd-networkd not running");
    }
    guest.networkctl.push(args.join(" "));
    return ok();
  },
  modprobe(guest, args, caller) {
    if (!caller.root) return fail(1, "modprobe: ERROR: could not insert module: Operation not permitted");
    const name = args.at(-1)!;
    if (guest.modules.has(name)) return ok();
    return fail(
      1,
      `modprobe: FATAL: Module ${name} not found in directory /lib/modules/6.1.0-50-cloud-amd64`,
    );
  },
  mountpoint: (guest, args) => (guest.mounts.has(args.at(-1)!) ? ok() : { code: 32, stdout: "", stderr: "" }),
  mount(guest, args, caller) {
    if (!caller.root) return fail(32, "mount: only root can do that");
    const [source, target] = args.slice(-2);
    if (!guest.dirs.has(target)) return fail(32, `mount: ${target}: mount point does not exist.`);
    guest.mounts.set(target, source);
    return ok();
  },
};
