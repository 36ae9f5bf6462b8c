/**
 * driveUntil() looks at what it waits on when its controllers finish a reconcile, not only every pollMs:
 * the manager reports each reconcile, and the pause between checks ends on it.
 */
import assert from "node:assert/strict";
import { awaitObjects, readiness } from "../../src/cli/await_objects.ts";
import { planApply } from "../../src/cli/apply_plan.ts";
import { CheckPause, driveUntil } from "../../src/controller/manager_lease.ts";
import { parseManifests } from "../../src/manifest/parse.ts";
import { keyOf } from "../../src/store/store.ts";
import { newCliHarness } from "./cli_harness.ts";

const DOMAIN = `apiVersion: lv.dev/v1alpha1
kind: Domain
metadata:
  name: quick
spec:
  communicator: none
  state: Stopped
  memory: 64
`;

/** Resolves with whether `p` settled before `ms` (a guard so that a broken wake fails instead of hanging). */
async function settles(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<false>((r) => timer = setTimeout(() => r(false), ms));
  const settled = await Promise.race([p.then(() => true), guard]);
  clearTimeout(timer);
  return settled;
}

Deno.test("CheckPause: a wake ends the pause at once after a cheap check", async () => {
  const pause = new CheckPause(3_600_000);
  const slept = pause.sleep(3_600_000, 0);
  pause.wake();
  assert.equal(await settles(slept, 10_000), true, "the pause ran its hour");
});

Deno.test("CheckPause: without a wake the pause lasts pollMs", async () => {
  const pause = new CheckPause(3_600_000);
  const slept = pause.sleep(50, 0);
  assert.equal(await settles(slept, 10_000), true);
  const long = pause.sleep(3_600_000, 0);
  assert.equal(await settles(long, 100), false, "a pause ended with nothing to end it");
  pause.wake();
  await long;
});

Deno.test("driveUntil() sees an object its controllers made Ready", async () => {
  const h = await newCliHarness();
  try {
    const { resources, problems } = parseManifests(DOMAIN, "quick.yaml");
    assert.deepEqual(problems, []);
    const obj = planApply(resources[0], undefined).next;
    await h.rt.store.create(obj);
    const done = await driveUntil(h.rt, async () => {
      return readiness(await h.rt.store.get(keyOf(obj))) === "done";
    }, { timeoutMs: 20_000 });
    assert.equal(done, true);
  } finally {
    await h.close();
  }
});

Deno.test("driveUntil() ends at its deadline although a reconcile never returns, and names it", async () => {
  const h = await newCliHarness();
  try {
    const { resources } = parseManifests(DOMAIN, "quick.yaml");
    const obj = planApply(resources[0], undefined).next;
    await h.rt.store.create(obj);
    let stuck = false;
    h.fake.beforeCall = (args) => {
      if (args[0] !== "define") return Promise.resolve();
      stuck = true;
      return new Promise(() => {}); // a call that never answers (a guest or host gone silent)
    };
    let err = "";
    h.rt.output.err = (text) => err += text;
    const done = driveUntil(h.rt, async () => readiness(await h.rt.store.get(keyOf(obj))) === "done", {
      timeoutMs: 500,
      stopGraceMs: 200,
    });
    assert.equal(await settles(done, 10_000), true, "driveUntil waited on the stuck reconcile");
    assert.equal(await done, false);
    assert.ok(stuck, "the reconcile never reached the stuck call");
    assert.match(
      err,
      /lv: domain\/quick still reconciling 0\.2 s after its controllers were told to stop; left to the next lv command/,
    );
  } finally {
    await h.close();
  }
});

Deno.test("awaitObjects(): an object that settles while the controllers stop at the deadline is not a timeout", async () => {
  const h = await newCliHarness();
  try {
    const { resources } = parseManifests(DOMAIN, "quick.yaml");
    const obj = planApply(resources[0], undefined).next;
    await h.rt.store.create(obj);
    const store = h.rt.store;
    const release = store.releaseLease.bind(store);
    let released = false;
    store.releaseLease = (...args) => {
      released = true; // the wait's deadline passed: its controllers are stopping
      return release(...args);
    };
    const verdict = () => released ? "done" as const : "pending" as const;
    await awaitObjects(h.rt, [keyOf(obj)], verdict, { timeoutMs: 300, what: "be Ready", progress: false });
  } finally {
    await h.close();
  }
});

Deno.test("awaitObjects() drives the controllers while an object is pending, and starts none once all are settled", async () => {
  const h = await newCliHarness();
  try {
    const { resources } = parseManifests(DOMAIN, "quick.yaml");
    const obj = planApply(resources[0], undefined).next;
    await h.rt.store.create(obj);
    const store = h.rt.store;
    const acquire = store.acquireLease.bind(store);
    let leases = 0;
    store.acquireLease = (...args) => {
      leases++;
      return acquire(...args);
    };
    const options = { timeoutMs: 20_000, what: "be Ready", progress: false };
    await awaitObjects(h.rt, [keyOf(obj)], readiness, options);
    assert.ok(leases > 0, "the pending Domain was waited on without its controllers");
    assert.equal(readiness(await store.get(keyOf(obj))), "done");
    leases = 0;
    await awaitObjects(h.rt, [keyOf(obj)], readiness, options); // a no-op apply's wait
    assert.equal(leases, 0, "a settled object started the controllers");
  } finally {
    await h.close();
  }
});
