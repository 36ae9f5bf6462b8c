/** Domain: one libvirt domain with its disks and interfaces, in the state the spec asks for. */
import { getCondition, isTrue, removeCondition, setCondition } from "../api/conditions.ts";
import { assignDiskDevices, BOX_DISK_DEVICE } from "../api/defaults.ts";
import { boxOverlayName, boxVolumeName } from "../api/references.ts";
import type {
  AnyResource,
  Domain,
  DomainDriver,
  DomainInterfaceStatus,
  Network,
  ObjectMeta,
  Volume,
} from "../api/types.ts";
import type { Libvirt } from "../libvirt/libvirt.ts";
import {
  domainDiff,
  domainStateFromSpec,
  domainXml,
  type DomainXmlDisk,
  type DomainXmlInterface,
  type DomainXmlOptions,
  parseDomainXml,
} from "../libvirt/xml/domain_xml.ts";
import {
  type ControllerContext,
  nameConflict,
  type Reconciler,
  TerminalError,
  WaitingError,
} from "./context.ts";
import { ensureFinalizer, removeFinalizer, writeStatus } from "./object_ops.ts";
import { boxDisks } from "./box_reconciler.ts";
import { domainInterfaces } from "./domain_interfaces.ts";
import { syncExports } from "../guest/nfs_exports.ts";
import { join } from "node:path";
import { type GuestStatus, guestWorkPending, reconcileGuest, RELOAD_ANNOTATION } from "./guest.ts";

/** Seconds a guest gets to shut down on ACPI before it is powered off (vagrant's graceful_halt_timeout). */
export const GRACEFUL_HALT_SECONDS = 60;

const kvmOffered = new WeakMap<Libvirt, Promise<boolean>>();

/** Metadata of an object lv creates itself (the store fills uid, generation, versions and timestamps). */
function newMeta(
  name: string,
  namespace: string,
  labels: Record<string, string>,
  ownerReferences: ObjectMeta["ownerReferences"],
): ObjectMeta {
  return {
    name,
    namespace,
    labels,
    annotations: {},
    uid: "",
    generation: 0,
    resourceVersion: "",
    creationTimestamp: "",
    finalizers: [],
    ownerReferences,
  };
}

/** The domain type: the spec's, else kvm where the host offers it, else qemu (TCG). */
export async function resolveDriver(lv: Libvirt, dom: Domain): Promise<DomainDriver> {
  if (dom.spec.driver) return dom.spec.driver;
  if (!kvmOffered.has(lv)) {
    kvmOffered.set(
      lv,
      lv.domainCapabilities("kvm").then((caps) => caps !== undefined),
    );
  }
  return await kvmOffered.get(lv)! ? "kvm" : "qemu";
}

async function ensureBoxVolume(ctx: ControllerContext, dom: Domain): Promise<void> {
  if (!dom.spec.box) return;
  const key = {
    kind: "Volume" as const,
    namespace: dom.metadata.namespace,
    name: boxVolumeName(dom.metadata.name),
  };
  const existing = await ctx.store.get(key);
  if (existing) {
    if (!existing.metadata.ownerReferences.some((o) => o.uid === dom.metadata.uid)) {
      throw new TerminalError(
        "NameConflict",
        `volume/${key.name} exists and is not owned by this domain; the box: shortcut names its overlay after the domain`,
      );
    }
    return;
  }
  const volume: Volume = {
    apiVersion: dom.apiVersion,
    kind: "Volume",
    metadata: newMeta(key.name, key.namespace, { "lv.dev/domain": dom.metadata.name }, [
      { kind: "Domain", name: dom.metadata.name, uid: dom.metadata.uid, controller: true },
    ]),
    spec: {
      ...(dom.spec.context === undefined ? {} : { context: dom.spec.context }),
      pool: dom.spec.storagePoolName,
      format: "qcow2",
      backingBox: dom.spec.box,
      size: dom.spec.machineVirtualSize,
    },
    status: {},
  };
  await ctx.store.create(volume);
  await ctx.event(
    dom,
    "Normal",
    "VolumeCreated",
    `volume/${key.name} created as a copy-on-write overlay on box/${dom.spec.box}`,
  );
}

/**
 * A box with several disks (Vagrant box v2 `disks[]`): one more owned overlay per disk after the first,
 * each on its own disk of the box (backingBoxDisk), made like the first one. The number of disks is known
 * once the Box is uploaded; overlays made before stay while the Box is uploaded again. Returns their names
 * in disk order.
 */
async function ensureBoxDiskVolumes(ctx: ControllerContext, dom: Domain): Promise<string[]> {
  if (!dom.spec.box) return [];
  const namespace = dom.metadata.namespace;
  const first = await ctx.store.get({ kind: "Volume", namespace, name: boxVolumeName(dom.metadata.name) });
  if (!first || first.kind !== "Volume") return [];
  const box = await ctx.store.get({ kind: "Box", namespace, name: dom.spec.box });
  const count = box?.kind === "Box" ? boxDisks(box).length : 0;
  const names: string[] = [];
  for (let n = 2;; n++) {
    const name = boxOverlayName(dom.metadata.name, n);
    const existing = await ctx.store.get({ kind: "Volume", namespace, name });
    const owned = existing?.metadata.ownerReferences.some((o) => o.uid === dom.metadata.uid);
    if (n > count && !owned) break;
    names.push(name);
    if (existing) {
      if (!owned) {
        throw new TerminalError(
          "NameConflict",
          `volume/${name} exists and is not owned by this domain; the box: shortcut names the overlay of box disk ${n} so`,
        );
      }
      continue;
    }
    const volume: Volume = {
      apiVersion: first.apiVersion,
      kind: "Volume",
      metadata: newMeta(
        name,
        namespace,
        { ...first.metadata.labels, "lv.dev/box-disk": String(n) },
        structuredClone(first.metadata.ownerReferences),
      ),
      // As the first overlay (pool, context, format), on disk n; machineVirtualSize is the first disk's.
      spec: { ...structuredClone(first.spec), backingBoxDisk: n, size: undefined },
      status: {},
    };
    delete volume.spec.size;
    await ctx.store.create(volume);
    await ctx.event(
      dom,
      "Normal",
      "VolumeCreated",
      `volume/${name} created as a copy-on-write overlay on disk ${n} of box/${dom.spec.box}`,
    );
  }
  return names;
}

async function resolveDisks(
  ctx: ControllerContext,
  dom: Domain,
  boxDiskVolumes: string[],
): Promise<DomainXmlDisk[]> {
  // Validation names every disk's device; objects written another way get the same names here.
  const own = assignDiskDevices(dom.spec.disks, { taken: dom.spec.box ? [BOX_DISK_DEVICE] : [] });
  // A box's further disks come after the domain's own (whose names validation fixed without knowing them).
  const boxRest = assignDiskDevices(
    boxDiskVolumes.map((volume) => ({
      volume,
      bus: "virtio" as const,
      device: undefined as string | undefined,
    })),
    { taken: [BOX_DISK_DEVICE, ...own.map((d) => d.device!)] },
  );
  const wanted = [
    ...(dom.spec.box
      ? [{ volume: boxVolumeName(dom.metadata.name), bus: "virtio" as const, device: BOX_DISK_DEVICE }]
      : []),
    ...own,
    ...boxRest,
  ];
  const disks: DomainXmlDisk[] = [];
  for (const disk of wanted) {
    const vol = await ctx.store.get({
      kind: "Volume",
      namespace: dom.metadata.namespace,
      name: disk.volume,
    }) as
      | Volume
      | undefined;
    if (!vol || !isTrue(vol.status, "Ready") || !vol.status.path) {
      throw new WaitingError("WaitingForVolume", `waiting for volume/${disk.volume} to be created`, 1000);
    }
    disks.push({
      path: vol.status.path,
      format: vol.spec.format,
      device: disk.device!,
      bus: disk.bus,
      cache: ("cache" in disk && disk.cache) || dom.spec.volumeCache,
    });
  }
  return disks;
}

async function checkNetworks(ctx: ControllerContext, dom: Domain): Promise<Map<string, Network>> {
  const networks = new Map<string, Network>();
  const nics = domainInterfaces(dom);
  for (const [i, nic] of dom.spec.interfaces.entries()) {
    if (!nic.network) continue;
    const net = await ctx.store.get({
      kind: "Network",
      namespace: dom.metadata.namespace,
      name: nic.network,
    }) as
      | Network
      | undefined;
    if (!net || !isTrue(net.status, "Ready")) {
      throw new WaitingError("WaitingForNetwork", `waiting for network/${nic.network} to be active`, 1000);
    }
    if (nic.ip && net.spec.dhcp.enabled && !net.status.reservations?.includes(`${nics[i].mac}=${nic.ip}`)) {
      throw new WaitingError(
        "WaitingForNetwork",
        `waiting for network/${nic.network} to reserve ${nic.ip} for ${nics[i].mac}`,
        1000,
      );
    }
    networks.set(nic.network, net);
  }
  return networks;
}

/**
 * Pause reasons a guest cannot leave by itself: reported, never resumed. A KVM that cannot run the guest
 * pauses it with reason "unknown" (QEMU's status says internal-error), so an unexplained pause counts too;
 * a user's pause ("user") is resumed when the spec says Running.
 */
const BROKEN_PAUSE =
  /internal error|crashed|io error|panicked|watchdog|shutting down|postcopy failed|unknown/i;

export const domainReconciler: Reconciler = {
  kind: "Domain",
  async reconcile(obj: AnyResource, ctx: ControllerContext) {
    const dom = obj as Domain;
    const lv = ctx.libvirtFor(dom);
    const name = dom.metadata.name;
    const existingXml = await lv.domGet(name);
    const existing = existingXml ? parseDomainXml(existingXml) : undefined;
    const ours = existing?.owner?.uid === dom.metadata.uid;

    if (dom.metadata.deletionTimestamp) {
      if (existing && ours) {
        await lv.domDestroy(name);
        await lv.domUndefine(name);
        await ctx.event(dom, "Normal", "Deleted", `domain "${name}" powered off and undefined`);
      }
      if (dom.spec.syncedFolders.some((f) => f.type === "nfs")) await syncExports(dom.metadata.uid, []);
      for (const dir of ["keys", "known_hosts"]) {
        await Deno.remove(join(ctx.home, dir, dom.metadata.uid)).catch(() => {});
      }
      await removeFinalizer(ctx.store, dom);
      return;
    }
    await ensureFinalizer(ctx.store, dom);
    if (existing && !ours) {
      throw nameConflict("domain", name, existing?.owner);
    }

    await ensureBoxVolume(ctx, dom);
    const disks = await resolveDisks(ctx, dom, await ensureBoxDiskVolumes(ctx, dom));
    const networks = await checkNetworks(ctx, dom);
    const options: DomainXmlOptions = {
      driver: await resolveDriver(lv, dom),
      disks,
      interfaces: domainInterfaces(dom),
      uuid: existing?.uuid,
    };
    const want = domainStateFromSpec(dom, options);
    let changed: string[] = [];
    if (!existing) {
      await lv.domDefine(domainXml(dom, options));
      await ctx.event(
        dom,
        "Normal",
        "Defined",
        `domain "${name}" defined (${options.driver}, ${dom.spec.cpus} cpu, ${dom.spec.memory} MiB)`,
      );
    } else {
      changed = domainDiff(want, existing);
      if (changed.length > 0) {
        await lv.domDefine(domainXml(dom, options));
        await ctx.event(
          dom,
          "Normal",
          "Updated",
          `domain "${name}" redefined: ${changed.join(", ")} changed`,
        );
      }
    }

    let { state, reason } = await lv.domState(name);
    let requeueAfterMs: number | undefined;
    let shutdownRequestedAt = dom.status.shutdownRequestedAt as string | undefined;
    let failure: { reason: string; message: string } | undefined;
    const desired = dom.spec.state;
    // lv reload: a full stop and start (so next-boot changes apply), then the boot's guest work again.
    const reloadRequest = dom.metadata.annotations[RELOAD_ANNOTATION];
    let restartRequest = dom.status.restartRequest as string | undefined;
    const reloading = !!reloadRequest && reloadRequest !== restartRequest && desired !== "Stopped";
    if (reloading && state === "shut off") restartRequest = reloadRequest;
    const target = reloading && state !== "shut off" ? "Stopped" : desired;
    if (target === "Running" || target === "Paused") {
      if (state === "shut off" || state === "crashed") {
        await lv.domStart(name, { paused: target === "Paused" });
        await ctx.event(
          dom,
          "Normal",
          "Started",
          `domain "${name}" started${target === "Paused" ? " paused" : ""}`,
        );
        ({ state, reason } = await lv.domState(name));
        requeueAfterMs = 2000; // look again shortly: a guest that cannot run pauses or dies right after start
        if (state === "shut off" || state === "crashed") {
          failure = {
            reason: "GuestDied",
            message: `domain "${name}" stopped right after start (${state}, ${reason})${await qemuLogTail(
              lv,
              name,
            )}`,
          };
        }
      } else if (state === "paused" && BROKEN_PAUSE.test(reason)) {
        const qemu = await lv.qemuStatus(name);
        failure = {
          reason: "GuestPaused",
          message: `domain "${name}" paused by itself (${reason}${qemu ? `; QEMU status ${qemu}` : ""})${
            options.driver === "kvm"
              ? `: this host's KVM cannot run the guest; set spec.driver: qemu to use TCG emulation`
              : ""
          }. lv will not resume it; change the spec or restart it (lv reload ${name}).${await qemuLogTail(
            lv,
            name,
          )}`,
        };
      } else if (state === "paused" && target === "Running") {
        await lv.domResume(name);
        await ctx.event(dom, "Normal", "Resumed", `domain "${name}" resumed`);
        ({ state, reason } = await lv.domState(name));
      } else if (state === "running" && target === "Paused") {
        await lv.domSuspend(name);
        await ctx.event(dom, "Normal", "Suspended", `domain "${name}" suspended`);
        ({ state, reason } = await lv.domState(name));
      }
      shutdownRequestedAt = undefined;
    } else if (state !== "shut off") {
      // Stopped: ACPI first, power off after the grace period (at once when no guest OS can listen).
      const since = shutdownRequestedAt ? ctx.now().getTime() - Date.parse(shutdownRequestedAt) : 0;
      const graceMs = (dom.spec.gracefulHaltTimeout ?? GRACEFUL_HALT_SECONDS) * 1000;
      if (!talksToGuest(dom) || state === "paused" || since > graceMs) {
        await lv.domDestroy(name);
        await ctx.event(
          dom,
          "Normal",
          "PoweredOff",
          `domain "${name}" powered off${since ? " after the grace period" : ""}`,
        );
        shutdownRequestedAt = undefined;
        ({ state, reason } = await lv.domState(name));
        if (reloading) requeueAfterMs = 100;
      } else {
        if (!shutdownRequestedAt) {
          await lv.domShutdown(name);
          await ctx.event(dom, "Normal", "ShuttingDown", `domain "${name}" asked to shut down (ACPI)`);
          shutdownRequestedAt = ctx.now().toISOString();
        }
        requeueAfterMs = 1000;
      }
    }

    const interfaces = await observeInterfaces(lv, dom, options.interfaces, state);
    const phase = state === "running"
      ? "Running"
      : state === "paused"
      ? "Paused"
      : state === "shut off"
      ? "Stopped"
      : state;
    const matches = phase === desired && !reloading;
    const running = state === "running" || state === "paused";

    let guest = dom.status.guest as GuestStatus | undefined;
    let sshHostKey = dom.status.sshHostKey as string | undefined;
    let sshKey = dom.status.sshKey as string | undefined;
    let notReady: { reason: string; message: string } | undefined;
    if (matches && state === "running" && !failure && talksToGuest(dom)) {
      const domId = await lv.domId(name);
      if (domId && guestWorkPending(dom, domId)) {
        const result = await reconcileGuest({
          ctx,
          dom,
          lv,
          nics: options.interfaces,
          networks,
          interfaces,
          domId,
          jump: ctx.jumpFor?.(dom),
        });
        guest = result.guest;
        sshHostKey = result.sshHostKey ?? sshHostKey;
        sshKey = result.sshKey ?? sshKey;
        if (result.failed) failure = { reason: result.reason, message: result.message };
        else if (!result.ready) {
          notReady = { reason: result.reason, message: result.message };
          requeueAfterMs = result.requeueAfterMs;
        }
      } else if (guest?.failure) failure = guest.failure;
    }

    const pendingRestart = running && changed.length > 0
      ? changed
      : running && getCondition(dom.status, "RestartRequired")?.status === "True"
      ? domainDiff(want, parseDomainXml(await lv.domLiveXml(name)))
      : [];
    const failedBefore = getCondition(dom.status, "Ready")?.reason === failure?.reason;
    await writeStatus(ctx.store, dom, (status) => {
      status.observedGeneration = dom.metadata.generation;
      status.driver = options.driver;
      status.state = state;
      status.stateReason = reason;
      status.interfaces = interfaces;
      status.ip = interfaces.flatMap((i) => i.ips.map((a) => a.address))[0];
      if (shutdownRequestedAt) status.shutdownRequestedAt = shutdownRequestedAt;
      else delete status.shutdownRequestedAt;
      if (restartRequest) status.restartRequest = restartRequest;
      if (guest) status.guest = guest;
      if (sshHostKey) status.sshHostKey = sshHostKey;
      if (sshKey) status.sshKey = sshKey;
      status.phase = failure ? "Failed" : phase;
      if (pendingRestart.length > 0) {
        setCondition(status, {
          type: "RestartRequired",
          status: "True",
          reason: "ConfigChanged",
          message: `${pendingRestart.join(", ")} take effect at the next boot (lv reload ${name})`,
        }, ctx.now());
      } else removeCondition(status, "RestartRequired");
      setCondition(
        status,
        failure
          ? { type: "Ready", status: "False", ...failure }
          : notReady
          ? { type: "Ready", status: "False", ...notReady }
          : matches
          ? { type: "Ready", status: "True", reason: phase, message: "" }
          : {
            type: "Ready",
            status: "False",
            reason: reloading ? "Reloading" : "Converging",
            message: `${state} (${reason}), want ${reloading ? "a restart" : desired}`,
          },
        ctx.now(),
      );
    });
    if (failure) {
      if (!failedBefore) await ctx.event(dom, "Warning", failure.reason, failure.message);
      return;
    }
    if (!matches || notReady) requeueAfterMs ??= 2000;
    return requeueAfterMs ? { requeueAfterMs } : undefined;
  },
};

/** The end of QEMU's log for a domain on a local libvirt, to say why it died; "" when it cannot be read. */
async function qemuLogTail(lv: Libvirt, name: string): Promise<string> {
  if (!/^qemu:\/\/\/system/.test(lv.uri)) return "";
  try {
    const text = await Deno.readTextFile(`/var/log/libvirt/qemu/${name}.log`);
    const lines = text.trimEnd().split("\n").slice(-3).join("\n");
    return lines ? `; QEMU's log ends:\n${lines}` : "";
  } catch {
    return "";
  }
}

/** Whether lv talks to a guest OS (SSH) at all: not with communicator none. */
export function talksToGuest(dom: Domain): boolean {
  return dom.spec.communicator !== "none";
}

async function observeInterfaces(
  lv: Libvirt,
  dom: Domain,
  nics: DomainXmlInterface[],
  state: string,
): Promise<DomainInterfaceStatus[]> {
  const leases = new Map<string, string>();
  if (state === "running") {
    for (const network of new Set(nics.map((n) => n.network).filter((n): n is string => !!n))) {
      for (const lease of await lv.netDhcpLeases(network)) leases.set(lease.mac, lease.ip);
    }
  }
  return nics.map((nic, i) => {
    const ips: DomainInterfaceStatus["ips"] = [];
    const leased = leases.get(nic.mac);
    if (leased) ips.push({ address: leased, source: "lease" });
    const fixed = dom.spec.interfaces[i]?.ip; // the management interface has no spec entry
    if (fixed && fixed !== leased) ips.push({ address: fixed, source: "static" });
    return { mac: nic.mac, network: nic.network, ips };
  });
}
