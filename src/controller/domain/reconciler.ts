/**
 * Domain: one libvirt domain with its disks and interfaces, in the state the spec asks for. The parts:
 * owned_volumes (the box: overlays), attachments (disks and networks ready), definition (XML, diff,
 * define), power (a pure decision) and power_actions (carrying it out), the guest hand-off, and status
 * (a pure function of the pass's observations, written once at the end).
 */
import { getCondition } from "../../api/conditions.ts";
import { RELOAD_ANNOTATION } from "../../api/requests.ts";
import type { Domain, DomainDriver } from "../../api/types.ts";
import { parseDomainXml } from "../../libvirt/xml/domain_xml.ts";
import { type ControllerContext, nameConflict, type ReconcileResult } from "../context.ts";
import { domainInterfaces } from "../domain_interfaces.ts";
import { kindReconciler } from "../kind_reconciler.ts";
import { removeFinalizer, writeStatus } from "../object_ops.ts";
import { readyNetworks, resolveDisks } from "./attachments.ts";
import { ensureDefinition, pendingRestart, resolveDriver } from "./definition.ts";
import { forgetGuest, handOffToGuest, keptGuest, syncForwarder, talksToGuest } from "./guest_handoff.ts";
import { observeInterfaces } from "./interfaces.ts";
import { beforeStart, cleanupMachine, observeGraphics, prepareMachine } from "./machine.ts";
import { deleteSeed, dropOldSeed, ensureSeed } from "./cloud_init_seed.ts";
import { ensureOwnedVolumes } from "./owned_volumes.ts";
import { userNetPort } from "./user_net_port.ts";
import { decidePower, GRACEFUL_HALT_SECONDS } from "./power.ts";
import { applyPower } from "./power_actions.ts";
import { type DomainObservations, fillDomainStatus, stateMatches } from "./status.ts";

export const domainReconciler = kindReconciler<Domain>({
  kind: "Domain",
  async reconcileDelete(dom, ctx) {
    const lv = ctx.libvirtFor(dom);
    const name = dom.metadata.name;
    const xml = await lv.domGet(name);
    if (xml && parseDomainXml(xml).owner?.uid === dom.metadata.uid) {
      await lv.domDestroy(name);
      await lv.domUndefine(name);
      await ctx.event(dom, "Normal", "Deleted", `domain "${name}" powered off and undefined`);
      await cleanupMachine(ctx, lv, dom);
    }
    await deleteSeed(ctx, dom);
    await forgetGuest(ctx, dom);
    await removeFinalizer(ctx.store, dom);
  },
  reconcileNormal,
});

async function reconcileNormal(dom: Domain, ctx: ControllerContext): Promise<ReconcileResult | void> {
  const lv = ctx.libvirtFor(dom);
  const name = dom.metadata.name;
  // With the display password, so a new one in the same passwordFile redefines (compared as a digest).
  const xml = await lv.domGet(name, { securityInfo: true });
  const existing = xml ? parseDomainXml(xml) : undefined;
  if (existing && existing.owner?.uid !== dom.metadata.uid) {
    throw nameConflict("domain", name, existing.owner);
  }

  const boxDiskVolumes = await ensureOwnedVolumes(ctx, dom);
  const nics = domainInterfaces(dom, userNetPort(dom, lv.uri, existing));
  const disks = await resolveDisks(ctx, dom, boxDiskVolumes);
  const networks = await readyNetworks(ctx, dom, nics);
  const machine = await prepareMachine(ctx, dom, await resolveDriver(lv, dom));
  const taken = [...disks, ...(machine.cdroms ?? [])].map((d) => d.device);
  const seed = await ensureSeed(ctx, dom, { nics, networks, taken });
  if (seed) machine.cdroms = [...(machine.cdroms ?? []), seed.cdrom];
  const definition = await ensureDefinition(ctx, dom, { existing, disks, interfaces: nics, machine });
  await dropOldSeed(ctx, dom, seed);

  const { decision, observed, failure, shutdownRequestedAt } = await power(
    ctx,
    dom,
    definition.options.driver,
  );
  const interfaces = await observeInterfaces(lv, dom, nics, observed.state);
  const matches = stateMatches({ observed, desired: dom.spec.state, reloading: decision.reloading });
  const guest = matches && observed.state === "running" && !failure && talksToGuest(dom)
    ? await handOffToGuest(ctx, dom, { nics, networks, interfaces })
    : keptGuest(dom);

  const obs: DomainObservations = {
    name,
    generation: dom.metadata.generation,
    desired: dom.spec.state,
    driver: definition.options.driver,
    observed,
    interfaces,
    graphics: await observeGraphics(lv, dom, observed.state === "running" || observed.state === "paused"),
    reloading: decision.reloading,
    shutdownRequestedAt,
    reloadDone: decision.reloadDone ?? dom.status.restartRequest,
    guest: guest.guest,
    sshHostKey: guest.sshHostKey,
    sshKey: guest.sshKey,
    cloudInitSeed: seed ? { volume: seed.volume, instanceId: seed.instanceId } : undefined,
    failure: failure ?? guest.failure,
    notReady: guest.notReady,
    pendingRestart: await pendingRestart(
      ctx,
      dom,
      definition,
      ["running", "paused"].includes(observed.state),
    ),
    forwarding: await syncForwarder(ctx, dom, guest),
  };
  const failedBefore = getCondition(dom.status, "Ready")?.reason === obs.failure?.reason;
  await writeStatus(ctx.store, dom, (status) => fillDomainStatus(status, obs, ctx.now()));
  if (obs.failure) {
    if (!failedBefore) await ctx.event(dom, "Warning", obs.failure.reason, obs.failure.message);
    return;
  }
  let requeueAfterMs = guest.notReady ? guest.requeueAfterMs : decision.requeueAfterMs;
  if (!matches || guest.notReady) requeueAfterMs ??= 2000;
  return requeueAfterMs ? { requeueAfterMs } : undefined;
}

/** The power step: libvirt's state, the decision on it, the action done, and the ACPI request to record. */
async function power(ctx: ControllerContext, dom: Domain, driver: DomainDriver) {
  const asked = dom.status.shutdownRequestedAt;
  const before = await ctx.libvirtFor(dom).domState(dom.metadata.name);
  const decision = decidePower(
    before,
    {
      state: dom.spec.state,
      guestListens: talksToGuest(dom),
      graceMs: (dom.spec.gracefulHaltTimeout ?? GRACEFUL_HALT_SECONDS) * 1000,
    },
    { reload: dom.metadata.annotations[RELOAD_ANNOTATION], reloadDone: dom.status.restartRequest },
    asked ? ctx.now().getTime() - Date.parse(asked) : undefined,
  );
  if (decision.action.type === "start") beforeStart(ctx.libvirtFor(dom), dom);
  const outcome = await applyPower(ctx, dom, { action: decision.action, observed: before, driver });
  const shutdownRequestedAt = { keep: asked, clear: undefined, set: ctx.now().toISOString() }[
    decision.shutdownRequest
  ];
  return { decision, ...outcome, shutdownRequestedAt };
}
