import assert from "node:assert/strict";
import { WorkQueue } from "../../src/controller/work_queue.ts";

const tick = () => new Promise((r) => setTimeout(r, 0));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One worker's view of a queue: next(ms) is the next key, or "(none)" when nothing comes within ms.
 * A get() that timed out stays pending and is reused, so no key is taken by an abandoned get().
 */
class Worker {
  #pending?: Promise<string | undefined>;
  constructor(readonly q: WorkQueue) {}
  async next(ms = 1_000): Promise<string | undefined> {
    this.#pending ??= this.q.get();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const none = new Promise<string>((r) => timer = setTimeout(() => r("(none)"), ms));
    const result = await Promise.race([this.#pending, none]);
    clearTimeout(timer);
    if (result !== "(none)") this.#pending = undefined;
    return result;
  }
}

Deno.test("WorkQueue.get() hands out keys in order and an added key only once", async () => {
  const q = new WorkQueue();
  const w = new Worker(q);
  try {
    q.add("a");
    q.add("b");
    q.add("a");
    assert.equal(await w.next(), "a");
    assert.equal(await w.next(), "b");
    assert.equal(await w.next(20), "(none)");
  } finally {
    q.close();
  }
});

Deno.test("WorkQueue.prioritize(): those keys go before the others whenever they are added", async () => {
  const q = new WorkQueue();
  q.prioritize(["awaited"]);
  for (const k of ["a", "b", "awaited", "c"]) q.add(k);
  assert.equal(await q.get(), "awaited");
  q.done("awaited");
  assert.equal(await q.get(), "a");
  q.add("awaited"); // queued again (a status write, a requeue): still first
  assert.equal(await q.get(), "awaited");
  q.done("awaited");
  q.done("a");
  assert.equal(await q.get(), "b");
});

Deno.test("WorkQueue never hands a key to two workers at once", async () => {
  const q = new WorkQueue();
  const w = new Worker(q);
  const other = new Worker(q);
  try {
    q.add("a");
    const first = await w.next();
    assert.equal(first, "a");
    q.add("a"); // added again while a worker has it
    assert.equal(await other.next(20), "(none)", "a second worker must not get 'a' while it is active");
    q.done("a");
    assert.equal(await other.next(20), "a", "re-added while active: processed again after done()");
    q.done("a");
    assert.equal(await other.next(20), "(none)", "only once more");
  } finally {
    q.close();
  }
});

Deno.test("WorkQueue: many workers, many adds — no key active twice, every add after a start is processed", async () => {
  const q = new WorkQueue();
  const active = new Set<string>();
  let overlaps = 0;
  const lastAdded = new Map<string, number>();
  const lastStarted = new Map<string, number>();
  let seq = 0;
  const workers = Array.from({ length: 6 }, async () => {
    while (true) {
      const key = await q.get();
      if (key === undefined) return;
      if (active.has(key)) overlaps++;
      active.add(key);
      lastStarted.set(key, ++seq);
      await sleep(Math.random() * 3);
      active.delete(key);
      q.done(key);
    }
  });
  for (let i = 0; i < 300; i++) {
    const key = `k${i % 5}`;
    lastAdded.set(key, ++seq);
    q.add(key);
    if (i % 7 === 0) await sleep(1);
  }
  while (!q.idle) await sleep(2);
  q.close();
  await Promise.all(workers);
  assert.equal(overlaps, 0);
  for (const [key, added] of lastAdded) {
    assert.ok(
      lastStarted.get(key)! > added,
      `${key} was added after its last start and never processed again`,
    );
  }
});

Deno.test("WorkQueue.addRateLimited() backs off exponentially within jitter, caps at maxDelayMs, forget() resets", async (t) => {
  const q = new WorkQueue({ baseDelayMs: 100, maxDelayMs: 5_000, jitter: 0.1 });
  try {
    await t.step("delays double per failure, within ±10%", () => {
      for (let n = 0; n < 6; n++) {
        const raw = 100 * 2 ** n;
        const d = q.addRateLimited("a");
        assert.ok(
          d >= raw * 0.9 - 1 && d <= raw * 1.1 + 1,
          `failure ${n + 1}: ${d} ms not within 10% of ${raw}`,
        );
        assert.equal(q.failures("a"), n + 1);
      }
    });
    await t.step("the delay stops growing at the cap (within jitter)", () => {
      for (let n = 0; n < 20; n++) {
        const d = q.addRateLimited("a");
        if (n > 2) assert.ok(d >= 5_000 * 0.9 - 1 && d <= 5_000 * 1.1 + 1, `${d} ms beyond the cap`);
      }
    });
    await t.step("keys back off independently", () => {
      const d = q.addRateLimited("b");
      assert.ok(d <= 110 + 1);
    });
    await t.step("forget() resets a key's backoff", () => {
      q.forget("a");
      assert.equal(q.failures("a"), 0);
      const d = q.addRateLimited("a");
      assert.ok(d >= 89 && d <= 111, `${d}`);
    });
    await t.step("jitter spreads the delays", () => {
      const seen = new Set<number>();
      for (let i = 0; i < 30; i++) {
        q.forget("c");
        seen.add(q.addRateLimited("c"));
      }
      assert.ok(seen.size > 1, "30 first retries all had the same delay: no jitter");
    });
  } finally {
    q.close();
  }
});

Deno.test("WorkQueue.addRateLimited() hands the key out after the delay", async () => {
  const q = new WorkQueue({ baseDelayMs: 30, jitter: 0 });
  const w = new Worker(q);
  try {
    const started = Date.now();
    assert.equal(q.addRateLimited("a"), 30);
    assert.equal(await w.next(10), "(none)", "not before the delay");
    assert.equal(await w.next(), "a");
    assert.ok(Date.now() - started >= 25);
  } finally {
    q.close();
  }
});

Deno.test("WorkQueue.addAfter(): an earlier pending add wins over a later one", async () => {
  const q = new WorkQueue({ jitter: 0 });
  const w = new Worker(q);
  try {
    q.addAfter("a", 20);
    q.addAfter("a", 5_000); // later: ignored
    const t0 = Date.now();
    assert.equal(await w.next(), "a");
    assert.ok(Date.now() - t0 < 1_000);
    q.done("a");
    q.addAfter("b", 5_000);
    q.addAfter("b", 10); // earlier: replaces the pending one
    assert.equal(await w.next(1_000), "b");
    assert.equal(q.size, 1, "only the active key is left, no timer");
  } finally {
    q.close();
  }
});

Deno.test("WorkQueue.close() wakes waiting workers with undefined and drops timers", async () => {
  const q = new WorkQueue();
  const w = new Worker(q);
  const waiting = [q.get(), q.get()];
  q.addAfter("a", 10_000);
  await tick();
  q.close();
  assert.deepEqual(await Promise.all(waiting), [undefined, undefined]);
  assert.equal(await w.next(), undefined);
  q.add("b");
  assert.equal(q.size, 0, "adds after close are ignored");
});
