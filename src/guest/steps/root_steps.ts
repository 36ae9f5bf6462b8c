/**
 * The first boot's work as root, in two sudo batches whatever the network family: the hostname's writes with
 * what the network family reads, then the family's writes (network_plan: family.ts). A failure names its
 * step; what ran before it stays done, and the next reconcile plans again from what the guest has then.
 */
import type { GuestReads } from "../guest_reads.ts";
import type { NetworkFamily } from "../network/family.ts";
import { noFamilyError } from "../network/families.ts";
import type { StaticInterface } from "../network/static_interfaces.ts";
import type { GuestOp, GuestSession } from "../session.ts";
import { runStepsBatch, type StepOps } from "../step_batch.ts";

export interface RootWork {
  /** The hostname step's writes (hostname.ts hostnameOps), when the step is due. */
  hostname?: GuestOp[];
  /** The static interfaces to configure with `family` (undefined: the guest runs none lv knows). */
  network?: { family?: NetworkFamily; interfaces: StaticInterface[]; known: GuestReads };
  /**
   * The network's writes wait for this (the login proving lv's key: a new login should not race the guest
   * reconfiguring its network, ifup, nmcli up or netplan apply, on a slow guest).
   */
  writesAfter?: Promise<unknown>;
}

export interface RootDone {
  hostname: boolean;
  network: boolean;
  /** The first failure, naming its step ("hostname: ...", "ifupdown: ..."). */
  error?: Error;
}

/**
 * Does the root work: at most two round trips (none when nothing is due), the second only for the network's
 * writes. `network.known` holds the family's survey (read with the guest's facts); its reads are added.
 */
export async function runRootSteps(session: GuestSession, work: RootWork): Promise<RootDone> {
  const { network } = work;
  const steps: StepOps[] = work.hostname ? [{ step: "hostname", ops: work.hostname }] : [];
  let planError: Error | undefined;
  let reads: GuestOp[] = [];
  if (network?.family) {
    try {
      reads = network.known.missing(network.family.reads(network.interfaces, network.known));
    } catch (e) {
      planError = new Error(`${network.family.name}: ${(e as Error).message}`, { cause: e });
    }
    steps.push({ step: network.family.name, ops: reads });
  } else if (network) planError = noFamilyError();
  const first = await runStepsBatch(session, steps, { sudo: true });
  const done: RootDone = { hostname: !!work.hostname && first.done.has("hostname"), network: !network };
  if (first.error || planError || !network?.family) return { ...done, error: first.error ?? planError };
  network.known.add(reads, first.results.at(-1)!);
  let plan: StepOps;
  try {
    plan = network.family.plan(network.interfaces, network.known);
  } catch (e) {
    return { ...done, error: new Error(`${network.family.name}: ${(e as Error).message}`, { cause: e }) };
  }
  if (plan.ops.length > 0) await work.writesAfter?.catch(() => {});
  const second = await runStepsBatch(session, [plan], { sudo: true });
  return { ...done, network: second.done.has(plan.step), error: second.error };
}
