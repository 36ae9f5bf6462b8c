import assert from "node:assert/strict";
import { join } from "node:path";
import { controllerLease, LeaseKeeper } from "../../src/controller/lease_keeper.ts";
import { SqliteStore } from "../../src/store/sqlite_store.ts";
import { TestClock } from "./harness.ts";

function keeper(store: SqliteStore, holder: string, log: string[], dead = new Set<string>()): LeaseKeeper {
  return new LeaseKeeper([controllerLease("hv1"), controllerLease(undefined)], {
    store,
    holder,
    ttlMs: 10_000,
    gained: (name) => Promise.resolve(void log.push(`${holder} gained ${name}`)),
    lost: (name) => Promise.resolve(void log.push(`${holder} lost ${name}`)),
    waiting: (name, other) => void log.push(`${holder} waits on ${other} for ${name}`),
    dead: (h) => dead.has(h),
  });
}

Deno.test("LeaseKeeper: one holder per context lease; the standby takes over when the holder stops renewing", async () => {
  const dir = await Deno.makeTempDir();
  const clock = new TestClock();
  const a = new SqliteStore(join(dir, "store.db"), { now: () => clock.now() });
  const b = new SqliteStore(join(dir, "store.db"), { now: () => clock.now() });
  try {
    const log: string[] = [];
    const first = keeper(a, "a", log);
    const second = keeper(b, "b", log);
    await first.tick();
    await second.tick();
    await second.tick();
    assert.deepEqual(log, [
      "a gained controller/hv1",
      "a gained controller",
      "b waits on a for controller/hv1",
      "b waits on a for controller",
    ]);
    clock.advance(5_000);
    await first.tick(); // renewed
    clock.advance(9_000);
    await second.tick();
    assert.deepEqual(second.held(), [], "renewed 9 s ago: still a's");
    clock.advance(1_001);
    log.length = 0;
    await second.tick();
    await first.tick();
    assert.deepEqual(log, [
      "b gained controller/hv1",
      "b gained controller",
      "a lost controller/hv1",
      "a lost controller",
    ]);
    log.length = 0;
    await second.release();
    assert.deepEqual(log, ["b lost controller/hv1", "b lost controller"]);
    assert.equal(await a.leaseHolder(controllerLease("hv1")), undefined);
  } finally {
    a.close();
    b.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("LeaseKeeper takes a live lease at once from a holder known to be dead", async () => {
  const dir = await Deno.makeTempDir();
  const store = new SqliteStore(join(dir, "store.db"));
  try {
    const log: string[] = [];
    await keeper(store, "gone:1", log).tick();
    const next = keeper(store, "b", log, new Set(["gone:1"]));
    await next.tick();
    assert.deepEqual(next.held(), ["controller/hv1", "controller"]);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
