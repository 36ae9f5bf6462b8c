import assert from "node:assert/strict";
import { join } from "node:path";
import type { AnyResource, Kind, Network } from "../../src/api/types.ts";
import {
  type ControllerContext,
  type Reconciler,
  TerminalError,
  WaitingError,
} from "../../src/controller/context.ts";
import { Manager } from "../../src/controller/manager.ts";
import { ensureFinalizer, removeFinalizer, setReady } from "../../src/controller/object_ops.ts";
import { SqliteStore } from "../../src/store/sqlite_store.ts";
import { ConflictError, keyOf, keyString } from "../../src/store/store.ts";
import { example, FAST_MANAGER, type Harness, key, newHarness, ready } from "./harness.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000, what = "condition") {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** A reconciler that records every pass: which keys are in flight, and what it saw. */
class Recorder implements Reconciler {
  active = new Map<string, number>();
  maxPerKey = 0;
  maxTotal = 0;
  seen: { key: string; resourceVersion: string; generation: number }[] = [];
  constructor(
    readonly kind: Kind,
    readonly delayMs = 15,
    readonly body?: (obj: AnyResource) => Promise<void>,
  ) {}
  async reconcile(obj: AnyResource, _ctx: ControllerContext): Promise<void> {
    const k = keyString(keyOf(obj));
    this.active.set(k, (this.active.get(k) ?? 0) + 1);
    this.maxPerKey = Math.max(this.maxPerKey, this.active.get(k)!);
    this.maxTotal = Math.max(this.maxTotal, [...this.active.values()].reduce((a, b) => a + b, 0));
    this.seen.push({
      key: k,
      resourceVersion: obj.metadata.resourceVersion,
      generation: obj.metadata.generation,
    });
    try {
      await sleep(this.delayMs);
      await this.body?.(obj);
    } finally {
      this.active.set(k, this.active.get(k)! - 1);
    }
  }
  passes(k: string): number {
    return this.seen.filter((s) => s.key === k).length;
  }
}

async function withManager(
  reconcilers: Reconciler[],
  fn: (h: Harness, m: Manager) => Promise<void>,
  options = FAST_MANAGER,
) {
  const h = await newHarness();
  const m = new Manager(h.ctx, reconcilers, options);
  try {
    await fn(h, m);
  } finally {
    await m.stop();
    await h.close();
  }
}

function net(name: string): Network {
  const n = example<Network>("Network", "basic-net");
  n.metadata.name = name;
  return n;
}

async function annotate(h: Harness, name: string, value: string) {
  for (let i = 0; i < 5; i++) {
    const obj = structuredClone((await h.store.get(key("Network", name)))!);
    obj.metadata.annotations = { ...obj.metadata.annotations, touch: value };
    try {
      return await h.store.update(obj);
    } catch (e) {
      if (!(e instanceof ConflictError)) throw e;
    }
  }
  throw new Error("could not annotate");
}

Deno.test("Manager reconciles two objects concurrently but one key never twice at once", async () => {
  const rec = new Recorder("Network", 20);
  await withManager([rec], async (h, m) => {
    await h.store.create(net("a"));
    await h.store.create(net("b"));
    await m.start();
    // Keep both keys busy: every write re-queues its key, often while it is being reconciled.
    for (let i = 0; i < 30; i++) {
      await annotate(h, i % 2 ? "a" : "b", String(i));
      await sleep(3);
    }
    const lastA = (await h.store.get(key("Network", "a")))!.metadata.resourceVersion;
    const lastB = (await h.store.get(key("Network", "b")))!.metadata.resourceVersion;
    await until(
      () =>
        rec.seen.some((s) => s.resourceVersion === lastA) &&
        rec.seen.some((s) => s.resourceVersion === lastB),
      5000,
      "a pass over the last write of each object",
    );
    assert.equal(rec.maxPerKey, 1, "a key was reconciled twice at once");
    assert.equal(rec.maxTotal, 2, "the two objects were never reconciled at the same time");
    // Level-triggered: writes during a pass collapse into one more pass, not one per write.
    assert.ok(
      rec.passes("Network/default/a") < 15 + 2,
      `${rec.passes("Network/default/a")} passes for 15 writes`,
    );
  });
});

Deno.test("Manager's worker pool: ten independent objects, at most `workers` at once and that many reached", async () => {
  const rec = new Recorder("Network", 30);
  await withManager([rec], async (h, m) => {
    const names = Array.from({ length: 10 }, (_, i) => `n${i}`);
    for (const n of names) await h.store.create(net(n));
    await m.start();
    await until(() => new Set(rec.seen.map((s) => s.key)).size === 10, 5000, "a pass over each object");
    assert.equal(
      rec.maxTotal,
      3,
      "the bound (3 workers) held, and was used: independent objects run concurrently",
    );
    assert.equal(rec.maxPerKey, 1, "one object never reconciled twice at once");
  }, { ...FAST_MANAGER, workers: 3 });
});

Deno.test("Manager with one worker reconciles one object at a time", async () => {
  const rec = new Recorder("Network", 10);
  await withManager([rec], async (h, m) => {
    for (const n of ["a", "b", "c"]) await h.store.create(net(n));
    await m.start();
    await until(() => new Set(rec.seen.map((s) => s.key)).size === 3);
    assert.equal(rec.maxTotal, 1);
  }, { ...FAST_MANAGER, workers: 1 });
});

Deno.test("Manager reconciles its `first` objects before the rest of the store, each pass", async () => {
  const order: string[] = [];
  const requeueOnce: Reconciler = {
    kind: "Network",
    reconcile(obj: AnyResource) {
      order.push(obj.metadata.name);
      // The awaited object needs a second pass (as after its finalizer or a status write).
      return Promise.resolve(
        obj.metadata.name === "awaited" && order.length === 1 ? { requeue: true } : undefined,
      );
    },
  };
  await withManager([requeueOnce], async (h, m) => {
    for (const n of ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "awaited"]) {
      await h.store.create(net(n));
    }
    await m.start();
    await until(() => order.length >= 12);
    assert.deepEqual(order.slice(0, 2), ["awaited", "awaited"]);
  }, { ...FAST_MANAGER, workers: 1, first: [key("Network", "awaited")] });
});

Deno.test("Manager picks up a change written by another store handle on the same file", async () => {
  const rec = new Recorder("Network", 0);
  await withManager([rec], async (h, m) => {
    await m.start();
    const other = new SqliteStore(join(h.home, "store.db"));
    try {
      const created = await other.create(net("from-elsewhere"));
      await until(() => rec.seen.some((s) => s.key === "Network/default/from-elsewhere"), 3000, "the watch");
      const changed = structuredClone(created) as Network;
      changed.spec.autostart = false;
      await other.update(changed);
      await until(() =>
        rec.seen.some((s) => s.key === "Network/default/from-elsewhere" && s.generation === 2)
      );
    } finally {
      other.close();
    }
  });
});

Deno.test("Manager queues what exists at start, and objects that depend on a changed one", async () => {
  const nets = new Recorder("Network", 0);
  const doms = new Recorder("Domain", 0);
  await withManager([nets, doms], async (h, m) => {
    await h.store.create(net("basic-net"));
    const dom = example("Domain", "web");
    dom.spec = { ...dom.spec, box: undefined, disks: [] } as typeof dom.spec;
    await h.store.create(dom);
    await m.start();
    await until(() => nets.seen.length >= 1 && doms.seen.length >= 1);
    const before = doms.seen.length;
    await annotate(h, "basic-net", "x");
    await until(() => doms.seen.length > before, 3000, "the Domain using the network to be queued");
  });
});

Deno.test("Manager: a WaitingError sets Ready=False with its reason and phase Pending, retried without a warning", async () => {
  let calls = 0;
  const waiting: Reconciler = {
    kind: "Network",
    reconcile: () => {
      calls++;
      if (calls < 3) return Promise.reject(new WaitingError("WaitingForSomething", "not yet", 30));
      return Promise.resolve();
    },
  };
  await withManager([waiting], async (h, m) => {
    await h.store.create(net("a"));
    await m.start();
    await until(async () => ready(await h.store.get(key("Network", "a")))?.reason === "WaitingForSomething");
    const obj = await h.store.get(key("Network", "a"));
    assert.equal(obj!.status.phase, "Pending");
    assert.equal(ready(obj)?.message, "not yet");
    await until(() => calls >= 3, 3000, "the retry after retryAfterMs");
    const events = await h.store.events(key("Network", "a"));
    assert.ok(!events.some((e) => e.type === "Warning"));
  });
});

Deno.test("Manager: an object being deleted that waits for a user to go is queued as soon as the user is gone", async () => {
  // Waits as blockingReferrers does, with a retry far beyond the test's patience: only the manager's
  // reaction to the Domain's removal can finish the Network's deletion in time.
  const nets: Reconciler = {
    kind: "Network",
    reconcile: async (obj, ctx) => {
      if (await ensureFinalizer(ctx.store, obj)) return;
      if (!obj.metadata.deletionTimestamp) return;
      if (await ctx.store.get(key("Domain", "web"))) {
        throw new WaitingError("InUse", "network is still used by domain/web", 60_000);
      }
      await removeFinalizer(ctx.store, obj);
    },
  };
  await withManager([nets, new Recorder("Domain", 0)], async (h, m) => {
    await h.store.create(net("basic-net"));
    const dom = example("Domain", "web");
    dom.spec = { ...dom.spec, box: undefined, disks: [] } as typeof dom.spec;
    await h.store.create(dom);
    await m.start();
    await until(async () =>
      (await h.store.get(key("Network", "basic-net")))?.metadata.finalizers.length === 1
    );
    await h.store.delete(key("Network", "basic-net"));
    await until(async () => ready(await h.store.get(key("Network", "basic-net")))?.reason === "InUse");
    await h.store.delete(key("Domain", "web"));
    await until(
      async () => (await h.store.get(key("Network", "basic-net"))) === undefined,
      3000,
      "the Network's deletion to finish once the Domain is gone",
    );
  });
});

Deno.test("Manager: a TerminalError is reported once and not retried until the spec changes", async () => {
  const calls: number[] = [];
  const terminal: Reconciler = {
    kind: "Network",
    reconcile: async (obj, ctx) => {
      calls.push(obj.metadata.generation);
      if (obj.metadata.generation === 1) throw new TerminalError("Invalid", "cannot ever work");
      await setReady(ctx.store, obj, { status: "True", reason: "Fine", phase: "Active" });
    },
  };
  await withManager([terminal], async (harness, m) => {
    await harness.store.create(net("a"));
    await m.start();
    await until(async () => ready(await harness.store.get(key("Network", "a")))?.reason === "Invalid");
    await sleep(300);
    const obj = await harness.store.get(key("Network", "a"));
    assert.equal(obj!.status.phase, "Failed");
    assert.equal(obj!.status.observedGeneration, 1, "the failure is about generation 1");
    assert.ok(calls.length <= 3, `${calls.length} passes for a terminal error`);
    assert.equal(m.queue.failures("Network/default/a"), 0, "no backoff retry was scheduled");
    const events = await harness.store.events(key("Network", "a"));
    // One event row; its count may be 2: the manager's own status write re-queues the key once.
    assert.deepEqual(events.map((e) => [e.type, e.reason]), [["Warning", "Invalid"]]);
    assert.ok(events[0].count <= 2);

    const changed = structuredClone(obj!) as Network;
    changed.spec.autostart = false;
    await harness.store.update(changed);
    await until(async () => ready(await harness.store.get(key("Network", "a")))?.reason === "Fine");
  });
});

Deno.test("Manager: a ConflictError is retried quietly, without touching status", async () => {
  let calls = 0;
  const conflicting: Reconciler = {
    kind: "Network",
    reconcile: (obj) => {
      calls++;
      if (calls < 3) return Promise.reject(new ConflictError(keyOf(obj), "raced"));
      return Promise.resolve();
    },
  };
  await withManager([conflicting], async (h, m) => {
    await h.store.create(net("a"));
    await m.start();
    await until(() => calls >= 3);
    const obj = await h.store.get(key("Network", "a"));
    assert.deepEqual(obj!.status, {});
    assert.deepEqual(await h.store.events(key("Network", "a")), []);
  });
});

Deno.test("Manager.stop() waits for passes in flight and runs no more", async () => {
  const rec = new Recorder("Network", 50);
  await withManager([rec], async (h, m) => {
    await h.store.create(net("a"));
    await m.start();
    await until(() => rec.active.get("Network/default/a") === 1);
    await m.stop();
    assert.equal(rec.active.get("Network/default/a"), 0, "stop() returned while a pass was running");
    const n = rec.seen.length;
    await annotate(h, "a", "after-stop");
    await sleep(50);
    assert.equal(rec.seen.length, n);
  });
});
