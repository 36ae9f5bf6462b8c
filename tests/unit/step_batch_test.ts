/** Several steps' operations in one batch (step_batch.ts): which step a failure names, what counts as done. */
import assert from "node:assert/strict";
import type { GuestOpResult, GuestSession } from "../../src/guest/session.ts";
import { runStepsBatch } from "../../src/guest/step_batch.ts";
import { FakeGuest } from "./fake_guest.ts";
import { loginTo } from "./fake_guest_login.ts";

Deno.test("runStepsBatch: one round trip; a failure names the step it is in, the steps before it are done", async () => {
  const guest = new FakeGuest();
  const session = await loginTo(guest);
  guest.failNext("networkctl", { code: 1, stderr: "Failed to reload: Access denied\n" });
  const trips = guest.roundTrips();
  const outcome = await runStepsBatch(session, [
    { step: "hostname", ops: [{ run: ["hostname", "web"] }] },
    { step: "systemd-networkd", ops: [{ run: ["networkctl", "reload"] }, { run: ["networkctl", "reload"] }] },
    { step: "later", ops: [{ run: ["true"] }] },
  ], { sudo: true });
  assert.equal(guest.roundTrips() - trips, 1);
  assert.deepEqual([...outcome.done], ["hostname"]);
  assert.equal(
    outcome.error?.message,
    "systemd-networkd: networkctl reload: exit code 1: Failed to reload: Access denied",
  );
  assert.deepEqual(outcome.results.map((r) => r.map((o) => o.ran)), [[true], [true, false], [false]]);
  assert.equal(guest.hostname, "web");
});

Deno.test("runStepsBatch: a batch cut short (no failure seen) is not done, naming the first operation not run", async () => {
  const cut: Pick<GuestSession, "batch"> = {
    batch: (ops) =>
      Promise.resolve(ops.map((_, i): GuestOpResult => i === 0 ? { ran: true } : { ran: false })),
  };
  const outcome = await runStepsBatch(cut as GuestSession, [
    {
      step: "ifupdown",
      ops: [{ put: "/etc/network/interfaces.d/lv-1", content: "x" }, { run: ["ifup", "eth1"] }],
    },
  ]);
  assert.deepEqual([...outcome.done], []);
  assert.equal(outcome.error?.message, "ifupdown: ifup eth1: not run (the batch ended before it)");
});

Deno.test("runStepsBatch: sudo refused names the first step with operations; nothing is done", async () => {
  const guest = new FakeGuest();
  const session = await loginTo(guest);
  guest.users.get("vagrant")!.sudo = "password";
  const outcome = await runStepsBatch(session, [
    { step: "hostname", ops: [] },
    { step: "NetworkManager", ops: [{ run: ["nmcli", "-g", "NAME", "connection", "show"] }] },
  ], { sudo: true });
  assert.match(
    outcome.error!.message,
    /^NetworkManager: cannot run as root in the guest: exit code 1: sudo: a password/,
  );
  assert.deepEqual([...outcome.done], []);
});
