/**
 * One process at a time runs the controllers of a context: the one holding that context's lease in the
 * store. A command that waits on objects drives the contexts nobody else holds itself, and only watches
 * the others.
 */
import { hostname } from "node:os";
import type { AnyResource } from "../api/types.ts";
import { EtcdError } from "../store/etcd_client.ts";
import { controllerContext, type ControllerHost } from "./controller_context.ts";
import { controllerLease, LeaseKeeper } from "./lease_keeper.ts";
import { Manager, type ManagerOptions } from "./manager.ts";
import { RECONCILERS } from "./reconcilers.ts";

/** A process that can drive contexts: its config's contexts, and where each object lives. */
export interface ContextHost extends ControllerHost {
  /** The config file's context names. */
  contexts: string[];
  /** The named context an object lives in (spec.context); undefined: where a bare URI points. */
  contextOf(obj: AnyResource): string | undefined;
}

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

/** A lease name for messages: "context hv1", or "objects without a context". */
export function leaseLabel(name: string): string {
  return name === controllerLease(undefined) ? "objects without a context" : `context ${name.slice(11)}`;
}

/**
 * How long controllers told to stop (the command's wait ended, the lease was lost, SIGTERM) let the
 * reconciles still running finish before leaving them. Leaving one is what a kill of lv does, which every
 * controller step survives: the next lv command (or `lv controller`) takes the object up again.
 */
export const STOP_GRACE_MS = 30_000;

export interface ContextControllersOptions {
  /** Default {@linkcode STOP_GRACE_MS}. */
  stopGraceMs?: number;
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
  host: ContextHost,
  contexts: (string | undefined)[],
  options: ContextControllersOptions = {},
): LeaseKeeper {
  const byLease = new Map(contexts.map((c) => [controllerLease(c), c]));
  const managers = new Map<string, Manager>();
  return new LeaseKeeper([...byLease.keys()], {
    store: host.store,
    holder: host.holder,
    ttlMs: options.ttlMs ?? LEASE_TTL_MS,
    dead: deadHolder,
    waiting: options.waiting,
    gained: async (name) => {
      const context = byLease.get(name);
      const manager = new Manager(controllerContext(host, { quiet: options.quiet }), RECONCILERS, {
        ...options.manager,
        only: (obj) => host.contextOf(obj) === context,
      });
      managers.set(name, manager);
      options.gained?.(name);
      await manager.start();
    },
    lost: async (name) => {
      const manager = managers.get(name);
      managers.delete(name);
      const graceMs = options.stopGraceMs ?? STOP_GRACE_MS;
      if (manager && !await manager.stop(graceMs)) {
        host.output.err(
          `lv: ${manager.inFlight().join(", ")} still reconciling ${
            graceMs / 1000
          } s after its controllers were told to stop; left to the next lv command\n`,
        );
      }
    },
  });
}

/** Every context this process can drive: the config file's, and objects without a context. */
export function drivableContexts(host: ContextHost): (string | undefined)[] {
  return [...host.contexts, undefined];
}

/**
 * Runs the controllers in this process while `until` is false, for each context whose lease no
 * `lv controller` (or other lv process) holds; for the others it only watches, waiting on their holder.
 * A store that stops answering (etcd without quorum) is waited for until the deadline. Returns whether
 * `until` became true before the deadline. Checks every pollMs.
 */
export async function driveUntil(
  host: ContextHost,
  until: () => Promise<boolean>,
  options: {
    timeoutMs: number;
    pollMs?: number;
    manager?: ManagerOptions;
    onTick?: () => Promise<void>;
    /** Default {@linkcode STOP_GRACE_MS}. */
    stopGraceMs?: number;
  },
): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs;
  const pause = new CheckPause(options.pollMs ?? 200);
  const keeper = contextControllers(host, drivableContexts(host), {
    manager: { ...options.manager, onReconciled: () => pause.wake() },
    stopGraceMs: options.stopGraceMs,
    quiet: true,
    waiting: (name, other) =>
      host.output.err(
        `lv: the controllers of ${leaseLabel(name)} run in another lv process (${other}); waiting for them\n`,
      ),
  });
  let renewedAt = 0;
  let outage: string | undefined;
  try {
    while (true) {
      const checkStarted = performance.now();
      try {
        if (await until()) return true;
        await options.onTick?.();
        if (Date.now() - renewedAt > LEASE_TTL_MS / 3) {
          renewedAt = Date.now();
          await keeper.tick();
        }
        if (outage) host.output.err(`lv: the store answers again; going on\n`);
        outage = undefined;
      } catch (e) {
        if (!(e instanceof EtcdError)) throw e;
        if (!outage) host.output.err(`lv: the store does not answer (${e.message}); waiting for it\n`);
        outage = e.message;
      }
      if (Date.now() >= deadline) return false;
      await pause.sleep(Math.max(0, deadline - Date.now()), performance.now() - checkStarted);
    }
  } finally {
    await keeper.release();
  }
}

/**
 * The wait between two checks of driveUntil: pollMs, cut short when this process's controllers finish a
 * reconcile (what the command waits on may be done), but never to less than 10 times what the last check
 * took, so checking many objects stays a small share of the CPU.
 */
export class CheckPause {
  #wake?: () => void;
  constructor(readonly pollMs: number) {}

  sleep(maxMs: number, lastCheckMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const started = performance.now();
      const earliest = 10 * lastCheckMs;
      let due = Math.min(this.pollMs, maxMs);
      let timer = setTimeout(done, due);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        const at = Math.max(performance.now() - started, earliest);
        if (at >= due) return;
        clearTimeout(timer);
        due = at;
        timer = setTimeout(done, Math.max(0, at - (performance.now() - started)));
      };
    }).finally(() => this.#wake = undefined);
  }

  wake(): void {
    this.#wake?.();
  }
}
