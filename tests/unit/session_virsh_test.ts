/**
 * SessionVirsh against `virsh` run with an argv (ProcessVirsh), on libvirt's test driver (test:///default:
 * no daemon, state kept per connection): the words virsh's shell makes of the quoted line, output, errors,
 * stdin text, the fallbacks to a process, LV_VIRSH_LOG, concurrency, and a session that hangs, dies or
 * cannot connect. Against a real libvirtd: tests/integration/session_virsh_test.ts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  droppedConnection,
  oneOffReason,
  sessionLine,
  SessionVirsh,
  shellWord,
} from "../../src/libvirt/session_virsh.ts";
import { ProcessVirsh, VirshError, type VirshResult } from "../../src/libvirt/virsh.ts";

const TEST_URI = "test:///default";

/** A small deterministic PRNG (mulberry32), so a failing case can be reproduced. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join("");
const SPECIAL = ` '"\\;#$\`|&<>(){}[]*?!~=,:@%^-`;

/** Values that virsh's shell could split, unquote, comment out or take as an option. */
const NASTY: string[] = [
  "",
  " ",
  "   ",
  "a b",
  " leading",
  "trailing ",
  "'",
  "''",
  "'''",
  '"',
  '""',
  "\\",
  "\\\\",
  "\\'",
  "'\\''",
  '\\"',
  "a\\",
  "#comment",
  "a #b",
  ";",
  "a;b",
  "a ; b",
  "echo x; echo y",
  "--",
  "--shell",
  "--err",
  "-x",
  "=",
  "--x=y",
  "$HOME",
  "`id`",
  "$(id)",
  "~",
  "!!",
  "*",
  "a\"b'c\\d",
  `<host mac='52:54:00:00:00:01' name="web's box" ip='10.0.0.5'/>`,
  `{"execute":"query-status"}`,
  "virsh # echo x",
  "error: fake",
  PRINTABLE,
  PRINTABLE.split("").reverse().join(""),
  "x".repeat(10_000),
  "'".repeat(500),
];

Deno.test("shellWord() and sessionLine() single-quote every word, ' as '\\''", () => {
  assert.equal(shellWord("a"), "'a'");
  assert.equal(shellWord(""), "''");
  assert.equal(shellWord("it's"), "'it'\\''s'");
  assert.equal(sessionLine(["net-update", "n", "a b"]), "'net-update' 'n' 'a b'");
});

Deno.test("oneOffReason() sends streams, long commands, shell state, unprintable text and std streams to a process", async (t) => {
  const cases: [string[], boolean, string | undefined][] = [
    [["dumpxml", "web"], false, undefined],
    [["define", "/dev/stdin"], true, undefined],
    [["net-update", "n", "add-last", "ip-dhcp-host", "<host mac='x'/>", "--config"], false, undefined],
    [
      ["vol-upload", "--pool", "default", "v", "/tmp/f"],
      false,
      "vol-upload streams, runs long or changes the shell",
    ],
    [
      ["vol-download", "--pool", "default", "v", "/tmp/f"],
      false,
      "vol-download streams, runs long or changes the shell",
    ],
    [["console", "web"], false, "console streams, runs long or changes the shell"],
    [
      ["snapshot-create-as", "web", "s1"],
      false,
      "snapshot-create-as streams, runs long or changes the shell",
    ],
    [["connect", "qemu:///session"], false, "connect streams, runs long or changes the shell"],
    [["cd", "/"], false, "cd streams, runs long or changes the shell"],
    [["quit"], false, "quit streams, runs long or changes the shell"],
    [["edit", "web"], false, "edit reads the terminal"],
    [["net-edit", "n"], false, "net-edit reads the terminal"],
    [["secret-set-value", "s", "--interactive"], false, "secret-set-value reads the terminal"],
    [[], false, "no command"],
    [["-r", "list"], false, "global option"],
    [["desc", "web", "a\nb"], false, "an argument is not printable ASCII"],
    [["desc", "web", "a\tb"], false, "an argument is not printable ASCII"],
    [["desc", "web", "caf\u00e9"], false, "an argument is not printable ASCII"],
    [["desc", "web", "\x01"], false, "an argument is not printable ASCII"],
    [["desc", "web", "\x7f"], false, "an argument is not printable ASCII"],
    [["define", "/dev/stdin"], false, "/dev/stdin would be the session's"],
    [["screenshot", "web", "/dev/stdout"], false, "/dev/stdout would be the session's"],
    [["define", "/proc/self/fd/0"], true, "/proc/self/fd/0 would be the session's"],
    [["define", "/dev/fd/0"], false, "/dev/fd/0 would be the session's"],
    [["define", "/tmp/x.xml"], true, "stdin text without a /dev/stdin argument"],
    [["echo", "x".repeat(20_000)], false, "command line too long"],
  ];
  for (const [args, stdin, reason] of cases) {
    await t.step(`${JSON.stringify(args).slice(0, 60)}${stdin ? " with stdin" : ""}`, () => {
      assert.equal(oneOffReason(args, stdin), reason);
    });
  }
});

Deno.test("droppedConnection() turns virsh's reconnection messages into what a new process says", async (t) => {
  await t.step("reconnected: the lines go, the command's own result stays", () => {
    const r = droppedConnection(
      "error: Disconnected from qemu:///system due to end of file\nerror: Reconnected to the hypervisor\n",
    );
    assert.deepEqual(r, { stderr: "", dropped: true });
  });
  await t.step("failed to reconnect: the words of a failed connect", () => {
    const r = droppedConnection(
      "error: Disconnected from qemu:///system due to end of file\n" +
        "error: Failed to reconnect to the hypervisor\n" +
        "error: Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory\n",
    );
    assert.equal(
      r.stderr,
      "error: failed to connect to the hypervisor\n" +
        "error: Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory\n",
    );
    assert.ok(r.dropped);
    assert.ok(new VirshError(["list"], { code: 1, stdout: "", stderr: r.stderr }).unreachable);
  });
  await t.step("dropped during the command: its own error stays", () => {
    const r = droppedConnection(
      "error: Disconnected from qemu:///system due to end of file\n" +
        "error: Failed to start domain 'web'\nerror: End of file while reading data: Input/output error\n",
    );
    assert.equal(
      r.stderr,
      "error: Failed to start domain 'web'\nerror: End of file while reading data: Input/output error\n",
    );
  });
  await t.step("nothing dropped: unchanged", () => {
    const stderr = "error: failed to get domain 'x'\n";
    assert.deepEqual(droppedConnection(stderr), { stderr, dropped: false });
  });
});

/** Runs `args` through both runners; fails with both results when they differ. */
async function same(session: SessionVirsh, process: ProcessVirsh, args: string[], stdin?: string) {
  const a = await session.run(args, { stdin });
  const b = await process.run(args, { stdin });
  assert.deepEqual(a, b, `${JSON.stringify(args).slice(0, 200)}`);
  return a;
}

Deno.test("SessionVirsh gives virsh's argv words for any printable text, as a process does", async (t) => {
  const session = new SessionVirsh(TEST_URI);
  const process = new ProcessVirsh(TEST_URI);
  try {
    await t.step("each nasty value is one word, unchanged (echo prints it back exactly)", async () => {
      for (const value of NASTY) {
        const r = await same(session, process, ["echo", "--", value]);
        assert.equal(r.stdout, value);
        assert.equal(r.code, 0);
      }
    });
    await t.step("all of them in one command, shell-quoted back by virsh (echo --shell)", async () => {
      const r = await same(session, process, ["echo", "--shell", "--", ...NASTY]);
      assert.equal(r.code, 0);
    });
    await t.step("500 random printable strings, 25 to a command", async () => {
      const rand = prng(20261127);
      const pool = PRINTABLE + SPECIAL.repeat(4);
      for (let i = 0; i < 20; i++) {
        const words = Array.from({ length: 25 }, () => {
          const n = Math.floor(rand() * 40);
          return Array.from({ length: n }, () => pool[Math.floor(rand() * pool.length)]).join("");
        });
        const r = await same(session, process, ["echo", "--shell", "--", ...words]);
        assert.equal(r.code, 0);
        for (const w of words) {
          const one = await session.run(["echo", "--", w]);
          assert.equal(one.stdout, w);
        }
      }
    });
    await t.step("options in quotes are still options, as in an argv", async () => {
      await same(session, process, ["echo", "--shell", "a b"]);
      await same(session, process, ["echo", "--prefix", "p q", "x"]);
      await same(session, process, ["echo", "--prefix=p q", "x"]);
    });
    await t.step("text a session cannot carry goes through a process, with the same result", async () => {
      for (const value of ["a\nb", "tab\there", "caf\u00e9 \u2603", "bell\x07", "\x7f", "cr\r"]) {
        const r = await same(session, process, ["echo", "--", value]);
        assert.equal(r.stdout, value);
      }
    });
    assert.equal(session.pids.length, 1, "one session did all of it");
  } finally {
    await session.close();
  }
});

Deno.test("SessionVirsh output and failures are a process's: stdout, code 1 and stderr text", async (t) => {
  const session = new SessionVirsh(TEST_URI);
  const process = new ProcessVirsh(TEST_URI);
  try {
    const cases: [string[], number][] = [
      [["list", "--all"], 0],
      [["list", "--all", "--name"], 0],
      [["dumpxml", "test"], 0],
      [["dumpxml", "--inactive", "test"], 0],
      [["domstate", "--reason", "test"], 0],
      [["domid", "test"], 0],
      [["net-list", "--all"], 0],
      [["net-dumpxml", "default"], 0],
      [["net-dumpxml", "--inactive", "default"], 1], // the test driver has no inactive XML
      [["net-info", "default"], 0],
      [["pool-info", "default-pool"], 0],
      [["pool-dumpxml", "default-pool"], 0],
      [["vol-list", "--pool", "default-pool"], 0],
      [["snapshot-list", "test", "--name", "--topological"], 0],
      [["version", "--daemon"], 0],
      [["capabilities"], 0],
      [["echo"], 0],
      [["echo", "no newline"], 0],
      [["dumpxml", "nosuch"], 1],
      [["domstate", "--reason", "nosuch"], 1],
      [["net-info", "nosuch"], 1],
      [["net-dumpxml", "--inactive", "nosuch"], 1],
      [["pool-info", "nosuch"], 1],
      [["vol-dumpxml", "--pool", "default-pool", "nosuch"], 1],
      [["vol-list", "--pool", "nosuch"], 1],
      [["snapshot-list", "nosuch", "--name"], 1],
      [["undefine", "nosuch"], 1],
      [["nosuch-command"], 1],
      [["list", "--no-such-option"], 1],
      [["dumpxml"], 1],
      [["domstate", "a", "b", "c"], 1],
      [["echo", "--shell", "--xml", "x"], 1],
    ];
    for (const [args, code] of cases) {
      await t.step(args.join(" "), async () => {
        const r = await same(session, process, args);
        assert.equal(r.code, code, r.stderr);
        if (code) assert.match(r.stderr, /^error: /);
      });
    }
    await t.step("VirshError.notFound holds for a missing domain, network, pool and volume", async () => {
      for (
        const args of [["dumpxml", "nosuch"], ["net-info", "nosuch"], ["pool-info", "nosuch"], [
          "vol-dumpxml",
          "--pool",
          "default-pool",
          "nosuch",
        ]]
      ) {
        const r = await session.run(args);
        assert.ok(new VirshError(args, r).notFound, `${args.join(" ")}: ${r.stderr}`);
      }
    });
  } finally {
    await session.close();
  }
});

const DOMAIN_XML = (name: string, title = "") =>
  `<domain type='test'>
  <name>${name}</name>
  <description>${title}</description>
  <memory unit='KiB'>65536</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
</domain>
`;

Deno.test("SessionVirsh passes stdin text through a private temporary file, named /dev/stdin in messages", async (t) => {
  const session = new SessionVirsh(TEST_URI);
  const process = new ProcessVirsh(TEST_URI);
  const tmp = await Deno.makeTempDir({ prefix: "lv-session-tmp-" });
  const oldTmp = Deno.env.get("TMPDIR");
  Deno.env.set("TMPDIR", tmp);
  try {
    await t.step("define from /dev/stdin: the same output; the domain exists in the session", async () => {
      const xml = DOMAIN_XML(
        "sv-a",
        `it's "quoted" & <escaped> ; # \\ \n line two`.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(
          />/g,
          "&gt;",
        ),
      );
      const r = await same(session, process, ["define", "/dev/stdin"], xml);
      assert.equal(r.code, 0, r.stderr);
      const back = await session.run(["dumpxml", "sv-a"]);
      assert.match(
        back.stdout,
        /<description>it&apos;s &quot;quoted&quot; &amp; &lt;escaped&gt; ; # \\ \n line two<\/description>/,
      );
    });
    await t.step("bad XML: the same error, naming /dev/stdin", async () => {
      const r = await same(session, process, ["define", "/dev/stdin"], "<domain><name>x</nam></domain>");
      assert.equal(r.code, 1);
      assert.match(r.stderr, /\/dev\/stdin/);
      assert.doesNotMatch(r.stderr, /lv-virsh-stdin/);
    });
    await t.step("empty stdin: the same error", async () => {
      await same(session, process, ["define", "/dev/stdin"], "");
    });
    await t.step("the temporary files are gone", async () => {
      const left = [];
      for await (const e of Deno.readDir(tmp)) left.push(e.name);
      assert.deepEqual(left, []);
    });
    await t.step("a temporary file is readable by its owner only while it exists", async () => {
      // Seen through a run whose stdin names a file the session reads: ls of the file, from virsh's view,
      // is not possible; look while the command waits instead (the session is busy with it).
      const seen: Deno.FileInfo[] = [];
      const watcher = (async () => {
        const deadline = Date.now() + 5000;
        while (seen.length === 0 && Date.now() < deadline) {
          for await (const e of Deno.readDir(tmp)) {
            await Deno.stat(join(tmp, e.name)).then((i) => seen.push(i), () => {/* removed meanwhile */});
          }
          await new Promise((r) => setTimeout(r, 1));
        }
      })();
      for (let i = 0; i < 200 && seen.length === 0; i++) {
        await session.run(["define", "/dev/stdin"], { stdin: DOMAIN_XML(`sv-m${i}`) });
      }
      await watcher;
      assert.ok(seen.length > 0, "saw a temporary file");
      assert.equal(seen[0].mode! & 0o777, 0o600);
    });
  } finally {
    if (oldTmp === undefined) Deno.env.delete("TMPDIR");
    else Deno.env.set("TMPDIR", oldTmp);
    await session.close();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("SessionVirsh logs every command's argv to LV_VIRSH_LOG once, session or process", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lv-session-log-" });
  const log = join(dir, "virsh.log");
  Deno.env.set("LV_VIRSH_LOG", log);
  const session = new SessionVirsh(TEST_URI);
  Deno.env.delete("LV_VIRSH_LOG");
  try {
    const commands = [["list", "--all"], ["echo", "a\nb"], ["dumpxml", "nosuch"], [
      "vol-download",
      "--pool",
      "p",
      "v",
      "/nonexistent/x",
    ], ["echo", "it's"]];
    for (const c of commands) await session.run(c);
    const lines = (await Deno.readTextFile(log)).trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines, commands);
    assert.equal(session.calls, commands.length);
  } finally {
    await session.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SessionVirsh runs concurrent callers one command per session at a time, with at most maxSessions", async () => {
  const session = new SessionVirsh(TEST_URI, TEST_URI, undefined, { maxSessions: 2 });
  try {
    const seen = new Set<number>();
    const results = await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const r = await session.run(["echo", "--", `caller ${i} 'x' "y"`]);
        for (const p of session.pids) seen.add(p);
        return r;
      }),
    );
    results.forEach((r, i) => assert.deepEqual(r, { code: 0, stdout: `caller ${i} 'x' "y"`, stderr: "" }));
    assert.ok(seen.size <= 2, `sessions: ${[...seen]}`);
    assert.ok(session.pids.length <= 2);
    // State is per session connection on the test driver; a define then a read from many callers at once
    // each get their own answer.
    const defs = await Promise.all(
      Array.from({ length: 10 }, (_, i) => session.run(["domstate", i % 2 ? "test" : "nosuch"])),
    );
    defs.forEach((r, i) => assert.equal(r.code, i % 2 ? 0 : 1));
  } finally {
    await session.close();
  }
});

Deno.test("SessionVirsh starts a new session after its process was killed", async (t) => {
  const session = new SessionVirsh(TEST_URI);
  try {
    await t.step("killed while idle: the next command runs in a new session", async () => {
      await session.run(["echo", "x"]);
      const [pid] = session.pids;
      Deno.kill(pid, "SIGKILL");
      await waitUntil(() => !session.pids.includes(pid), "the session is seen gone");
      const r = await session.run(["domstate", "test"]);
      assert.deepEqual(r, { code: 0, stdout: "running\n", stderr: "" });
      assert.equal(session.pids.length, 1);
      assert.notEqual(session.pids[0], pid);
    });
    await t.step(
      "a session that exits at once (cannot connect) fails the command as a process does",
      async () => {
        const uri = "qemu+unix:///system?socket=/nonexistent/lv-test.sock";
        const explain = (stderr: string) => /No such file/.test(stderr) ? "lv's explanation" : undefined;
        const s = new SessionVirsh(uri, uri, explain);
        const p = new ProcessVirsh(uri, uri, explain);
        try {
          const a = await s.run(["list"]), b = await p.run(["list"]);
          assert.deepEqual(a, b);
          assert.equal(a.code, 1);
          assert.match(a.stderr, /failed to connect to the hypervisor[\s\S]*error: lv's explanation\n$/);
          assert.ok(new VirshError(["list"], a).unreachable);
          assert.deepEqual(s.pids, []);
        } finally {
          await s.close();
        }
      },
    );
  } finally {
    await session.close();
  }
});

/** A directory with a `virsh` stand-in first on PATH, for sessions that hang or die. */
async function withFakeVirsh(script: string, fn: () => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "lv-fake-virsh-" });
  await Deno.writeTextFile(join(dir, "virsh"), `#!/bin/bash\n${script}\n`, { mode: 0o755 });
  const path = Deno.env.get("PATH") ?? "";
  Deno.env.set("PATH", `${dir}:${path}`);
  try {
    await fn();
  } finally {
    Deno.env.set("PATH", path);
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("SessionVirsh: a session that gives no answer is killed after the timeout; the command fails as unreachable", async () => {
  await withFakeVirsh("printf 'virsh # '; exec sleep 600", async () => {
    const session = new SessionVirsh(TEST_URI, TEST_URI, undefined, { timeoutMs: 300 });
    try {
      const t0 = Date.now();
      const r = await session.run(["list"]);
      assert.ok(Date.now() - t0 < 10_000);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /no answer within 0.3 s/);
      assert.ok(new VirshError(["list"], r).unreachable, r.stderr);
      assert.deepEqual(session.pids, []);
      // The next command starts a new session (which hangs too: it is killed as well).
      const again = await session.run(["list"]);
      assert.equal(again.code, 1);
    } finally {
      await session.close();
    }
  });
});

Deno.test("SessionVirsh: close() ends a session whose virsh ignores SIGTERM (SIGKILL after 5 s), not waiting forever", async () => {
  await withFakeVirsh("trap '' TERM; printf 'virsh # '; exec sleep 600", async () => {
    const session = new SessionVirsh(TEST_URI, TEST_URI, undefined, { timeoutMs: 600_000 });
    const pending = session.run(["list"]); // the session is busy with it when the command ends
    await waitUntil(() => session.pids.length === 1, "the session started");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const closed = await Promise.race([
      session.close().then(() => true),
      new Promise<false>((r) => timer = setTimeout(() => r(false), 20_000)),
    ]);
    clearTimeout(timer);
    assert.equal(closed, true, "close() waited on a virsh that ignores SIGTERM");
    assert.equal((await pending).code, 1);
  });
});

Deno.test("SessionVirsh: a session that dies during a command fails it as unreachable; the next one gets a new session", async () => {
  // Reads the command line, echoes it like virsh's readline does, then dies.
  await withFakeVirsh(`printf 'virsh # '; read -r line; printf '%s\\n' "$line"; kill -9 $$`, async () => {
    const session = new SessionVirsh(TEST_URI);
    try {
      const r = await session.run(["start", "web"]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /virsh session \(pid \d+\) ended during "start": it was killed \(SIGKILL\)/);
      assert.ok(new VirshError(["start"], r).unreachable, r.stderr);
      assert.equal(r.stdout, "");
    } finally {
      await session.close();
    }
  });
});

Deno.test("SessionVirsh: the session runs where lv's working directory is", async () => {
  const session = new SessionVirsh(TEST_URI);
  const dir = await Deno.makeTempDir({ prefix: "lv-session-cwd-" });
  const before = Deno.cwd();
  try {
    await Deno.writeTextFile(join(dir, "d.xml"), DOMAIN_XML("sv-cwd"));
    await session.run(["echo", "x"]);
    const [first] = session.pids;
    Deno.chdir(dir);
    const r = await session.run(["define", "d.xml"]);
    assert.equal(r.code, 0, r.stderr);
    assert.notEqual(session.pids[0], first);
  } finally {
    Deno.chdir(before);
    await session.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SessionVirsh: history off (XDG_CACHE_HOME=/dev/null), terminal settings fixed", async () => {
  const session = new SessionVirsh(TEST_URI);
  try {
    await session.run(["echo", "x"]);
    const environ = (await Deno.readTextFile(`/proc/${session.pids[0]}/environ`)).split("\0");
    for (
      const v of ["XDG_CACHE_HOME=/dev/null", "INPUTRC=/dev/null", "TERM=dumb", "LC_ALL=C", "COLUMNS=100000"]
    ) {
      assert.ok(environ.includes(v), v);
    }
  } finally {
    await session.close();
  }
});

Deno.test("SessionVirsh.close() with callers waiting: every call is answered, no session is left", async () => {
  const session = new SessionVirsh(TEST_URI, TEST_URI, undefined, { maxSessions: 1 });
  const calls = Array.from({ length: 8 }, (_, i) => session.run(["echo", "--", `c${i}`]));
  await waitUntil(() => session.pids.length === 1, "the session started");
  const closing = session.close();
  const results = await Promise.all(calls);
  await closing;
  // The command in the session when it was closed fails as unreachable; the others ran (in the session
  // before, or as processes after).
  for (const [i, r] of results.entries()) {
    if (r.code === 0) assert.equal(r.stdout, `c${i}`);
    else assert.ok(new VirshError(["echo"], r).unreachable, r.stderr);
  }
  assert.ok(results.filter((r) => r.code === 0).length >= 7);
  assert.deepEqual(session.pids, []);
});

Deno.test("SessionVirsh.close() ends the sessions; later commands run as processes", async () => {
  const session = new SessionVirsh(TEST_URI);
  await session.run(["echo", "x"]);
  const [pid] = session.pids;
  await session.close();
  assert.deepEqual(session.pids, []);
  assert.throws(() => Deno.kill(pid, "SIGCONT"), Deno.errors.NotFound);
  const r: VirshResult = await session.run(["domstate", "test"]);
  assert.deepEqual(r, { code: 0, stdout: "running\n", stderr: "" });
  assert.deepEqual(session.pids, []);
});

Deno.test("SessionVirsh: the virsh process does not outlive lv, even killed with SIGKILL", async (t) => {
  const mod = new URL("../../src/libvirt/session_virsh.ts", import.meta.url).href;
  const child = (code: string) =>
    new Deno.Command(Deno.execPath(), {
      args: ["eval", "--ext=ts", `import { SessionVirsh } from "${mod}";\n${code}`],
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
  /** The first line the child prints; its stdout is let go after it. */
  const firstLine = async (c: Deno.ChildProcess) => {
    const reader = c.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    await reader.cancel();
    return text.trim();
  };
  await t.step(
    "lv killed with SIGKILL, a child of its own still running: virsh reads EOF and exits",
    async () => {
      const c = child(
        `const s = new SessionVirsh("${TEST_URI}");
       await s.run(["echo", "x"]);
       // Another child that lives on: it must not hold the session's stdin open.
       const other = new Deno.Command("sleep", { args: ["60"] }).spawn();
       console.log(s.pids[0], other.pid);
       await new Promise(() => setInterval(() => {}, 1000));`,
      );
      const [pid, other] = (await firstLine(c)).split(" ").map(Number);
      try {
        assert.ok(pid > 0 && alive(pid) && alive(other));
        c.kill("SIGKILL");
        await c.status;
        await waitUntil(() => !alive(pid), `virsh ${pid} exits`);
        assert.ok(alive(other), "the other child still runs");
      } finally {
        Deno.kill(other, "SIGKILL");
      }
    },
  );
  await t.step("lv ends without close(): it exits at once, and so does virsh", async () => {
    const c = child(
      `const s = new SessionVirsh("${TEST_URI}");
       await s.run(["echo", "x"]);
       console.log(s.pids[0]);`,
    );
    const pid = Number(await firstLine(c));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const status = await Promise.race([
      c.status,
      new Promise<"hung">((r) => timer = setTimeout(() => r("hung"), 10_000)),
    ]);
    clearTimeout(timer);
    assert.notEqual(status, "hung", "the script ended");
    await waitUntil(() => !alive(pid), `virsh ${pid} exits`);
  });
});

function alive(pid: number): boolean {
  try {
    // A zombie still has /proc/PID; its state is Z.
    return !/^State:\s+Z/m.test(Deno.readTextFileSync(`/proc/${pid}/status`));
  } catch {
    return false;
  }
}

async function waitUntil(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
