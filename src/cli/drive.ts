/**
 * Running the controllers for a command: the reconcilers, the manager lease, the controller context the CLI
 * gives them. Loaded only by commands that converge (apply, delete, wait, the verbs, controller).
 */
import { hostname } from "node:os";
import type { AnyResource } from "../api/types.ts";
import type { ControllerContext } from "../controller/context.ts";
import { Manager, type ManagerOptions } from "../controller/manager.ts";
import { boxReconciler } from "../controller/box_reconciler.ts";
import { domainReconciler } from "../controller/domain_reconciler.ts";
import { networkReconciler } from "../controller/network_reconciler.ts";
import { volumeReconciler } from "../controller/volume_reconciler.ts";
import { refString } from "../store/store.ts";
import { EtcdError } from "../store/etcd_client.ts";
import { controllerLease, LeaseKeeper } from "../controller/lease_keeper.ts";
import type { Runtime } from "./runtime.ts";

export const RECONCILERS = [boxReconciler, volumeReconciler, networkReconciler, domainReconciler];
/** How long a controller lease outlives its holder's last renewal. */
export const LEASE_TTL_MS = 15_000;

export function controllerContext(rt: Runtime, options: { quiet?: boolean } = {}): ControllerContext {
  const partial = new Map<string, string>();
  return {
    progress: (obj, text, prefix) => {
      const key = refString(obj);
      const lines = ((partial.get(key) ?? "") + text).split("\n");
      partial.set(key, lines.pop()!);
      for (const line of lines) rt.output.err(`${prefix}${line}\n`);
    },
    store: rt.store,
    home: rt.home,
    libvirtFor: (obj) => rt.libvirtFor(obj),
    jumpFor: (obj) => rt.jumpFor(obj),
    transfer: rt.output.transfer && ((obj, p) => rt.output.transfer!(refString(obj), p)),
    now: () => new Date(),
    event: async (obj: AnyResource, type, reason, message) => {
      await rt.store.recordEvent(obj, { type, reason, message });
      if (!options.quiet) rt.output.err(`${refString(obj)}: ${reason}: ${message}\n`);
    },
  };
}

/**
 * Whether a lease holder ("host:pid") is a process of this host that no longer exists (an lv killed with
 * SIGKILL): its lease need not be waited out.
 */
export function deadHolder(holder: string): boolean {
  const [host, pid] = holder.split(":");
  if (host !== hostname() || !/^\d+$/.test(pid ?? "")) return false;
  try {
    Deno.statSync(`/proc/${pid}`);
    return false;
  } catch {
    return true;
  }
}

/** A lease name for messages: "context hv1", or "objects without a context". */
export function leaseLabel(name: string): string {
  return name === controllerLease(undefined) ? "objects without a context" : `context ${name.slice(11)}`;
}

export interface ContextControllersOptions {
  manager?: ManagerOptions;
  ttlMs?: number;
  /** Do not print events as they happen (apply prints its own progress). */
  quiet?: boolean;
  waiting?: (name: string, holder: string) => void;
  gained?: (name: string) => void;
}

/**
 * The controllers of `contexts` (undefined: objects without a context), one Manager per context, each
 * running while this process holds that context's lease.
 */
export function contextControllers(
  rt: Runtime,
  contexts: (string | undefined)[],
  options: ContextControllersOptions = {},
): LeaseKeeper {
  const byLease = new Map(contexts.map((c) => [controllerLease(c), c]));
  const managers = new Map<string, Manager>();
  return new LeaseKeeper([...byLease.keys()], {
    store: rt.store,
    holder: rt.holder,
    ttlMs: options.ttlMs ?? LEASE_TTL_MS,
    dead: deadHolder,
    waiting: options.waiting,
    gained: async (name) => {
      const context = byLease.get(name);
      const manager = new Manager(controllerContext(rt, { quiet: options.quiet }), RECONCILERS, {
        ...options.manager,
        only: (obj) => rt.contextOf(obj) === context,
      });
      managers.set(name, manager);
      options.gained?.(name);
      await manager.start();
    },
    lost: async (name) => {
      await managers.get(name)?.stop();
      managers.delete(name);
    },
  });
}

/** Every context this process can drive: the config file's, and objects without a context. */
export function drivableContexts(rt: Runtime): (string | undefined)[] {
  return [...rt.contexts, undefined];
}

/**
 * Runs the controllers in this process while `until` is false, for each context whose lease no
 * `lv controller` (or other lv process) holds; for the others it only watches, waiting on their holder.
 * Returns whether `until` became true before the deadline. Checks every pollMs.
 */
export async function driveUntil(
  rt: Runtime,
  until: () => Promise<boolean>,
  options: { timeoutMs: number; pollMs?: number; manager?: ManagerOptions; onTick?: () => Promise<void> },
): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs;
  const keeper = contextControllers(rt, drivableContexts(rt), {
    manager: options.manager,
    quiet: true,
    waiting: (name, other) =>
      rt.output.err(
        `lv: the controllers of ${leaseLabel(name)} run in another lv process (${other}); waiting for them\n`,
      ),
  });
  let renewedAt = 0;
  let outage: string | undefined;
  try {
    while (true) {
      try {
        if (await until()) return true;
        await options.onTick?.();
        if (Date.now() - renewedAt > LEASE_TTL_MS / 3) {
          renewedAt = Date.now();
          await keeper.tick();
        }
        if (outage) rt.output.err(`lv: the store answers again; going on\n`);
        outage = undefined;
      } catch (e) {
        // etcd without quorum, or no member answering: wait for it to come back until the deadline.
        if (!(e instanceof EtcdError)) throw e;
        if (!outage) rt.output.err(`lv: the store does not answer (${e.message}); waiting for it\n`);
        outage = e.message;
      }
      if (Date.now() >= deadline) return false;
      await new Promise((r) =>
        setTimeout(r, Math.min(options.pollMs ?? 200, Math.max(0, deadline - Date.now())))
      );
    }
  } finally {
    await keeper.release();
  }
}
