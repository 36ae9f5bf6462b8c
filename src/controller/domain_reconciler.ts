/** Domain: one libvirt domain with its disks and interfaces, in the state the spec asks for. */
import { createHash } from "node:crypto";
import { getCondition, isTrue, removeCondition, setCondition } from "../api/conditions.ts";
import { boxVolumeName } from "../api/references.ts";
import type {
  AnyResource,
  Domain,
  DomainDriver,
  DomainInterfaceStatus,
  Network,
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
import { type ControllerContext, type Reconciler, TerminalError, WaitingError } from "./context.ts";
import { ensureFinalizer, removeFinalizer, writeStatus } from "./object_ops.ts";

/** Seconds a guest gets to shut down on ACPI before it is powered off (vagrant's graceful_halt_timeout). */
export const GRACEFUL_HALT_SECONDS = 60;

/** A stable MAC for an interface without one: derived from the domain's uid, so it never changes. */
export function generatedMac(uid: string, index: number): string {
  const h = createHash("sha256").update(`${uid}/${index}`).digest();
  return `52:54:00:${[h[0], h[1], h[2]].map((b) => b.toString(16).padStart(2, "0")).join(":")}`;
}

const kvmOffered = new WeakMap<Libvirt, Promise<boolean>>();

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

/** The interfaces as libvirt gets them, MACs filled in. */
export function domainInterfaces(dom: Domain): DomainXmlInterface[] {
  return dom.spec.interfaces.map((nic, i) => ({
    network: nic.network,
    dev: nic.dev,
    mode: nic.dev ? nic.mode ?? "bridge" : undefined,
    mac: (nic.mac ?? generatedMac(dom.metadata.uid, i)).toLowerCase(),
    model: nic.model,
  }));
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
    metadata: {
      name: key.name,
      namespace: key.namespace,
      labels: { "lv.dev/domain": dom.metadata.name },
      annotations: {},
      uid: "",
      generation: 0,
      resourceVersion: "",
      creationTimestamp: "",
      finalizers: [],
      ownerReferences: [{ kind: "Domain", name: dom.metadata.name, uid: dom.metadata.uid, controller: true }],
    },
    spec: {
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

async function resolveDisks(ctx: ControllerContext, dom: Domain): Promise<DomainXmlDisk[]> {
  const wanted = [
    ...(dom.spec.box
      ? [{ volume: boxVolumeName(dom.metadata.name), bus: "virtio" as const, device: undefined }]
      : []),
    ...dom.spec.disks,
  ];
  const disks: DomainXmlDisk[] = [];
  const used = new Set(wanted.map((d) => d.device).filter((d) => d));
  let next = 0;
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
    let device = disk.device;
    while (!device) {
      const candidate = `vd${String.fromCharCode(97 + next++)}`;
      if (!used.has(candidate)) device = candidate;
    }
    disks.push({
      path: vol.status.path,
      format: vol.spec.format,
      device,
      bus: disk.bus,
      cache: ("cache" in disk && disk.cache) || dom.spec.volumeCache,
    });
  }
  return disks;
}

async function checkNetworks(ctx: ControllerContext, dom: Domain): Promise<void> {
  for (const nic of dom.spec.interfaces) {
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
  }
}

/** libvirt states a guest cannot leave by itself: reported, not waited on. */
const BROKEN_PAUSE = /internal error|crashed|io error|panicked|watchdog|shutting down|postcopy failed/i;

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
      await removeFinalizer(ctx.store, dom);
      return;
    }
    await ensureFinalizer(ctx.store, dom);
    if (existing && !ours) {
      throw new TerminalError(
        "NameConflict",
        `libvirt already has a domain "${name}" that lv did not create${
          existing.owner
            ? ` (it belongs to ${existing.owner.kind.toLowerCase()}/${existing.owner.name} uid ${existing.owner.uid})`
            : ""
        }; lv will not modify or delete it. Rename this Domain or remove that domain by hand.`,
      );
    }

    await ensureBoxVolume(ctx, dom);
    const disks = await resolveDisks(ctx, dom);
    await checkNetworks(ctx, dom);
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
    let failure: TerminalError | undefined;
    const desired = dom.spec.state;
    if (desired === "Running" || desired === "Paused") {
      if (state === "shut off" || state === "crashed") {
        await lv.domStart(name, { paused: desired === "Paused" });
        await ctx.event(
          dom,
          "Normal",
          "Started",
          `domain "${name}" started${desired === "Paused" ? " paused" : ""}`,
        );
        ({ state, reason } = await lv.domState(name));
        requeueAfterMs = 2000; // look again shortly: a guest that cannot run pauses or dies right after start
      } else if (state === "paused" && BROKEN_PAUSE.test(reason)) {
        failure = new TerminalError(
          "GuestPaused",
          `domain "${name}" paused right after start (${reason})${
            options.driver === "kvm"
              ? `: this host's KVM cannot run the guest; set spec.driver: qemu to use TCG emulation`
              : ""
          }. lv will not resume it; change the spec or restart it (lv reload ${name}).`,
        );
      } else if (state === "paused" && desired === "Running") {
        await lv.domResume(name);
        await ctx.event(dom, "Normal", "Resumed", `domain "${name}" resumed`);
        ({ state, reason } = await lv.domState(name));
      } else if (state === "running" && desired === "Paused") {
        await lv.domSuspend(name);
        await ctx.event(dom, "Normal", "Suspended", `domain "${name}" suspended`);
        ({ state, reason } = await lv.domState(name));
      }
      shutdownRequestedAt = undefined;
    } else if (state !== "shut off") {
      // Stopped: ACPI first, power off after the grace period (or at once when there is no disk to boot an OS).
      const since = shutdownRequestedAt ? ctx.now().getTime() - Date.parse(shutdownRequestedAt) : 0;
      if (disks.length === 0 || state === "paused" || since > GRACEFUL_HALT_SECONDS * 1000) {
        await lv.domDestroy(name);
        await ctx.event(
          dom,
          "Normal",
          "PoweredOff",
          `domain "${name}" powered off${since ? " after the grace period" : ""}`,
        );
        shutdownRequestedAt = undefined;
        ({ state, reason } = await lv.domState(name));
      } else {
        if (!shutdownRequestedAt) {
          await lv.domShutdown(name);
          await ctx.event(dom, "Normal", "ShuttingDown", `domain "${name}" asked to shut down (ACPI)`);
          shutdownRequestedAt = ctx.now().toISOString();
        }
        requeueAfterMs = 2000;
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
    const matches = phase === desired;
    const running = state === "running" || state === "paused";
    const pendingRestart = running && changed.length > 0
      ? changed
      : running && getCondition(dom.status, "RestartRequired")?.status === "True"
      ? domainDiff(want, parseDomainXml(await lv.domLiveXml(name)))
      : [];
    await writeStatus(ctx.store, dom, (status) => {
      status.observedGeneration = dom.metadata.generation;
      status.driver = options.driver;
      status.state = state;
      status.stateReason = reason;
      status.interfaces = interfaces;
      status.ip = interfaces.flatMap((i) => i.ips.map((a) => a.address))[0];
      if (shutdownRequestedAt) status.shutdownRequestedAt = shutdownRequestedAt;
      else delete status.shutdownRequestedAt;
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
          ? { type: "Ready", status: "False", reason: failure.reason, message: failure.message }
          : matches
          ? { type: "Ready", status: "True", reason: phase, message: "" }
          : {
            type: "Ready",
            status: "False",
            reason: "Converging",
            message: `${state} (${reason}), want ${desired}`,
          },
        ctx.now(),
      );
    });
    if (failure) {
      await ctx.event(dom, "Warning", failure.reason, failure.message);
      return;
    }
    if (!matches) requeueAfterMs ??= 2000;
    return requeueAfterMs ? { requeueAfterMs } : undefined;
  },
};

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
    const fixed = dom.spec.interfaces[i].ip;
    if (fixed && fixed !== leased) ips.push({ address: fixed, source: "static" });
    return { mac: nic.mac, network: nic.network, ips };
  });
}
