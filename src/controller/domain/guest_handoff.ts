/**
 * The Domain controller's one way into the guest part: the work inside a running guest (over SSH), and
 * what deleting a Domain leaves to clean up on this side (NFS exports, its keys). Only this file imports
 * the guest code, so moving that code behind an interface changes one import here.
 */
import { join } from "node:path";
import type { Domain, DomainInterfaceStatus, Network } from "../../api/types.ts";
import type { DomainXmlInterface } from "../../libvirt/xml/domain_xml.ts";
import { syncExports } from "../../guest/nfs_exports.ts";
import type { ControllerContext } from "../context.ts";
import { guestWorkPending, reconcileGuest } from "../guest.ts";
import type { GuestStatus } from "../../api/guest_status.ts";
import type { DomainFailure } from "./power_actions.ts";

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
  if (dom.spec.syncedFolders.some((f) => f.type === "nfs")) await syncExports(dom.metadata.uid, []);
  for (const dir of ["keys", "known_hosts"]) {
    await Deno.remove(join(ctx.home, dir, dom.metadata.uid)).catch(() => {});
  }
}
