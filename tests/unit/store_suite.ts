/**
 * The store's semantics, as one suite every backend runs: tests/unit/store_test.ts runs it on SQLite,
 * tests/integration/etcd_store_test.ts on etcd. A backend passes a factory giving a fresh, empty store.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { AnyResource, Network, Volume } from "../../src/api/types.ts";
import {
  AlreadyExistsError,
  type Change,
  ConflictError,
  NotFoundError,
  type Store,
} from "../../src/store/store.ts";
import { TestClock } from "./harness.ts";

export interface StoreFixture {
  store: Store;
  /** The store's clock for timestamps. */
  clock: TestClock;
  /** Another handle on the same store (what a second lv process sees); closed by close(). */
  another(): Promise<Store>;
  /** A lease TTL the backend honours (etcd counts whole seconds, 2 s at least). */
  leaseTtlMs: number;
  /** Lets the named lease, which nobody renews any more, run out. */
  expire(name: string): Promise<void>;
  /** Lets time pass for leases (SQLite: the clock; etcd: real time). */
  elapse(ms: number): Promise<void>;
  close(): Promise<void>;
}

export function volume(name: string, labels: Record<string, string> = {}, size = 1024): Volume {
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

export function network(name: string, namespace = "default"): Network {
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

export const KEY = { kind: "Volume" as const, namespace: "default", name: "disk" };

/** Waits until `check` holds, polling every 20 ms; fails after timeoutMs. */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Collects a watch's changes from the store's head, for `fn`'s writes. */
async function watched(store: Store, fn: () => Promise<void>, count: number): Promise<Change[]> {
  const seen: Change[] = [];
  const watch = store.watch(await store.head(), (changes) => void seen.push(...changes), { pollMs: 10 });
  try {
    await fn();
    await until(() => seen.length >= count, `${count} changes (have ${JSON.stringify(seen)})`);
    return seen;
  } finally {
    await watch.close();
  }
}

type Factory = () => Promise<StoreFixture>;
type Case = (f: StoreFixture, t: Deno.TestContext) => Promise<void>;

/** Registers the suite's tests as `${backend}: ...`. */
export function storeSuite(backend: string, factory: Factory, options: { ignore?: boolean } = {}): void {
  for (const [name, fn] of Object.entries(CASES)) {
    Deno.test({
      name: `${backend}: ${name}`,
      ignore: options.ignore,
      sanitizeResources: false,
      sanitizeOps: false,
      fn: async (t) => {
        const fixture = await factory();
        try {
          await fn(fixture, t);
        } finally {
          await fixture.close();
        }
      },
    });
  }
}

const CASES: Record<string, Case> = {
  "create() fills uid, generation 1, timestamps and empty metadata; status is dropped": async (
    { store, clock },
  ) => {
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
  },

  "create() refuses a taken key with AlreadyExistsError (create-if-absent)": async ({ store }) => {
    await store.create(volume("disk"));
    await assert.rejects(async () => await store.create(volume("disk")), AlreadyExistsError);
    // The same name in another kind or namespace is another key.
    await store.create(network("disk"));
    await store.create(network("disk", "other"));
    assert.equal((await store.list("Network")).length, 2);
  },

  "restore() keeps uid, generation, timestamps, finalizers and status; refuses a taken key": async (
    { store },
  ) => {
    const obj = volume("disk");
    obj.metadata = {
      ...obj.metadata,
      uid: "0b5e3c2a-0000-4000-8000-000000000001",
      generation: 7,
      resourceVersion: "12345",
      creationTimestamp: "2029-05-01T00:00:00.000Z",
      deletionTimestamp: "2029-06-01T00:00:00.000Z",
      finalizers: ["lv.dev/libvirt"],
    };
    obj.status = { phase: "Deleting", observedGeneration: 7 };
    const restored = await store.restore(obj);
    const read = (await store.get(KEY))!;
    assert.deepEqual(read, restored);
    assert.deepEqual({ ...read.metadata, resourceVersion: "12345" }, obj.metadata);
    assert.deepEqual(read.status, obj.status);
    await assert.rejects(async () => await store.restore(obj), AlreadyExistsError);
  },

  "get() and list() by kind, namespace and labels": async ({ store }, t) => {
    await store.create(volume("c", { app: "mail" }));
    await store.create(volume("a", { app: "web", tier: "db" }));
    await store.create(volume("b", { app: "web" }));
    await store.create(network("n1", "lab"));
    assert.equal(await store.get({ kind: "Volume", namespace: "default", name: "zzz" }), undefined);
    const cases: [string, Parameters<Store["list"]>, string[]][] = [
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
  },

  "update() bumps generation on a spec change only": async ({ store }, t) => {
    let obj = await store.create(volume("disk"));
    await t.step("labels, annotations, finalizers and owner references keep the generation", async () => {
      const next = structuredClone(obj);
      next.metadata.labels = { a: "b" };
      next.metadata.annotations = { note: "x" };
      next.metadata.finalizers = ["lv.dev/libvirt"];
      next.metadata.ownerReferences = [{
        kind: "Domain",
        name: "web",
        uid: "u-1",
        controller: true,
      }];
      obj = await store.update(next);
      assert.equal(obj.metadata.generation, 1);
      assert.deepEqual(obj.metadata.labels, { a: "b" });
      assert.deepEqual(obj.metadata.finalizers, ["lv.dev/libvirt"]);
      assert.deepEqual((await store.get(KEY))!.metadata.ownerReferences, next.metadata.ownerReferences);
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
    await t.step("what a write returns is what get() reads", async () => {
      assert.deepEqual(await store.get(KEY), obj);
    });
  },

  "writeAll() writes creates and updates in one go, as create() and update() would": async ({ store }) => {
    const a = await store.create(volume("a"));
    const changed = structuredClone(a) as Volume;
    changed.spec.size = 4096;
    const same = await store.create(volume("same"));
    const before = Number(await store.head());
    const [b, a2, same2] = await store.writeAll([
      { op: "create", obj: volume("b", { app: "web" }) },
      { op: "update", obj: changed },
      { op: "update", obj: structuredClone(same) },
    ]);
    assert.match(b.metadata.uid, /^[0-9a-f-]{36}$/);
    assert.equal(b.metadata.generation, 1);
    assert.deepEqual(await store.get({ ...KEY, name: "b" }), b);
    assert.deepEqual([(a2 as Volume).spec.size, a2.metadata.generation], [4096, 2]);
    assert.deepEqual(await store.get({ ...KEY, name: "a" }), a2);
    assert.ok(Number(a2.metadata.resourceVersion) > before);
    assert.deepEqual(same2, same, "an identical update writes nothing, not even resourceVersion");
    assert.deepEqual(await store.writeAll([]), []);
  },

  "writeAll() writes nothing when one write fails: a taken key, a stale resourceVersion, a missing object":
    async (
      { store },
      t,
    ) => {
      const taken = await store.create(volume("taken"));
      const stale = structuredClone(taken) as Volume;
      const moved = structuredClone(taken) as Volume;
      moved.spec.size = 2048;
      await store.update(moved);
      stale.spec.size = 9999;
      const missing = volume("missing");
      missing.metadata.resourceVersion = "1";
      const cases: [string, Parameters<Store["writeAll"]>[0][number], new (...a: never[]) => Error][] = [
        ["a create of a taken key", { op: "create", obj: volume("taken") }, AlreadyExistsError],
        ["an update with a stale resourceVersion", { op: "update", obj: stale }, ConflictError],
        ["an update of a missing object", { op: "update", obj: missing }, NotFoundError],
      ];
      for (const [name, failing, error] of cases) {
        await t.step(name, async () => {
          const head = await store.head();
          await assert.rejects(
            () =>
              store.writeAll([
                { op: "create", obj: volume("first") },
                failing,
                { op: "create", obj: volume("last") },
              ]),
            error,
          );
          assert.deepEqual((await store.list("Volume")).map((o) => o.metadata.name), ["taken"]);
          assert.equal((await store.get({ ...KEY, name: "taken" }) as Volume).spec.size, 2048);
          assert.equal(await store.head(), head, "no change recorded");
        });
      }
    },

  "update() with a stale resourceVersion throws ConflictError and writes nothing": async ({ store }) => {
    const v1 = await store.create(volume("disk"));
    const mine = structuredClone(v1) as Volume;
    const theirs = structuredClone(v1) as Volume;
    theirs.spec.size = 2048;
    const v2 = await store.update(theirs);
    assert.notEqual(v2.metadata.resourceVersion, v1.metadata.resourceVersion);
    assert.ok(Number(v2.metadata.resourceVersion) > Number(v1.metadata.resourceVersion));
    mine.spec.size = 9999;
    await assert.rejects(async () => await store.update(mine), ConflictError);
    await assert.rejects(
      async () => await store.updateStatus({ ...mine, status: { phase: "x" } } as AnyResource),
      ConflictError,
    );
    const now = await store.get(KEY) as Volume;
    assert.equal(now.spec.size, 2048);
    assert.deepEqual(now.status, {});
    now.spec.size = 9999;
    assert.equal((await store.update(now) as Volume).spec.size, 9999);
  },

  "concurrent updates through two handles: exactly one of two writers with the same resourceVersion wins":
    async (
      { store, another },
    ) => {
      const other = await another();
      const base = await store.create(volume("disk"));
      const results = await Promise.allSettled([1, 2].map((n) => {
        const next = structuredClone(base) as Volume;
        next.spec.size = n;
        return (n === 1 ? store : other).update(next);
      }));
      assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
      const lost = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
      assert.ok(lost.reason instanceof ConflictError, String(lost.reason));
      assert.equal((await store.get(KEY))!.metadata.generation, 2);
    },

  "write methods report failure as a rejected promise, not a synchronous throw": async ({ store }) => {
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
  },

  "update() of a missing object throws NotFoundError": async ({ store }) => {
    await assert.rejects(async () => await store.update(volume("ghost")), NotFoundError);
  },

  "delete() with finalizers sets deletionTimestamp; removing the last finalizer removes the object": async (
    { store, clock },
  ) => {
    const created = await store.create({
      ...volume("disk"),
      metadata: { ...volume("disk").metadata, finalizers: ["lv.dev/libvirt", "other"] },
    });
    clock.advance(5000);
    assert.equal(await store.delete(KEY), true);
    const deleting = (await store.get(KEY))!;
    assert.equal(deleting.metadata.deletionTimestamp, clock.now().toISOString());
    assert.notEqual(deleting.metadata.resourceVersion, created.metadata.resourceVersion);

    const head = await store.head();
    clock.advance(5000);
    assert.equal(await store.delete(KEY), true);
    assert.equal((await store.get(KEY))!.metadata.deletionTimestamp, deleting.metadata.deletionTimestamp);
    assert.equal(await store.head(), head, "deleting again writes nothing");

    const edit = structuredClone(deleting) as Volume;
    edit.spec.size = 1;
    const frozen = await store.update(edit) as Volume;
    assert.equal(frozen.spec.size, 1024, "the spec is frozen while deleting");

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
  },

  "delete() without finalizers removes at once": async ({ store }) => {
    const changes = await watched(store, async () => {
      await store.create(volume("disk"));
      assert.equal(await store.delete(KEY), true);
    }, 2);
    assert.equal(await store.get(KEY), undefined);
    assert.deepEqual(changes.map((c) => c.type), ["ADDED", "DELETED"]);
  },

  "watch() delivers every write in resourceVersion order, status-only writes marked": async ({ store }) => {
    let a: AnyResource | undefined, b: AnyResource | undefined;
    const changes = await watched(store, async () => {
      a = await store.create(volume("a"));
      b = await store.create(network("b"));
      await store.updateStatus({ ...a, status: { phase: "Ready" } } as AnyResource);
      const labelled = structuredClone((await store.get({ ...KEY, name: "a" }))!);
      labelled.metadata.labels = { x: "y" };
      await store.update(labelled);
      await store.delete({ kind: "Network", namespace: "default", name: "b" });
    }, 5);
    assert.deepEqual(
      changes.map((c) => [c.type, c.kind, c.namespace, c.name]),
      [
        ["ADDED", "Volume", "default", "a"],
        ["ADDED", "Network", "default", "b"],
        ["STATUS", "Volume", "default", "a"],
        ["MODIFIED", "Volume", "default", "a"],
        ["DELETED", "Network", "default", "b"],
      ],
    );
    const rvs = changes.map((c) => c.resourceVersion);
    assert.deepEqual(rvs, [...rvs].sort((x, y) => x - y));
    assert.equal(new Set(rvs).size, rvs.length);
    assert.equal(String(rvs[0]), a!.metadata.resourceVersion);
    assert.equal(String(rvs[1]), b!.metadata.resourceVersion);
    assert.ok(await store.head() >= rvs.at(-1)!);
  },

  "watch() from a resourceVersion replays only what came after it; events are not changes": async (
    { store },
  ) => {
    const a = await store.create(volume("a"));
    await store.recordEvent(a, { type: "Normal", reason: "Created", message: "ok" });
    const b = await store.create(volume("b"));
    const seen: Change[] = [];
    const watch = store.watch(Number(a.metadata.resourceVersion), (c) => void seen.push(...c), {
      pollMs: 10,
    });
    try {
      await until(() => seen.length >= 1, "the change after a");
      await store.create(volume("c"));
      await until(() => seen.length >= 2, "c's change");
    } finally {
      await watch.close();
    }
    assert.deepEqual(seen.map((c) => c.name), ["b", "c"]);
    assert.equal(String(seen[0].resourceVersion), b.metadata.resourceVersion);
  },

  "watch() sees writes another handle makes": async ({ store, another }) => {
    const other = await another();
    const changes = await watched(store, async () => void await other.create(volume("disk")), 1);
    assert.deepEqual(changes.map((c) => [c.type, c.name]), [["ADDED", "disk"]]);
    const mine = (await store.get(KEY))!;
    const theirs = structuredClone(mine) as Volume;
    theirs.spec.size = 1;
    await other.update(theirs);
    await assert.rejects(async () => await store.update(mine), ConflictError, "CAS holds across handles");
  },

  "recordEvent() counts repeats of the latest event instead of adding entries": async ({ store, clock }) => {
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
    assert.deepEqual(await store.events({ ...KEY, name: "other" }), []);
  },

  "recordEvent() keeps the newest 50 events of an object": async ({ store }) => {
    const obj = await store.create(volume("disk"));
    for (let i = 0; i < 53; i++) {
      await store.recordEvent(obj, { type: "Normal", reason: "N", message: `${i}` });
    }
    const events = await store.events(KEY);
    assert.equal(events.length, 50);
    assert.equal(events[0].message, "3");
    assert.equal(events.at(-1)!.message, "52");
  },

  "recordEvent() does not merge events of a recreated object (new uid)": async ({ store }) => {
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
  },

  "leases: acquire, renew, contend, expire, release": async ({ store, leaseTtlMs, expire, elapse }, t) => {
    await t.step("a free lease is taken", async () => {
      assert.equal(await store.acquireLease("mgr", "a", leaseTtlMs), true);
      assert.equal(await store.leaseHolder("mgr"), "a");
    });
    await t.step("another holder is refused while it is valid", async () => {
      assert.equal(await store.acquireLease("mgr", "b", leaseTtlMs), false);
      assert.equal(await store.leaseHolder("mgr"), "a");
    });
    await t.step("renewing keeps it past its first TTL", async () => {
      for (let i = 0; i < 6; i++) {
        await elapse(leaseTtlMs / 4);
        assert.equal(await store.acquireLease("mgr", "a", leaseTtlMs), true);
      }
      assert.equal(await store.acquireLease("mgr", "b", leaseTtlMs), false);
    });
    await t.step("a lease nobody renews expires and can be taken", async () => {
      await expire("mgr");
      assert.equal(await store.leaseHolder("mgr"), undefined);
      assert.equal(await store.acquireLease("mgr", "b", leaseTtlMs), true);
      assert.equal(await store.leaseHolder("mgr"), "b");
    });
    await t.step("release by someone else does nothing; by the holder frees it", async () => {
      await store.releaseLease("mgr", "a");
      assert.equal(await store.leaseHolder("mgr"), "b");
      await store.releaseLease("mgr", "b");
      assert.equal(await store.leaseHolder("mgr"), undefined);
      assert.equal(await store.acquireLease("mgr", "a", leaseTtlMs), true);
    });
    await t.step("leases are independent by name", async () => {
      assert.equal(await store.acquireLease("other", "b", leaseTtlMs), true);
      assert.equal(await store.leaseHolder("mgr"), "a");
    });
  },

  "leases are shared by two handles; takeFrom takes a live lease only from the holder it names": async (
    { store, another, leaseTtlMs },
  ) => {
    const other = await another();
    assert.equal(await store.acquireLease("m", "host:1", leaseTtlMs), true);
    assert.equal(await other.acquireLease("m", "host:2", leaseTtlMs), false);
    assert.equal(await other.leaseHolder("m"), "host:1");
    assert.equal(await other.acquireLease("m", "host:2", leaseTtlMs, { takeFrom: "host:3" }), false);
    assert.equal(await other.acquireLease("m", "host:2", leaseTtlMs, { takeFrom: "host:1" }), true);
    assert.equal(await store.leaseHolder("m"), "host:2");
    assert.equal(await store.acquireLease("m", "host:1", leaseTtlMs), false, "the old holder lost it");
  },
};
