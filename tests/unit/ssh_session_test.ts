/**
 * The SSH guest session's commands, run by a real /bin/sh on this machine in a temp "home" instead of
 * over SSH: the quoting, the atomic write, the missing-file answers.
 */
import assert from "node:assert/strict";
import type { ExecOptions, ExecResult } from "../../src/guest/ssh_client.ts";
import { SshGuestSession } from "../../src/guest/ssh_session.ts";
import { checkBatch } from "../../src/guest/session.ts";

/**
 * Runs each command line as sshd does: `sh -c LINE` in the login's home, stdin given, then closed; with
 * `path`, that PATH (for counting the programs a command starts).
 */
function localShell(home: string, path?: string) {
  const commands: string[] = [];
  return {
    commands,
    hostKey: "ssh-ed25519 AAAA",
    close() {},
    async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
      commands.push(command);
      const child = new Deno.Command("sh", {
        args: ["-c", command],
        cwd: home,
        env: path ? { PATH: path } : undefined,
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const writer = child.stdin.getWriter();
      if (options.stdin !== undefined) {
        await writer.write(
          typeof options.stdin === "string" ? new TextEncoder().encode(options.stdin) : options.stdin,
        );
      }
      await writer.close();
      const out = await child.output();
      const text = new TextDecoder();
      return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
    },
  };
}

Deno.test("SshGuestSession: putFile writes whole with its mode, readFile and listDir tell a missing path", async () => {
  const home = await Deno.makeTempDir({ prefix: "lv-ssh-session-" });
  try {
    const conn = localShell(home);
    const s = new SshGuestSession(conn);
    await Deno.mkdir(`${home}/.ssh`);
    const text = 'it\'s "quoted" $HOME `x`\n';
    await s.putFile(".ssh/authorized_keys", text, { mode: 0o600 });
    assert.equal(await Deno.readTextFile(`${home}/.ssh/authorized_keys`), text);
    assert.equal((await Deno.stat(`${home}/.ssh/authorized_keys`)).mode! & 0o777, 0o600);
    assert.equal(await s.readFile(".ssh/authorized_keys"), text);
    assert.equal(await s.readFile("no such file"), undefined);
    assert.deepEqual(await s.listDir(".ssh"), ["authorized_keys"], "no temp file left beside it");
    assert.equal(await s.listDir("nowhere"), undefined);
    await assert.rejects(s.putFile("nowhere/x", "x"), /^Error: cannot write nowhere\/x in the guest: /);
    // A large file (a provisioner's script) whole: its text goes in the script on standard input.
    const large = Array.from({ length: 20000 }, (_, i) => `line ${i}: 'q' "d" \\ % é\n`).join("");
    await s.putFile("large", large, { mode: 0o755 });
    assert.equal(await Deno.readTextFile(`${home}/large`), large);
    assert.equal(await s.readFile("large"), large);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("SshGuestSession: putFile removes a link planted at its temp file instead of writing through it", async () => {
  const home = await Deno.makeTempDir({ prefix: "lv-ssh-session-" });
  try {
    const s = new SshGuestSession(localShell(home));
    await Deno.writeTextFile(`${home}/victim`, "keep");
    await Deno.symlink(`${home}/victim`, `${home}/file.lv-new`);
    await s.putFile("file", "new");
    assert.equal(await Deno.readTextFile(`${home}/victim`), "keep", "the link was removed, not followed");
    assert.equal(await Deno.readTextFile(`${home}/file`), "new");
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("SshGuestSession.run passes argv words unexpanded, sudo as sudo -n, and the exit code", async () => {
  const home = await Deno.makeTempDir({ prefix: "lv-ssh-session-" });
  try {
    const conn = localShell(home);
    const s = new SshGuestSession(conn);
    const r = await s.run(["printf", "%s|", "a b", "$HOME", "it's"]);
    assert.deepEqual(r, { code: 0, stdout: "a b|$HOME|it's|", stderr: "" });
    assert.equal((await s.run(["sh", "-c", "exit 7"])).code, 7);
    assert.equal((await s.run(["no-such-command-lv"])).code, 127);
    await s.run(["true"], { sudo: true });
    assert.equal(conn.commands.at(-1), "sudo -n true");
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("SshGuestSession.batch: one command for every operation, each answered as its single method answers", async () => {
  const home = await Deno.makeTempDir({ prefix: "lv-ssh-session-" });
  try {
    const conn = localShell(home);
    const s = new SshGuestSession(conn);
    await Deno.mkdir(`${home}/d`);
    const text = 'it\'s "quoted" $HOME `x` % \\ 100%s é\n\n';
    const results = await s.batch([
      { run: ["mkdir", "-p", "-m", "700", ".ssh"] },
      { put: ".ssh/authorized_keys", content: text, mode: 0o600 },
      { read: ".ssh/authorized_keys" },
      { read: "no such file" },
      { list: "d" },
      { list: "nowhere" },
      { run: ["sh", "-c", 'cat; echo "err $1" >&2; exit 3', "sh", "arg"], stdin: "in\n" },
      { put: "nowhere/x", content: "x" },
      { run: ["printf", "no newline"] },
    ]);
    assert.equal(conn.commands.length, 1, "one round trip");
    assert.equal(await Deno.readTextFile(`${home}/.ssh/authorized_keys`), text);
    assert.equal((await Deno.stat(`${home}/.ssh/authorized_keys`)).mode! & 0o777, 0o600);
    assert.deepEqual(results.slice(0, 6), [
      { ran: true, run: { code: 0, stdout: "", stderr: "" } },
      { ran: true },
      { ran: true, text },
      { ran: true },
      { ran: true, names: [] },
      { ran: true },
    ]);
    assert.deepEqual(results[6], { ran: true, run: { code: 3, stdout: "in\n", stderr: "err arg\n" } });
    assert.match(results[7].error!, /^cannot write nowhere\/x in the guest: /);
    assert.deepEqual(results[8], { ran: true, run: { code: 0, stdout: "no newline", stderr: "" } });
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("SshGuestSession.batch with stopOnFailure runs nothing after the first failure; sudo is one sudo -n", async () => {
  const home = await Deno.makeTempDir({ prefix: "lv-ssh-session-" });
  try {
    const conn = localShell(home);
    const s = new SshGuestSession(conn);
    const results = await s.batch([
      { put: "a", content: "a" },
      { run: ["false"] },
      { put: "b", content: "b" },
    ], { stopOnFailure: true });
    assert.deepEqual(results.map((r) => r.ran), [true, true, false]);
    assert.equal(await Deno.readTextFile(`${home}/a`), "a");
    await assert.rejects(Deno.stat(`${home}/b`), Deno.errors.NotFound);
    // A guest whose sudo asks a password: the batch never starts, and says so.
    const lines: string[] = [];
    const refusing = new SshGuestSession({
      hostKey: "ssh-ed25519 AAAA",
      close() {},
      exec: (line: string) => {
        lines.push(line);
        return Promise.resolve({ code: 1, stdout: "", stderr: "sudo: a password is required\n" });
      },
    });
    await assert.rejects(
      refusing.batch([{ run: ["true"] }], { sudo: true }),
      /^Error: cannot run as root in the guest: exit code 1: sudo: a password is required$/,
    );
    await assert.rejects(
      refusing.putFile("/etc/x", "x", { sudo: true }),
      /^Error: cannot write \/etc\/x in the guest: sudo: a password is required$/,
    );
    assert.deepEqual(lines, ["sudo -n sh -s", "sudo -n sh -s"]);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("SshGuestSession.batch: a run with mayFail fails without ending a batch that stops on failure", async () => {
  const home = await Deno.makeTempDir({ prefix: "lv-ssh-session-" });
  try {
    const s = new SshGuestSession(localShell(home));
    const ops = [
      { run: ["false"], mayFail: true },
      { put: "a", content: "a" },
      { run: ["false"] },
      { put: "b", content: "b" },
    ];
    const results = await s.batch(ops, { stopOnFailure: true });
    assert.deepEqual(results.map((r) => [r.ran, r.run?.code]), [[true, 1], [true, undefined], [true, 1], [
      false,
      undefined,
    ]]);
    assert.equal(await Deno.readTextFile(`${home}/a`), "a");
    await assert.rejects(Deno.stat(`${home}/b`), Deno.errors.NotFound);
    assert.throws(() => checkBatch("step", ops, results), /^Error: step: false: exit code 1/);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("SshGuestSession.batch: a read or list of nothing there does not end a batch that stops on failure", async () => {
  const home = await Deno.makeTempDir({ prefix: "lv-ssh-session-" });
  try {
    const s = new SshGuestSession(localShell(home));
    const results = await s.batch([
      { read: "missing" },
      { list: "no-dir" },
      { put: "a", content: "a" },
      { read: "a" },
    ], { stopOnFailure: true });
    assert.deepEqual(results, [{ ran: true }, { ran: true }, { ran: true }, { ran: true, text: "a" }]);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("SshGuestSession.batch: a put with append adds to the file's text on a line of its own, else creates it", async () => {
  const home = await Deno.makeTempDir({ prefix: "lv-ssh-session-" });
  try {
    const s = new SshGuestSession(localShell(home));
    await Deno.mkdir(`${home}/.ssh`);
    const keys = ".ssh/authorized_keys";
    const add = (line: string) => ({ put: keys, content: `${line}\n`, mode: 0o600, append: true });
    const [before, created] = await s.batch([{ read: keys }, add("ssh-ed25519 AAAA first")]);
    assert.equal(before.text, undefined);
    assert.equal(created.error, undefined);
    assert.equal(await Deno.readTextFile(`${home}/${keys}`), "ssh-ed25519 AAAA first\n");
    await Deno.writeTextFile(`${home}/${keys}`, "ssh-rsa BBBB no newline at the end");
    await Deno.chmod(`${home}/${keys}`, 0o644);
    await s.batch([add("ssh-ed25519 CCCC second")]);
    assert.equal(
      await Deno.readTextFile(`${home}/${keys}`),
      "ssh-rsa BBBB no newline at the end\nssh-ed25519 CCCC second\n",
    );
    assert.equal((await Deno.stat(`${home}/${keys}`)).mode! & 0o777, 0o600);
    assert.deepEqual(await s.listDir(".ssh"), ["authorized_keys"], "no temp file left beside it");
    // The old text exactly, its blank lines at the end too; an old text it cannot read fails the put.
    await Deno.writeTextFile(`${home}/${keys}`, "a\n\n");
    await s.batch([add("b")]);
    assert.equal(await Deno.readTextFile(`${home}/${keys}`), "a\n\nb\n");
    await Deno.mkdir(`${home}/dir`);
    const [failed] = await s.batch([{ put: "dir", content: "x\n", append: true }]);
    assert.match(failed.error!, /^cannot write dir in the guest: .*dir/);
    assert.ok((await Deno.stat(`${home}/dir`)).isDirectory);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

/** A PATH of wrappers that note each program started in `log`, then run the real one. */
function countingPath(dir: string, log: string, programs: string[]): string {
  for (const name of programs) {
    const real = new TextDecoder().decode(
      new Deno.Command("sh", { args: ["-c", `command -v ${name}`] }).outputSync().stdout,
    ).trim();
    assert.ok(real.startsWith("/"), `${name} not found`);
    Deno.writeTextFileSync(`${dir}/${name}`, `#!/bin/sh\necho ${name} >> '${log}'\nexec ${real} "$@"\n`, {
      mode: 0o755,
    });
  }
  return dir;
}

Deno.test("SshGuestSession.batch starts only the programs its operations need (each costs a booting TCG guest ~0.1 s)", async () => {
  const home = await Deno.makeTempDir({ prefix: "lv-ssh-session-" });
  try {
    const log = `${home}/started`;
    Deno.mkdirSync(`${home}/bin`);
    Deno.mkdirSync(`${home}/d`);
    Deno.writeTextFileSync(`${home}/f`, "text\n");
    Deno.writeTextFileSync(`${home}/d/.hidden`, "");
    const long = Array.from({ length: 150 }, (_, i) => `line ${i}\n`).join("") + "no newline";
    Deno.writeTextFileSync(`${home}/long`, long);
    const path = countingPath(`${home}/bin`, log, [
      "sh",
      "cat",
      "ls",
      "mktemp",
      "rm",
      "mv",
      "chmod",
      "mkdir",
    ]);
    const s = new SshGuestSession(localShell(home, path));
    const results = await s.batch([
      { read: "f" },
      { read: "missing" },
      { read: "long" },
      { list: "d" },
      { run: ["true"] },
      { run: ["sh", "-c", 'echo "$1" >&2; exit 3', "sh", "arg"] },
      { put: "p", content: "secret\n", mode: 0o600 },
      { put: "q", content: "#!/bin/sh\n", mode: 0o755 },
      { put: "f", content: "more\n", append: true },
      { put: ".ssh/k", content: "key\n", mode: 0o600, dirMode: 0o700 },
      { put: ".ssh/k", content: "key2\n", mode: 0o600, dirMode: 0o700 },
    ]);
    assert.equal(Deno.statSync(`${home}/p`).mode! & 0o777, 0o600);
    assert.equal(Deno.statSync(`${home}/q`).mode! & 0o777, 0o755);
    assert.deepEqual(results, [
      { ran: true, text: "text\n" },
      { ran: true },
      { ran: true, text: long },
      { ran: true, names: [".hidden"] },
      { ran: true, run: { code: 0, stdout: "", stderr: "" } },
      { ran: true, run: { code: 3, stdout: "", stderr: "arg\n" } },
      { ran: true },
      { ran: true },
      { ran: true },
      { ran: true },
      { ran: true },
    ]);
    assert.equal(Deno.readTextFileSync(`${home}/f`), "text\nmore\n");
    assert.equal(Deno.statSync(`${home}/.ssh`).mode! & 0o777, 0o700);
    assert.equal(Deno.readTextFileSync(`${home}/.ssh/k`), "key2\n");
    const started = Deno.readTextFileSync(log).trim().split("\n");
    // The batch's shell; each put's mv (its text printed by the shell into a file created with its mode:
    // chmod only for one umask cannot give), the appending put's cat of the old text, the missing directory
    // made once; cat for a read's lines past its 100th. No shell per read, list, put or script, no program
    // to read a short file or list a directory, no temp file for error output (it comes back on the
    // session's own), none to write a put's text or to look at the old text's last byte.
    assert.deepEqual(
      started.filter((p) => p !== "sh").sort(),
      ["cat", "cat", "chmod", "mkdir", "mv", "mv", "mv", "mv", "mv"],
    );
    assert.ok(started.filter((p) => p === "sh").length <= 2, `shells started: ${started.join(" ")}`);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
