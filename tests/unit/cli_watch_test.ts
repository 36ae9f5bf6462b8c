/**
 * Watching: lv get -w and lv get events -w as real processes on a real SQLite store, a change written by
 * another process seen on their stdout (waited for with a timeout); lv wait --for=jsonpath.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Domain } from "../../src/api/types.ts";
import { storePath } from "../../src/cli/runtime.ts";
import { SqliteStore } from "../../src/store/sqlite_store.ts";
import { homeWith, lvAt } from "./cli_run.ts";
import { example } from "./harness.ts";

const MOD = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "mod.ts");

/** `lv ARGS` as a child process; `until(pattern)` waits (with a timeout) for its stdout to match. */
function spawnLv(home: string, args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MOD, ...args],
    env: { LV_HOME: home, LV_CONNECT: "test:///nowhere" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stdout = "";
  const reading = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) stdout += chunk;
  })();
  return {
    get stdout() {
      return stdout;
    },
    async until(pattern: RegExp, timeoutMs = 30_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(stdout)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; stdout:\n${stdout}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop(): Promise<void> {
      child.kill("SIGTERM");
      await child.status;
      await reading;
      await child.stderr.cancel();
    },
  };
}

async function withStore<T>(home: string, fn: (store: SqliteStore) => Promise<T>): Promise<T> {
  const store = new SqliteStore(storePath(home));
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}

Deno.test("lv get vm -w prints the listing, then a domain another process creates", async () => {
  const home = await homeWith([example("Domain", "web")]);
  const watcher = spawnLv(home, [
    "get",
    "vm",
    "-w",
    "-o",
    "custom-columns=NAME:.metadata.name,CPUS:.spec.cpus",
  ]);
  try {
    await watcher.until(/^NAME +CPUS\nweb +\d+\n/);
    await withStore(home, (s) =>
      s.create(example<Domain>("Domain", "web", (d) => {
        d.metadata.name = "cache";
        d.spec.cpus = 3;
        d.spec.disks = [];
      })));
    await watcher.until(/\ncache +3\n/);
    assert.doesNotMatch(watcher.stdout, /CPUS[\s\S]*CPUS/, "one header");
  } finally {
    await watcher.stop();
    Deno.removeSync(home, { recursive: true });
  }
});

Deno.test("lv get vm NAME --watch-only prints only that object's changes", async () => {
  const home = await homeWith([example("Domain", "web")]);
  const watcher = spawnLv(home, ["get", "vm", "web", "--watch-only", "-o", 'jsonpath={.spec.cpus}{"\\n"}']);
  try {
    // Nothing is printed before a change: write until the watcher (started concurrently) has seen one.
    for (let cpus = 5; !/^\d+\n/.test(watcher.stdout); cpus++) {
      await withStore(home, async (s) => {
        const web = (await s.get({ kind: "Domain", namespace: "default", name: "web" })) as Domain;
        web.spec.cpus = cpus;
        await s.update(web);
      });
      await watcher.until(/\n/, 2_000).catch(() => {});
    }
    assert.match(watcher.stdout, /^(\d+\n)+$/);
    assert.doesNotMatch(watcher.stdout, /web/);
  } finally {
    await watcher.stop();
    Deno.removeSync(home, { recursive: true });
  }
});

Deno.test("lv get events lists events oldest first, --for filters, -w shows a new one", async () => {
  const web = example("Domain", "web");
  const net = example("Network", "basic-net");
  const home = await homeWith([web, net]);
  try {
    await withStore(home, async (s) => {
      const w = (await s.get({ kind: "Domain", namespace: "default", name: "web" }))!;
      const n = (await s.get({ kind: "Network", namespace: "default", name: "basic-net" }))!;
      await s.recordEvent(n, { type: "Normal", reason: "Created", message: "network made" });
      await new Promise((r) => setTimeout(r, 5)); // distinct timestamps, so the order is defined
      await s.recordEvent(w, { type: "Warning", reason: "Failed", message: "no kvm" });
    });
    const all = await lvAt(home, "get", "events");
    assert.equal(all.code, 0, all.stderr);
    const lines = all.stdout.trimEnd().split("\n");
    assert.match(lines[0], /^LAST SEEN +TYPE +REASON +OBJECT +MESSAGE$/);
    assert.match(lines[1], /Normal +Created +network\/basic-net +network made$/);
    assert.match(lines[2], /Warning +Failed +domain\/web +no kvm$/);
    const one = await lvAt(home, "get", "events", "--for", "domain/web", "--no-headers");
    assert.match(one.stdout, /^\S+ +Warning +Failed +domain\/web +no kvm\n$/);
    const watcher = spawnLv(home, ["get", "events", "-w", "--for", "network/basic-net"]);
    try {
      await watcher.until(/network made\n/);
      await withStore(home, async (s) => {
        const n = (await s.get({ kind: "Network", namespace: "default", name: "basic-net" }))!;
        await s.recordEvent(n, { type: "Normal", reason: "Started", message: "bridge up" });
      });
      await watcher.until(/Started +network\/basic-net +bridge up\n/);
      assert.doesNotMatch(watcher.stdout, /no kvm/);
    } finally {
      await watcher.stop();
    }
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
});

Deno.test("lv wait --for=jsonpath='{.status.phase}'=VALUE, with or without braces; times out when it never holds", async () => {
  const home = await homeWith([example("Domain", "web")]);
  try {
    await withStore(home, async (s) => {
      const web = (await s.get({ kind: "Domain", namespace: "default", name: "web" }))!;
      web.status.phase = "Running";
      await s.updateStatus(web);
    });
    for (const path of ["{.status.phase}", ".status.phase"]) {
      const met = await lvAt(home, "wait", "domain/web", `--for=jsonpath=${path}=Running`, "--timeout=5s");
      assert.equal(met.code, 0, met.stderr);
      assert.equal(met.stdout, "domain/web condition met\n");
    }
    const not = await lvAt(
      home,
      "wait",
      "domain/web",
      "--for=jsonpath={.status.phase}=Stopped",
      "--timeout=1s",
    );
    assert.equal(not.code, 1);
    assert.match(
      not.stderr,
      /timed out after 1s waiting for 1 object\(s\) to have \{\.status\.phase\}=Stopped/,
    );
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
});
