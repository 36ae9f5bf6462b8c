import process from "node:process";
import { hostname } from "node:os";
import { deadHolder } from "../../src/controller/manager_lease.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { SqliteStore } from "../../src/store/sqlite_store.ts";
import { DatabaseSync } from "node:sqlite";
import { StoreVersionError } from "../../src/store/store.ts";
import { TestClock } from "./harness.ts";
import type { AnyResource } from "../../src/api/types.ts";
import { network, storeSuite, volume } from "./store_suite.ts";

storeSuite("SqliteStore", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lv-store-test-" });
  const clock = new TestClock();
  const path = join(dir, "store.db");
  const store = new SqliteStore(path, { now: () => clock.now() });
  const others: SqliteStore[] = [];
  return {
    store,
    clock,
    another: () =>
      Promise.resolve(others[others.push(new SqliteStore(path, { now: () => clock.now() })) - 1]),
    leaseTtlMs: 10_000,
    expire: () => Promise.resolve(clock.advance(10_001)),
    elapse: (ms) => Promise.resolve(clock.advance(ms)),
    close: async () => {
      for (const s of [store, ...others]) s.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
});

async function withStore(fn: (store: SqliteStore, clock: TestClock, dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "lv-store-test-" });
  const clock = new TestClock();
  const store = new SqliteStore(join(dir, "store.db"), { now: () => clock.now() });
  try {
    await fn(store, clock, dir);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("SqliteStore.changes() lists writes in resourceVersion order", async () => {
  await withStore(async (store) => {
    const start = await store.head();
    const a = await store.create(volume("a"));
    const b = await store.create(network("b"));
    await store.updateStatus({ ...a, status: { phase: "Ready" } } as AnyResource);
    await store.delete({ kind: "Network", namespace: "default", name: "b" });
    const changes = await store.changes(start);
    assert.deepEqual(
      changes.map((c) => [c.type, c.kind, c.name]),
      [["ADDED", "Volume", "a"], ["ADDED", "Network", "b"], ["STATUS", "Volume", "a"], [
        "DELETED",
        "Network",
        "b",
      ]],
    );
    const rvs = changes.map((c) => c.resourceVersion);
    assert.deepEqual(rvs, [...rvs].sort((x, y) => x - y));
    assert.equal(new Set(rvs).size, rvs.length);
    assert.equal(await store.head(), rvs.at(-1));
    assert.equal(String(rvs[1]), b.metadata.resourceVersion);
    // Reading from a version returns only what came after it.
    assert.deepEqual((await store.changes(rvs[1])).map((c) => c.resourceVersion), rvs.slice(2));
  });
});

Deno.test("SqliteStore.watch() sees this handle's own writes at once, not at its next poll", async () => {
  await withStore(async (store) => {
    const seen: string[] = [];
    let arrived = () => {};
    // A poll an hour away: only the write itself can wake the watch in time.
    const watch = store.watch(await store.head(), async (changes) => {
      seen.push(...changes.map((c) => `${c.type} ${c.name}`));
      // A write made while the handler runs (as a controller's) is not left for the next poll either.
      if (changes.some((c) => c.type === "ADDED")) {
        await store.delete({ kind: "Volume", namespace: "default", name: "a" });
      }
      arrived();
    }, { pollMs: 3_600_000 });
    const delivered = (n: number) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`after 5 s: ${seen.join(", ")}`)), 5_000);
        arrived = () => {
          if (seen.length < n) return;
          clearTimeout(timer);
          resolve();
        };
        arrived();
      });
    try {
      await store.create(volume("a"));
      await delivered(2);
      assert.deepEqual(seen, ["ADDED a", "DELETED a"]);
    } finally {
      await watch.close();
    }
  });
});

Deno.test("SqliteStore.watch() woken by a write long after its last read sets no negative timer (Node warns on stderr)", async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => void warnings.push(w.message);
  process.on("warning", onWarning);
  try {
    await withStore(async (store) => {
      let count = 0;
      const watch = store.watch(await store.head(), (c) => void (count += c.length), { pollMs: 3_600_000 });
      try {
        await new Promise((r) => setTimeout(r, 50)); // the soonest next read is long past
        await store.create(volume("a"));
        const deadline = Date.now() + 5_000;
        while (count < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
        assert.equal(count, 1);
        await new Promise((r) => setTimeout(r, 10)); // a warning is emitted on the next tick
        assert.deepEqual(warnings, []);
      } finally {
        await watch.close();
      }
    });
  } finally {
    process.off("warning", onWarning);
  }
});

Deno.test("SqliteStore opens a current store while another connection holds its write lock (lv get beside a writer)", async () => {
  await withStore(async (store, _clock, dir) => {
    await store.create(volume("a"));
    const writer = new DatabaseSync(join(dir, "store.db"));
    writer.exec("begin immediate");
    try {
      // Before: the open took the write lock to create the schema, and failed after busy_timeout (10 s).
      const reader = new SqliteStore(join(dir, "store.db"));
      try {
        assert.deepEqual((await reader.list("Volume")).map((v) => v.metadata.name), ["a"]);
      } finally {
        reader.close();
      }
    } finally {
      writer.exec("rollback");
      writer.close();
    }
  });
});

Deno.test("SqliteStore leases follow its clock: renewed 9 s ago with a 10 s TTL is still held, 10.001 s is not", async () => {
  await withStore(async (store, clock) => {
    assert.equal(await store.acquireLease("mgr", "a", 10_000), true);
    clock.advance(9_000);
    assert.equal(await store.acquireLease("mgr", "a", 10_000), true);
    clock.advance(9_000);
    assert.equal(await store.acquireLease("mgr", "b", 10_000), false, "renewed 9 s ago, 10 s ttl");
    clock.advance(1_001);
    assert.equal(await store.leaseHolder("mgr"), undefined);
    assert.equal(await store.acquireLease("mgr", "b", 10_000), true);
  });
});

Deno.test("SqliteStore creates its file mode 0600, and SQLite's side files too", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lv-store-mode-" });
  const umask = Deno.umask(0o022);
  try {
    const path = join(dir, "store.db");
    const store = new SqliteStore(path);
    try {
      await store.create(volume("disk"));
      assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
      for await (const entry of Deno.readDir(dir)) {
        const mode = (await Deno.stat(join(dir, entry.name))).mode! & 0o777;
        assert.equal(mode, 0o600, `${entry.name} has mode ${mode.toString(8)}`);
      }
    } finally {
      store.close();
    }
  } finally {
    Deno.umask(umask);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SqliteStore tightens an existing file's mode to 0600", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lv-store-mode-" });
  try {
    const path = join(dir, "store.db");
    await Deno.writeFile(path, new Uint8Array(), { mode: 0o644 });
    await Deno.chmod(path, 0o644);
    const store = new SqliteStore(path);
    store.close();
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deadHolder() is true only for a process of this host that is gone", () => {
  assert.equal(deadHolder(`${hostname()}:${Deno.pid}`), false);
  assert.equal(deadHolder(`${hostname()}:4194304999`), true);
  assert.equal(deadHolder(`some-other-host:4194304999`), false);
  assert.equal(deadHolder("garbage"), false);
});

Deno.test("SqliteStore refuses a store written by a newer lv, naming both versions", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lv-store-version-" });
  try {
    const path = join(dir, "store.db");
    new SqliteStore(path).close();
    const { DatabaseSync } = await import("node:sqlite");
    const db = new DatabaseSync(path);
    db.exec("pragma user_version = 99");
    db.close();
    assert.throws(() => new SqliteStore(path), (e: unknown) => {
      assert.ok(e instanceof StoreVersionError);
      assert.match(e.message, /newer lv \(store schema 99; this lv knows up to 1\)/);
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
