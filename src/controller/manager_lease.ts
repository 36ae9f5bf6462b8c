/**
 * One process at a time runs the controllers: the one holding the manager lease. A command that waits on
 * objects drives them itself while nobody else holds it, and only watches otherwise.
 */
import { hostname } from "node:os";
import { controllerContext, type ControllerHost } from "./controller_context.ts";
import { Manager, type ManagerOptions } from "./manager.ts";
import { RECONCILERS } from "./reconcilers.ts";

export const MANAGER_LEASE = "controller-manager";
/** How long a lease holds without renewal; holders renew every third of it. */
export const LEASE_TTL_MS = 15_000;

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
  host: ControllerHost,
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
        const other = manager ? undefined : await host.store.leaseHolder(MANAGER_LEASE);
        const held = await host.store.acquireLease(MANAGER_LEASE, host.holder, LEASE_TTL_MS, {
          takeFrom: other && deadHolder(other) ? other : undefined,
        });
        if (!held && other && other !== told) {
          told = other;
          host.output.err(`lv: the controllers run in another lv process (${other}); waiting for them\n`);
        }
        renewedAt = Date.now();
        if (held && !manager) {
          manager = new Manager(controllerContext(host, { quiet: true }), RECONCILERS, options.manager);
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
      await host.store.releaseLease(MANAGER_LEASE, host.holder);
    }
  }
}
