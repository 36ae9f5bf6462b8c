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
import type { Runtime } from "./runtime.ts";

export const RECONCILERS = [boxReconciler, volumeReconciler, networkReconciler, domainReconciler];
export const MANAGER_LEASE = "controller-manager";
const LEASE_TTL_MS = 15_000;

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
    boxServerUrl: rt.boxServerUrl,
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

/**
 * Runs the controllers in this process while `until` is false, when no `lv controller` (or other lv
 * process) holds the manager lease; otherwise only watches. Returns whether `until` became true before
 * the deadline. Checks every pollMs.
 */
export async function driveUntil(
  rt: Runtime,
  until: () => Promise<boolean>,
  options: { timeoutMs: number; pollMs?: number; manager?: ManagerOptions; onTick?: () => Promise<void> },
): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs;
  let manager: Manager | undefined;
  let renewedAt = 0;
  let told: string | undefined;
  try {
    while (true) {
      if (await until()) return true;
      await options.onTick?.();
      if (Date.now() >= deadline) return false;
      if (!manager || Date.now() - renewedAt > LEASE_TTL_MS / 3) {
        const other = manager ? undefined : await rt.store.leaseHolder(MANAGER_LEASE);
        const held = await rt.store.acquireLease(MANAGER_LEASE, rt.holder, LEASE_TTL_MS, {
          takeFrom: other && deadHolder(other) ? other : undefined,
        });
        if (!held && other && other !== told) {
          told = other;
          rt.output.err(`lv: the controllers run in another lv process (${other}); waiting for them\n`);
        }
        renewedAt = Date.now();
        if (held && !manager) {
          manager = new Manager(controllerContext(rt, { quiet: true }), RECONCILERS, options.manager);
          await manager.start();
        } else if (!held && manager) {
          await manager.stop();
          manager = undefined;
        }
      }
      await new Promise((r) =>
        setTimeout(r, Math.min(options.pollMs ?? 200, Math.max(0, deadline - Date.now())))
      );
    }
  } finally {
    if (manager) {
      await manager.stop();
      await rt.store.releaseLease(MANAGER_LEASE, rt.holder);
    }
  }
}
