/** A Domain's status as a pure function of one pass's observations. */
import assert from "node:assert/strict";
import { getCondition } from "../../src/api/conditions.ts";
import type { DomainStatus } from "../../src/api/types.ts";
import {
  type DomainObservations,
  fillDomainStatus,
  stateMatches,
} from "../../src/controller/domain/status.ts";

const NOW = new Date("2030-01-01T00:00:00Z");
const LATER = new Date("2030-01-01T00:05:00Z");

function obs(rest: Partial<DomainObservations> = {}): DomainObservations {
  return {
    name: "web",
    generation: 3,
    desired: "Running",
    driver: "qemu",
    observed: { state: "running", reason: "booted" },
    interfaces: [{
      mac: "52:54:00:00:00:01",
      network: "net",
      ips: [{ address: "10.0.0.5", source: "lease" }, { address: "10.0.0.9", source: "static" }],
    }],
    reloading: false,
    pendingRestart: [],
    ...rest,
  };
}

function statusOf(o: DomainObservations, before: DomainStatus = {}, now = NOW): DomainStatus {
  const status = structuredClone(before);
  fillDomainStatus(status, o, now);
  return status;
}

Deno.test("domain status: running as desired is Ready with the observed facts", () => {
  const s = statusOf(obs());
  assert.equal(s.observedGeneration, 3);
  assert.equal(s.phase, "Running");
  assert.equal(s.state, "running");
  assert.equal(s.stateReason, "booted");
  assert.equal(s.driver, "qemu");
  assert.equal(s.ip, "10.0.0.5", "the first address: the lease");
  assert.deepEqual(getCondition(s, "Ready"), {
    type: "Ready",
    status: "True",
    reason: "Running",
    message: "",
    lastTransitionTime: NOW.toISOString(),
  });
  assert.equal(getCondition(s, "RestartRequired"), undefined);
});

Deno.test("domain status: the phase follows libvirt's state; a mismatch is Converging", async (t) => {
  const cases: [string, string, string, string][] = [
    ["paused", "Paused", "Paused", "True"],
    ["shut off", "Stopped", "Stopped", "True"],
    ["shut off", "Running", "Stopped", "False"],
    ["in shutdown", "Stopped", "in shutdown", "False"],
  ];
  for (const [state, desired, phase, ready] of cases) {
    await t.step(`${state}, want ${desired}`, () => {
      const s = statusOf(obs({ observed: { state, reason: "r" }, desired: desired as "Running" }));
      assert.equal(s.phase, phase);
      const cond = getCondition(s, "Ready")!;
      assert.equal(cond.status, ready);
      if (ready === "False") {
        assert.equal(cond.reason, "Converging");
        assert.equal(cond.message, `${state} (r), want ${desired}`);
      }
    });
  }
});

Deno.test("domain status: a reload under way is Reloading, never Ready", () => {
  const o = obs({ reloading: true });
  assert.equal(stateMatches(o), false);
  const cond = getCondition(statusOf(o), "Ready")!;
  assert.deepEqual([cond.status, cond.reason, cond.message], [
    "False",
    "Reloading",
    "running (booted), want a restart",
  ]);
});

Deno.test("domain status: a failure wins over everything and makes the phase Failed", () => {
  const failure = { reason: "GuestPaused", message: "paused by itself" };
  const s = statusOf(obs({ failure, notReady: { reason: "WaitingForSSH", message: "x" } }));
  assert.equal(s.phase, "Failed");
  const cond = getCondition(s, "Ready")!;
  assert.deepEqual([cond.status, cond.reason, cond.message], ["False", "GuestPaused", "paused by itself"]);
});

Deno.test("domain status: a guest not ready yet keeps Ready False with its reason", () => {
  const s = statusOf(obs({ notReady: { reason: "WaitingForSSH", message: "no address yet" } }));
  assert.equal(s.phase, "Running");
  assert.deepEqual(getCondition(s, "Ready")?.reason, "WaitingForSSH");
});

Deno.test("domain status: RestartRequired names the changes, and goes once nothing is pending", () => {
  const s = statusOf(obs({ pendingRestart: ["memoryMiB", "currentMemoryMiB", "vcpus"] }));
  assert.deepEqual(getCondition(s, "RestartRequired"), {
    type: "RestartRequired",
    status: "True",
    reason: "ConfigChanged",
    message: "spec.memory, spec.cpus take effect at the next boot (lv reload web, or lv apply --restart)",
    lastTransitionTime: NOW.toISOString(),
  });
  assert.equal(getCondition(statusOf(obs(), s), "RestartRequired"), undefined);
});

Deno.test("domain status: shutdown request, reload done and guest fields are kept or cleared as observed", () => {
  const before: DomainStatus = {
    shutdownRequestedAt: "2029-12-31T23:59:00Z",
    restartRequest: "old",
    guest: { domId: "1" },
    sshHostKey: "ssh-ed25519 AAAA",
  };
  const s = statusOf(obs({ reloadDone: "new", guest: { domId: "2" } }), before);
  assert.equal(s.shutdownRequestedAt, undefined, "no request observed: cleared");
  assert.equal(s.restartRequest, "new");
  assert.deepEqual(s.guest, { domId: "2" });
  assert.equal(s.sshHostKey, "ssh-ed25519 AAAA", "kept when the pass learned none");
  const asked = statusOf(obs({ shutdownRequestedAt: "2030-01-01T00:00:00Z" }), before);
  assert.equal(asked.shutdownRequestedAt, "2030-01-01T00:00:00Z");
  assert.equal(asked.restartRequest, "old", "kept when nothing was carried out");
});

Deno.test("domain status: Ready's lastTransitionTime moves only when its status flips", () => {
  const first = statusOf(obs(), {}, NOW);
  const same = statusOf(obs(), first, LATER);
  assert.equal(getCondition(same, "Ready")?.lastTransitionTime, NOW.toISOString());
  const flipped = statusOf(obs({ observed: { state: "shut off", reason: "x" } }), same, LATER);
  assert.equal(getCondition(flipped, "Ready")?.lastTransitionTime, LATER.toISOString());
});
