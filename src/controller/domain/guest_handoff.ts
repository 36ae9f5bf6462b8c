/**
 * The Domain controller's one way into the guest part: the work inside a running guest (over SSH), and
 * what deleting a Domain leaves to clean up on this side (NFS exports, its keys). Only this file imports
 * the guest code, so moving that code behind an interface changes one import here.
 */
import type { Domain, DomainInterfaceStatus, Network } from "../../api/types.ts";
import type { DomainXmlInterface } from "../../libvirt/xml/domain_xml.ts";
import { syncExports } from "../../guest/nfs_exports.ts";
import { removeInsertedKey } from "../../guest/key_files.ts";
import { removeKnownHosts } from "../../guest/known_hosts.ts";
import type { ControllerContext } from "../context.ts";
import { guestWorkPending, reconcileGuest } from "../guest.ts";
import type { GuestStatus } from "../../api/guest_status.ts";
import type { DomainFailure } from "./power_actions.ts";
import { type ConditionInput, getCondition } from "../../api/conditions.ts";
import { forwardedPortText } from "../../api/forwarded_port.ts";
import { forwarderConfig } from "../../guest/forwarder/forwarder_config.ts";
import { ForwarderStartError, SELF_PROCESSES } from "../../guest/forwarder/forwarder_processes.ts";
import { ensureForwarder, readRecord, stopForwarder } from "../../guest/forwarder/forwarder_supervisor.ts";

/** Whether lv talks to a guest OS (SSH) at all: not with communicator none. */
export function talksToGuest(dom: Domain): boolean {
  return dom.spec.communicator !== "none";
}

/** What the guest part did and found; the status fields are the ones to keep when it did nothing. */
export interface GuestOutcome {
  guest?: GuestStatus;
  sshHostKey?: string;
  sshKey?: string;
  /** A step failed for this generation and request: reported until they change. */
  failure?: DomainFailure;
  /** The guest is not ready yet (booting, no address): look again. */
  notReady?: DomainFailure;
  requeueAfterMs?: number;
}

/** What the guest part recorded before, kept as it is when it is not asked this pass. */
export function keptGuest(dom: Domain): GuestOutcome {
  return {
    guest: dom.status.guest as GuestStatus | undefined,
    sshHostKey: dom.status.sshHostKey,
    sshKey: dom.status.sshKey,
  };
}

/** The guest's work for this boot of a running Domain, when any is pending. */
export async function handOffToGuest(
  ctx: ControllerContext,
  dom: Domain,
  seen: { nics: DomainXmlInterface[]; networks: Map<string, Network>; interfaces: DomainInterfaceStatus[] },
): Promise<GuestOutcome> {
  const lv = ctx.libvirtFor(dom);
  const kept = keptGuest(dom);
  const domId = await lv.domId(dom.metadata.name);
  if (!domId || !guestWorkPending(dom, domId)) {
    return kept.guest?.failure ? { ...kept, failure: kept.guest.failure } : kept;
  }
  const result = await reconcileGuest({ ctx, dom, lv, ...seen, domId, jump: ctx.jumpFor?.(dom) });
  const outcome: GuestOutcome = {
    guest: result.guest,
    sshHostKey: result.sshHostKey ?? kept.sshHostKey,
    sshKey: result.sshKey ?? kept.sshKey,
  };
  const said = { reason: result.reason, message: result.message };
  if (result.failed) return { ...outcome, failure: said };
  if (!result.ready) return { ...outcome, notReady: said, requeueAfterMs: result.requeueAfterMs };
  return outcome;
}

/** What a deleted Domain leaves on this side: its NFS exports, the key lv inserted, its pinned host key. */
export async function forgetGuest(ctx: ControllerContext, dom: Domain): Promise<void> {
  if (await stopForwarder(ctx.home, dom.metadata.uid, ctx.forwarders ?? SELF_PROCESSES)) {
    await ctx.event(dom, "Normal", "ForwarderStopped", "port forwarder stopped");
  }
  if (dom.spec.syncedFolders.some((f) => f.type === "nfs")) await syncExports(dom.metadata.uid, []);
  await removeInsertedKey(ctx.home, dom).catch(() => {});
  await removeKnownHosts(ctx.home, dom).catch(() => {});
}

/**
 * The Domain's port forwarder (spec.forwardedPorts) brought to its spec: running while the Domain should run
 * and lv knows how to reach its guest (the one started before a reboot keeps running and reconnects), stopped
 * otherwise. Returns the PortsForwarded condition, or undefined when the Domain forwards nothing.
 */
export async function syncForwarder(
  ctx: ControllerContext,
  dom: Domain,
  guest: GuestOutcome,
): Promise<ConditionInput | undefined> {
  const processes = ctx.forwarders ?? SELF_PROCESSES;
  const ports = dom.spec.forwardedPorts ?? [];
  const uid = dom.metadata.uid;
  if (ports.length === 0 || dom.spec.state !== "Running" || !talksToGuest(dom)) {
    if (await stopForwarder(ctx.home, uid, processes)) {
      await ctx.event(dom, "Normal", "ForwarderStopped", "port forwarder stopped");
    }
    return ports.length === 0 ? undefined : {
      type: "PortsForwarded",
      status: "False",
      reason: "Stopped",
      message: `not forwarded while the domain is ${dom.spec.state.toLowerCase()}`,
    };
  }
  const seen = {
    ...dom,
    status: { ...dom.status, guest: guest.guest, sshHostKey: guest.sshHostKey },
  } as Domain;
  const config = await forwarderConfig(seen, { home: ctx.home, store: ctx.store, jump: ctx.jumpFor?.(dom) });
  const text = ports.map(forwardedPortText).join(", ");
  if (!config) {
    const record = readRecord(ctx.home, uid);
    if (record && processes.alive(record.pid, uid)) return forwarding(text, record.pid);
    return {
      type: "PortsForwarded",
      status: "False",
      reason: "WaitingForGuest",
      message: "the guest has not answered SSH yet",
    };
  }
  try {
    const outcome = await ensureForwarder(ctx.home, { uid, config }, processes);
    if (outcome.action === "revived") {
      await ctx.event(
        dom,
        "Warning",
        "ForwarderRestarted",
        `port forwarder pid ${outcome.deadPid} was gone (killed?): started again as pid ${outcome.pid}`,
      );
    } else if (outcome.action === "started" || outcome.action === "restarted") {
      await ctx.event(dom, "Normal", "ForwarderStarted", `forwarding ${text} (pid ${outcome.pid})`);
    }
    return "pid" in outcome ? forwarding(text, outcome.pid) : undefined;
  } catch (e) {
    const reason = e instanceof ForwarderStartError ? e.reason : "ForwarderFailed";
    const message = (e as Error).message;
    if (getCondition(dom.status, "PortsForwarded")?.message !== message) {
      await ctx.event(dom, "Warning", reason, message);
    }
    return { type: "PortsForwarded", status: "False", reason, message };
  }
}

function forwarding(text: string, pid: number): ConditionInput {
  return { type: "PortsForwarded", status: "True", reason: "Forwarding", message: `${text} (pid ${pid})` };
}
