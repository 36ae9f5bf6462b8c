/**
 * The fake guest's /bin/sh: runs a script file of the fake guest line by line. Enough of sh for the tests'
 * provisioners: simple commands with '...' and "..." words, $1..$9, $@ and $NAME, `> file` and `>> file`,
 * `set -e`, `exit N`; a command not found is 127 and the script goes on (unless set -e), as sh does.
 */
import type { RunResult } from "../../src/guest/session.ts";
import type { Caller, FakeGuest } from "./fake_guest.ts";

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
