/** A Domain's status as a pure function of what this pass observed and did: no I/O, one write by the caller. */
import { type ConditionInput, removeCondition, setCondition } from "../../api/conditions.ts";
import type { DomainDriver, DomainInterfaceStatus, DomainState, DomainStatus } from "../../api/types.ts";
import { observedPhase, type PowerObserved } from "./power.ts";
import { restartMessage } from "./restart_fields.ts";
import type { DomainFailure } from "./power_actions.ts";

export interface DomainObservations {
  name: string;
  generation: number;
  desired: DomainState;
  driver: DomainDriver;
  /** libvirt's state at the end of the pass. */
  observed: PowerObserved;
  interfaces: DomainInterfaceStatus[];
  /** The display of a running domain (its port as libvirt chose it). */
  graphics?: DomainStatus["graphics"];
  /** A reload (stop and start) is under way. */
  reloading: boolean;
  /** When lv asked the guest to shut down (ACPI), while it waits for that. */
  shutdownRequestedAt?: string;
  /** The reload request carried out, to record. */
  reloadDone?: string;
  /** What the guest part keeps in status (undefined: leave as it is). */
  guest?: object;
  sshHostKey?: string;
  sshKey?: string;
  /** The cloud-init seed attached this pass (spec.cloudInit). */
  cloudInitSeed?: DomainStatus["cloudInitSeed"];
  /** Failed: phase Failed, Ready=False with this reason until the spec changes. */
  failure?: DomainFailure;
  /** Not ready yet for this reason (the guest boots). */
  notReady?: DomainFailure;
  /** Definition changes a running domain takes at its next boot. */
  pendingRestart: string[];
  /** The PortsForwarded condition (spec.forwardedPorts); undefined: none. */
  forwarding?: ConditionInput;
}

/** Whether libvirt's state is what the spec asks (and no reload is under way). */
export function stateMatches(obs: Pick<DomainObservations, "observed" | "desired" | "reloading">): boolean {
  return observedPhase(obs.observed.state) === obs.desired && !obs.reloading;
}

/** Writes the pass's observations into `status` (the latest stored status, to change in place). */
export function fillDomainStatus(status: DomainStatus, obs: DomainObservations, now: Date): void {
  const { state, reason } = obs.observed;
  status.observedGeneration = obs.generation;
  status.driver = obs.driver;
  status.state = state;
  status.stateReason = reason;
  status.interfaces = obs.interfaces;
  status.ip = obs.interfaces.flatMap((i) => i.ips.map((a) => a.address))[0];
  if (obs.graphics) status.graphics = obs.graphics;
  else delete status.graphics;
  if (obs.shutdownRequestedAt) status.shutdownRequestedAt = obs.shutdownRequestedAt;
  else delete status.shutdownRequestedAt;
  if (obs.reloadDone) status.restartRequest = obs.reloadDone;
  if (obs.guest) status.guest = obs.guest as Record<string, unknown>;
  if (obs.sshHostKey) status.sshHostKey = obs.sshHostKey;
  if (obs.sshKey) status.sshKey = obs.sshKey;
  if (obs.cloudInitSeed) status.cloudInitSeed = obs.cloudInitSeed;
  else delete status.cloudInitSeed;
  status.phase = obs.failure ? "Failed" : observedPhase(state);
  if (obs.pendingRestart.length > 0) {
    setCondition(status, {
      type: "RestartRequired",
      status: "True",
      reason: "ConfigChanged",
      message: restartMessage(obs.name, obs.pendingRestart),
    }, now);
  } else removeCondition(status, "RestartRequired");
  if (obs.forwarding) setCondition(status, obs.forwarding, now);
  else removeCondition(status, "PortsForwarded");
  setCondition(status, readyCondition(obs), now);
}

function readyCondition(obs: DomainObservations): ConditionInput {
  const { state, reason } = obs.observed;
  if (obs.failure) return { type: "Ready", status: "False", ...obs.failure };
  if (obs.notReady) return { type: "Ready", status: "False", ...obs.notReady };
  if (stateMatches(obs)) return { type: "Ready", status: "True", reason: observedPhase(state), message: "" };
  return {
    type: "Ready",
    status: "False",
    reason: obs.reloading ? "Reloading" : "Converging",
    message: `${state} (${reason}), want ${obs.reloading ? "a restart" : obs.desired}`,
  };
}
