/** The Domain's power decision as a table: every libvirt state against every desired state, then reload and the grace period. */
import assert from "node:assert/strict";
import type { DomainState } from "../../src/api/types.ts";
import {
  decidePower,
  type PowerAction,
  type PowerDecision,
  type PowerDesired,
  type PowerObserved,
} from "../../src/controller/domain/power.ts";

const want = (state: DomainState, rest: Partial<PowerDesired> = {}): PowerDesired => ({
  state,
  guestListens: true,
  graceMs: 60_000,
  ...rest,
});

const STATES: Record<string, PowerObserved> = {
  "running": { state: "running", reason: "booted" },
  "paused (user)": { state: "paused", reason: "user" },
  "paused (internal error)": { state: "paused", reason: "internal error" },
  "paused (unknown)": { state: "paused", reason: "unknown" },
  "shut off": { state: "shut off", reason: "destroyed" },
  "crashed": { state: "crashed", reason: "panicked" },
  "in shutdown": { state: "in shutdown", reason: "unknown" },
  "pmsuspended": { state: "pmsuspended", reason: "unknown" },
  "blocked": { state: "blocked", reason: "unknown" },
};

const none: PowerAction = { type: "none" };
const start: PowerAction = { type: "start", paused: false };
const startPaused: PowerAction = { type: "start", paused: true };
const broken: PowerAction = { type: "reportBrokenPause" };
const acpi: PowerAction = { type: "shutdown" };
const off: PowerAction = { type: "powerOff", afterGrace: false };

/** observed state -> [Running, Paused, Stopped] -> the action. */
const TABLE: Record<string, [PowerAction, PowerAction, PowerAction]> = {
  "running": [none, { type: "suspend" }, acpi],
  "paused (user)": [{ type: "resume" }, none, off],
  "paused (internal error)": [broken, broken, off],
  "paused (unknown)": [broken, broken, off],
  "shut off": [start, startPaused, none],
  // A crashed guest cannot answer ACPI: its power is cut at once.
  "crashed": [start, startPaused, off],
  "in shutdown": [none, none, acpi],
  "pmsuspended": [none, none, acpi],
  "blocked": [none, none, acpi],
};

Deno.test("decidePower: every observed state against every desired state", async (t) => {
  for (const [label, observed] of Object.entries(STATES)) {
    for (const [i, desired] of (["Running", "Paused", "Stopped"] as const).entries()) {
      await t.step(`${label} -> ${desired}`, () => {
        const d = decidePower(observed, want(desired), {}, undefined);
        assert.deepEqual(d.action, TABLE[label][i]);
        assert.equal(d.reloading, false);
        assert.equal(d.reloadDone, undefined);
        // Up (or staying up) forgets an ACPI request; asking for one records it; otherwise it stays.
        const expected = desired !== "Stopped"
          ? "clear"
          : d.action.type === "shutdown"
          ? "set"
          : d.action.type === "powerOff"
          ? "clear"
          : "keep";
        assert.equal(d.shutdownRequest, expected);
        const requeue = d.action.type === "start" ? 2000 : d.action.type === "shutdown" ? 1000 : undefined;
        assert.equal(d.requeueAfterMs, requeue);
      });
    }
  }
});

Deno.test("decidePower: stopping waits out the ACPI grace period, then powers off", async (t) => {
  const running = STATES["running"];
  const cases: [string, PowerDesired, number | undefined, Partial<PowerDecision>][] = [
    ["not asked yet: ACPI", want("Stopped"), undefined, {
      action: acpi,
      shutdownRequest: "set",
      requeueAfterMs: 1000,
    }],
    ["asked, within the grace period: wait", want("Stopped"), 30_000, {
      action: { type: "awaitShutdown" },
      shutdownRequest: "keep",
      requeueAfterMs: 1000,
    }],
    ["asked, exactly at the grace period: still wait", want("Stopped"), 60_000, {
      action: { type: "awaitShutdown" },
    }],
    ["asked, past the grace period: power off", want("Stopped"), 60_001, {
      action: { type: "powerOff", afterGrace: true },
      shutdownRequest: "clear",
      requeueAfterMs: undefined,
    }],
    ["a short gracefulHaltTimeout", want("Stopped", { graceMs: 5_000 }), 5_001, {
      action: { type: "powerOff", afterGrace: true },
    }],
    [
      "no guest OS listens (communicator none): power off at once",
      want("Stopped", { guestListens: false }),
      undefined,
      {
        action: { type: "powerOff", afterGrace: false },
        shutdownRequest: "clear",
      },
    ],
  ];
  for (const [name, desired, elapsed, expected] of cases) {
    await t.step(name, () => {
      const d = decidePower(running, desired, {}, elapsed);
      for (const [k, v] of Object.entries(expected)) assert.deepEqual(d[k as keyof PowerDecision], v, k);
    });
  }
});

Deno.test("decidePower: lv reload stops a running domain, then starts it and records the request", async (t) => {
  const reload = { reload: "2030-01-01T00:00:00Z" };
  await t.step("running: ACPI shutdown first (a reload is a full stop and start)", () => {
    const d = decidePower(STATES["running"], want("Running"), reload, undefined);
    assert.deepEqual(d.action, acpi);
    assert.equal(d.reloading, true);
    assert.equal(d.reloadDone, undefined);
  });
  await t.step("running past the grace period: powered off, looked at again soon", () => {
    const d = decidePower(STATES["running"], want("Running"), reload, 61_000);
    assert.deepEqual(d.action, { type: "powerOff", afterGrace: true });
    assert.equal(d.requeueAfterMs, 100);
  });
  await t.step("paused: powered off at once", () => {
    const d = decidePower(STATES["paused (user)"], want("Paused"), reload, undefined);
    assert.deepEqual(d.action, off);
    assert.equal(d.requeueAfterMs, 100);
  });
  await t.step("shut off: started as desired, the request recorded as done", () => {
    const d = decidePower(STATES["shut off"], want("Paused"), reload, undefined);
    assert.deepEqual(d.action, startPaused);
    assert.equal(d.reloading, true);
    assert.equal(d.reloadDone, reload.reload);
  });
  await t.step("a request already carried out is not a reload", () => {
    const d = decidePower(
      STATES["running"],
      want("Running"),
      { ...reload, reloadDone: reload.reload },
      undefined,
    );
    assert.deepEqual(d.action, none);
    assert.equal(d.reloading, false);
  });
  await t.step("a Stopped domain is not reloaded", () => {
    const d = decidePower(STATES["shut off"], want("Stopped"), reload, undefined);
    assert.deepEqual(d.action, none);
    assert.equal(d.reloading, false);
  });
});
