import { hostname } from "node:os";
import { deadHolder } from "../../src/controller/manager_lease.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { AnyResource, Network, Volume } from "../../src/api/types.ts";
import { SqliteStore } from "../../src/store/sqlite_store.ts";
import { AlreadyExistsError, ConflictError, NotFoundError } from "../../src/store/store.ts";
import { TestClock } from "./harness.ts";

function volume(name: string, labels: Record<string, string> = {}, size = 1024): Volume {
  return {
    apiVersion: "lv.dev/v1alpha1",
    kind: "Volume",
    metadata: {
      name,
      namespace: "default",
      labels,
      annotations: {},
      uid: "",
      generation: 0,
      resourceVersion: "",
      creationTimestamp: "",
      finalizers: [],
      ownerReferences: [],
    },
    spec: { pool: "default", size, format: "qcow2" },
    status: {},
  };
}

function network(name: string, namespace = "default"): Network {
  return {
    apiVersion: "lv.dev/v1alpha1",
    kind: "Network",
    metadata: { ...volume(name).metadata, namespace },
    spec: {
      mode: "nat",
      ipv4: { address: "10.1.0.1", prefix: 24 },
      dhcp: { enabled: true, hosts: [] },
      autostart: true,
    },
    status: {},
  };
}

const KEY = { kind: "Volume" as const, namespace: "default", name: "disk" };

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

Deno.test("SqliteStore.create() fills uid, generation 1, timestamps and empty metadata; status is dropped", async () => {
  await withStore(async (store, clock) => {
    const input = volume("disk");
    input.status = { phase: "Ready" };
    const created = await store.create(input);
    assert.match(created.metadata.uid, /^[0-9a-f-]{36}$/);
    assert.equal(created.metadata.generation, 1);
    assert.equal(created.metadata.creationTimestamp, clock.now().toISOString());
    assert.notEqual(created.metadata.resourceVersion, "");
    assert.deepEqual(created.status, {});
    assert.deepEqual(created.metadata.finalizers, []);
    assert.equal(input.metadata.uid, "", "the caller's object is not modified");
    assert.deepEqual(await store.get(KEY), created);
  });
});

Deno.test("SqliteStore.create() refuses a taken key with AlreadyExistsError", async () => {
  await withStore(async (store) => {
    await store.create(volume("disk"));
    await assert.rejects(async () => await store.create(volume("disk")), AlreadyExistsError);
    // The same name in another kind or namespace is another key.
    await store.create(network("disk"));
    await store.create(network("disk", "other"));
    assert.equal((await store.list("Network")).length, 2);
  });
});

Deno.test("SqliteStore.get() and list() by kind, namespace and labels", async (t) => {
  await withStore(async (store) => {
    await store.create(volume("a", { app: "web", tier: "db" }));
    await store.create(volume("b", { app: "web" }));
    await store.create(volume("c", { app: "mail" }));
    await store.create(network("n1", "lab"));
    assert.equal(await store.get({ kind: "Volume", namespace: "default", name: "zzz" }), undefined);
    const cases: [string, Parameters<SqliteStore["list"]>, string[]][] = [
      ["every volume, sorted by name", ["Volume"], ["a", "b", "c"]],
      ["one label", ["Volume", { labels: { app: "web" } }], ["a", "b"]],
      ["every label must match", ["Volume", { labels: { app: "web", tier: "db" } }], ["a"]],
      ["a label nobody has", ["Volume", { labels: { app: "none" } }], []],
      ["a namespace", ["Network", { namespace: "lab" }], ["n1"]],
      ["another namespace", ["Network", { namespace: "default" }], []],
      ["another kind", ["Domain"], []],
    ];
    for (const [name, args, want] of cases) {
      await t.step(name, async () => {
        assert.deepEqual((await store.list(...args)).map((o) => o.metadata.name), want);
      });
    }
  });
});

Deno.test("SqliteStore.update() bumps generation on a spec change only", async (t) => {
  await withStore(async (store) => {
    let obj = await store.create(volume("disk"));
    await t.step("labels, annotations and finalizers keep the generation", async () => {
      const next = structuredClone(obj);
      next.metadata.labels = { a: "b" };
      next.metadata.annotations = { note: "x" };
      next.metadata.finalizers = ["lv.dev/libvirt"];
      obj = await store.update(next);
      assert.equal(obj.metadata.generation, 1);
      assert.deepEqual(obj.metadata.labels, { a: "b" });
      assert.deepEqual(obj.metadata.finalizers, ["lv.dev/libvirt"]);
    });
    await t.step("status keeps the generation", async () => {
      obj = await store.updateStatus(
        { ...obj, status: { phase: "Ready", observedGeneration: 1 } } as AnyResource,
      );
      assert.equal(obj.metadata.generation, 1);
      assert.equal(obj.status.phase, "Ready");
    });
    await t.step("a spec change bumps it and keeps status", async () => {
      const next = structuredClone(obj) as Volume;
      next.spec.size = 4096;
      obj = await store.update(next);
      assert.equal(obj.metadata.generation, 2);
      assert.equal((obj as Volume).spec.size, 4096);
      assert.equal(obj.status.phase, "Ready");
    });
    await t.step("update() ignores status and updateStatus() ignores spec", async () => {
      const next = structuredClone(obj) as Volume;
      next.status = { phase: "Hacked" };
      obj = await store.update(next);
      assert.equal(obj.status.phase, "Ready");
      const other = structuredClone(obj) as Volume;
      other.spec.size = 1;
      obj = await store.updateStatus(other);
      assert.equal((obj as Volume).spec.size, 4096);
      assert.equal(obj.metadata.generation, 2);
    });
    await t.step("an identical write changes nothing, not even resourceVersion", async () => {
      const before = await store.head();
      const same = await store.update(structuredClone(obj));
      assert.equal(same.metadata.resourceVersion, obj.metadata.resourceVersion);
      assert.equal(await store.head(), before);
    });
  });
});

Deno.test("SqliteStore.update() with a stale resourceVersion throws ConflictError and writes nothing", async () => {
  await withStore(async (store) => {
    const v1 = await store.create(volume("disk"));
    const mine = structuredClone(v1) as Volume;
    const theirs = structuredClone(v1) as Volume;
    theirs.spec.size = 2048;
    const v2 = await store.update(theirs);
    assert.notEqual(v2.metadata.resourceVersion, v1.metadata.resourceVersion);
    mine.spec.size = 9999;
    await assert.rejects(async () => await store.update(mine), ConflictError);
    await assert.rejects(
      async () => await store.updateStatus({ ...mine, status: { phase: "x" } } as AnyResource),
      ConflictError,
    );
    const now = await store.get(KEY) as Volume;
    assert.equal(now.spec.size, 2048);
    assert.deepEqual(now.status, {});
    // Re-read and retry succeeds.
    now.spec.size = 9999;
    assert.equal((await store.update(now) as Volume).spec.size, 9999);
  });
});

Deno.test({
  name: "SqliteStore write methods report failure as a rejected promise, not a synchronous throw",
  // Guards the store's write methods (create/update/updateStatus/delete): ConflictError, NotFoundError and
  // AlreadyExistsError arrive as a rejected promise, never as a synchronous throw, so that
  // `store.update(x).catch(...)` catches them.

  fn: async () => {
    await withStore(async (store) => {
      await store.create(volume("disk"));
      let promise: Promise<unknown> | undefined;
      assert.doesNotThrow(() => {
        promise = store.create(volume("disk"));
      });
      await assert.rejects(promise!, AlreadyExistsError);
      assert.doesNotThrow(() => {
        promise = store.update(volume("ghost"));
      });
      await assert.rejects(promise!, NotFoundError);
    });
  },
});

Deno.test("SqliteStore.update() of a missing object throws NotFoundError", async () => {
  await withStore(async (store) => {
    await assert.rejects(async () => await store.update(volume("ghost")), NotFoundError);
  });
});

Deno.test("SqliteStore.delete() with finalizers sets deletionTimestamp; removing the last finalizer removes the object", async () => {
  await withStore(async (store, clock) => {
    const created = await store.create({
      ...volume("disk"),
      metadata: { ...volume("disk").metadata, finalizers: ["lv.dev/libvirt", "other"] },
    });
    clock.advance(5000);
    assert.equal(await store.delete(KEY), true);
    const deleting = (await store.get(KEY))!;
    assert.equal(deleting.metadata.deletionTimestamp, clock.now().toISOString());
    assert.notEqual(deleting.metadata.resourceVersion, created.metadata.resourceVersion);

    // Deleting again keeps the first timestamp and writes nothing.
    const head = await store.head();
    clock.advance(5000);
    assert.equal(await store.delete(KEY), true);
    assert.equal((await store.get(KEY))!.metadata.deletionTimestamp, deleting.metadata.deletionTimestamp);
    assert.equal(await store.head(), head);

    // The spec is frozen while deleting.
    const edit = structuredClone(deleting) as Volume;
    edit.spec.size = 1;
    const frozen = await store.update(edit) as Volume;
    assert.equal(frozen.spec.size, 1024);

    // Removing one finalizer keeps it; removing the last removes it.
    const one = structuredClone(frozen);
    one.metadata.finalizers = ["other"];
    const kept = await store.update(one);
    assert.deepEqual(kept.metadata.finalizers, ["other"]);
    assert.ok(await store.get(KEY));
    const none = structuredClone(kept);
    none.metadata.finalizers = [];
    await store.update(none);
    assert.equal(await store.get(KEY), undefined);
    assert.equal(await store.delete(KEY), false, "deleting what is gone is not an error");
  });
});

Deno.test("SqliteStore.delete() without finalizers removes at once", async () => {
  await withStore(async (store) => {
    await store.create(volume("disk"));
    assert.equal(await store.delete(KEY), true);
    assert.equal(await store.get(KEY), undefined);
    assert.deepEqual((await store.changes(0)).map((c) => c.type), ["ADDED", "DELETED"]);
  });
});

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

Deno.test("SqliteStore.recordEvent() counts repeats of the latest event instead of adding rows", async () => {
  await withStore(async (store, clock) => {
    const obj = await store.create(volume("disk"));
    await store.recordEvent(obj, { type: "Warning", reason: "LibvirtError", message: "boom" });
    clock.advance(1000);
    await store.recordEvent(obj, { type: "Warning", reason: "LibvirtError", message: "boom" });
    clock.advance(1000);
    await store.recordEvent(obj, { type: "Warning", reason: "LibvirtError", message: "boom" });
    await store.recordEvent(obj, { type: "Normal", reason: "Created", message: "ok" });
    await store.recordEvent(obj, { type: "Warning", reason: "LibvirtError", message: "boom" });
    const events = await store.events(KEY);
    assert.deepEqual(events.map((e) => [e.reason, e.count]), [["LibvirtError", 3], ["Created", 1], [
      "LibvirtError",
      1,
    ]]);
    assert.equal(Date.parse(events[0].lastTimestamp) - Date.parse(events[0].firstTimestamp), 2000);
    assert.equal(events[0].uid, obj.metadata.uid);
    // Events do not show up as object changes.
    assert.deepEqual((await store.changes(0)).map((c) => c.type), ["ADDED"]);
  });
});

Deno.test("SqliteStore.recordEvent() does not merge events of a recreated object (new uid)", async () => {
  await withStore(async (store) => {
    const first = await store.create(volume("disk"));
    await store.recordEvent(first, { type: "Normal", reason: "Created", message: "ok" });
    await store.delete(KEY);
    const second = await store.create(volume("disk"));
    await store.recordEvent(second, { type: "Normal", reason: "Created", message: "ok" });
    const events = await store.events(KEY);
    assert.deepEqual(events.map((e) => [e.uid, e.count]), [[first.metadata.uid, 1], [
      second.metadata.uid,
      1,
    ]]);
  });
});

Deno.test("SqliteStore leases: acquire, renew, contend, expire, release", async (t) => {
  await withStore(async (store, clock) => {
    await t.step("a free lease is taken", async () => {
      assert.equal(await store.acquireLease("mgr", "a", 10_000), true);
      assert.equal(await store.leaseHolder("mgr"), "a");
    });
    await t.step("another holder is refused while it is valid", async () => {
      clock.advance(9_000);
      assert.equal(await store.acquireLease("mgr", "b", 10_000), false);
      assert.equal(await store.leaseHolder("mgr"), "a");
    });
    await t.step("the holder renews it", async () => {
      assert.equal(await store.acquireLease("mgr", "a", 10_000), true);
      clock.advance(9_000);
      assert.equal(await store.acquireLease("mgr", "b", 10_000), false, "renewed 9 s ago, 10 s ttl");
    });
    await t.step("an expired lease has no holder and can be taken", async () => {
      clock.advance(1_001);
      assert.equal(await store.leaseHolder("mgr"), undefined);
      assert.equal(await store.acquireLease("mgr", "b", 10_000), true);
      assert.equal(await store.leaseHolder("mgr"), "b");
    });
    await t.step("release by someone else does nothing; by the holder frees it", async () => {
      await store.releaseLease("mgr", "a");
      assert.equal(await store.leaseHolder("mgr"), "b");
      await store.releaseLease("mgr", "b");
      assert.equal(await store.leaseHolder("mgr"), undefined);
      assert.equal(await store.acquireLease("mgr", "a", 10_000), true);
    });
    await t.step("leases are independent by name", async () => {
      assert.equal(await store.acquireLease("other", "b", 10_000), true);
      assert.equal(await store.leaseHolder("mgr"), "a");
    });
  });
});

Deno.test("SqliteStore leases are shared by two handles on one file", async () => {
  await withStore(async (store, clock, dir) => {
    const other = new SqliteStore(join(dir, "store.db"), { now: () => clock.now() });
    try {
      assert.equal(await store.acquireLease("mgr", "a", 10_000), true);
      assert.equal(await other.acquireLease("mgr", "b", 10_000), false);
      assert.equal(await other.leaseHolder("mgr"), "a");
    } finally {
      other.close();
    }
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

Deno.test("SqliteStore: a write from a second handle on the same file is visible to the first", async () => {
  await withStore(async (store, _clock, dir) => {
    const other = new SqliteStore(join(dir, "store.db"));
    try {
      const head = await store.head();
      await other.create(volume("disk"));
      assert.ok(await store.get(KEY));
      assert.deepEqual((await store.changes(head)).map((c) => c.name), ["disk"]);
      // CAS holds across handles.
      const mine = (await store.get(KEY))!;
      const theirs = structuredClone(mine) as Volume;
      theirs.spec.size = 1;
      await other.update(theirs);
      await assert.rejects(async () => await store.update(mine), ConflictError);
    } finally {
      other.close();
    }
  });
});

Deno.test("SqliteStore.acquireLease() takes a live lease only from the holder named in takeFrom", async () => {
  await withStore(async (store) => {
    assert.equal(await store.acquireLease("m", "host:1", 60_000), true);
    assert.equal(await store.acquireLease("m", "host:2", 60_000), false);
    assert.equal(await store.acquireLease("m", "host:2", 60_000, { takeFrom: "host:3" }), false);
    assert.equal(await store.acquireLease("m", "host:2", 60_000, { takeFrom: "host:1" }), true);
    assert.equal(await store.leaseHolder("m"), "host:2");
  });
});

Deno.test("deadHolder() is true only for a process of this host that is gone", () => {
  assert.equal(deadHolder(`${hostname()}:${Deno.pid}`), false);
  assert.equal(deadHolder(`${hostname()}:4194304999`), true);
  assert.equal(deadHolder(`some-other-host:4194304999`), false);
  assert.equal(deadHolder("garbage"), false);
});
