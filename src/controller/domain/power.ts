/**
 * Power as a pure decision: from what libvirt reports, what the spec wants, what lv was asked (reload) and
 * how long an ACPI shutdown has been waited for, the one thing to do now. No I/O: power_actions.ts does it.
 */
import type { DomainState } from "../../api/types.ts";

/** Seconds a guest gets to shut down on ACPI before it is powered off (vagrant's graceful_halt_timeout). */
export const GRACEFUL_HALT_SECONDS = 60;

/**
 * Pause reasons a guest cannot leave by itself: reported, never resumed. A KVM that cannot run the guest
 * pauses it with reason "unknown" (QEMU's status says internal-error), so an unexplained pause counts too;
 * a user's pause ("user") is resumed when the spec says Running.
 */
export const BROKEN_PAUSE =
  /internal error|crashed|io error|panicked|watchdog|shutting down|postcopy failed|unknown/i;

/** libvirt's state of the domain: "running", "paused", "shut off", "crashed", "in shutdown", ... */
export interface PowerObserved {
  state: string;
  reason: string;
}

/** What the spec wants. */
export interface PowerDesired {
  state: DomainState;
  /** A guest OS listens to ACPI and lv talks to it (communicator not none); else power off at once. */
  guestListens: boolean;
  /** How long an ACPI shutdown may take before the power is cut. */
  graceMs: number;
}

/** What lv was asked: `lv reload`'s request (an annotation) and the last one carried out (status). */
export interface PowerRequests {
  reload?: string;
  reloadDone?: string;
}

export type PowerAction =
  | { type: "none" }
  | { type: "start"; paused: boolean }
  | { type: "resume" }
  | { type: "suspend" }
  /** Paused for a reason the guest cannot leave (BROKEN_PAUSE): report it, never resume. */
  | { type: "reportBrokenPause" }
  /** Ask the guest OS to shut down (ACPI). */
  | { type: "shutdown" }
  /** ACPI shutdown asked before: wait for it. */
  | { type: "awaitShutdown" }
  | { type: "powerOff"; afterGrace: boolean };

export interface PowerDecision {
  action: PowerAction;
  /** A reload is under way: the domain must stop and start again. */
  reloading: boolean;
  /** The reload request to record as carried out (once the domain is off), if any. */
  reloadDone?: string;
  /** What becomes of status.shutdownRequestedAt: kept, cleared, or set to now. */
  shutdownRequest: "keep" | "clear" | "set";
  /** Look again this soon. */
  requeueAfterMs?: number;
}

/**
 * The power action for this pass. `elapsedMs` is how long ago lv asked for an ACPI shutdown; undefined
 * when it has not.
 */
export function decidePower(
  observed: PowerObserved,
  desired: PowerDesired,
  requests: PowerRequests,
  elapsedMs: number | undefined,
): PowerDecision {
  const { state, reason } = observed;
  // lv reload: a full stop and start (so next-boot changes apply), then the boot's guest work again.
  const reloading = !!requests.reload && requests.reload !== requests.reloadDone &&
    desired.state !== "Stopped";
  const off = state === "shut off";
  const reloadDone = reloading && off ? requests.reload : undefined;
  const target = reloading && !off ? "Stopped" : desired.state;
  const decision = (action: PowerAction, rest: Partial<PowerDecision> = {}): PowerDecision => ({
    action,
    reloading,
    ...(reloadDone === undefined ? {} : { reloadDone }),
    shutdownRequest: "keep",
    ...rest,
  });
  if (target === "Running" || target === "Paused") {
    const up = (action: PowerAction, rest: Partial<PowerDecision> = {}) =>
      decision(action, { shutdownRequest: "clear", ...rest });
    // Look again shortly after a start: a guest that cannot run pauses or dies right after it.
    if (off || state === "crashed") {
      return up({ type: "start", paused: target === "Paused" }, { requeueAfterMs: 2000 });
    }
    if (state === "paused" && BROKEN_PAUSE.test(reason)) return up({ type: "reportBrokenPause" });
    if (state === "paused" && target === "Running") return up({ type: "resume" });
    if (state === "running" && target === "Paused") return up({ type: "suspend" });
    return up({ type: "none" });
  }
  if (off) return decision({ type: "none" });
  // Stopped: ACPI first, power off after the grace period (at once when no guest OS can listen: none is
  // configured, or it is paused or crashed).
  const since = elapsedMs ?? 0;
  const deaf = !desired.guestListens || state === "paused" || state === "crashed";
  if (deaf || since > desired.graceMs) {
    return decision({ type: "powerOff", afterGrace: since !== 0 }, {
      shutdownRequest: "clear",
      ...(reloading ? { requeueAfterMs: 100 } : {}),
    });
  }
  if (elapsedMs === undefined) {
    return decision({ type: "shutdown" }, { shutdownRequest: "set", requeueAfterMs: 1000 });
  }
  return decision({ type: "awaitShutdown" }, { requeueAfterMs: 1000 });
}

/** The phase a libvirt state stands for: Running, Paused, Stopped, or libvirt's own word. */
export function observedPhase(state: string): string {
  return state === "running"
    ? "Running"
    : state === "paused"
    ? "Paused"
    : state === "shut off"
    ? "Stopped"
    : state;
}
