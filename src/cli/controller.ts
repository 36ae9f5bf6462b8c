/** lv controller: run the controllers until SIGINT/SIGTERM, healing drift by re-inspecting libvirt. */
import { Manager } from "../controller/manager.ts";
import { CommandFailed } from "./errors.ts";
import { controllerContext } from "../controller/controller_context.ts";
import { LEASE_TTL_MS, MANAGER_LEASE } from "../controller/manager_lease.ts";
import { RECONCILERS } from "../controller/reconcilers.ts";
import type { Runtime } from "./runtime.ts";

export interface ControllerOptions {
  /** How often every object is reconciled again. */
  resyncMs: number;
  /** Workers reconciling at once. */
  workers: number;
  /** Resolves when the controller should stop (tests); default: SIGINT or SIGTERM. */
  stop?: Promise<void>;
}

export async function runController(rt: Runtime, options: ControllerOptions): Promise<void> {
  if (!await rt.store.acquireLease(MANAGER_LEASE, rt.holder, LEASE_TTL_MS)) {
    const holder = await rt.store.leaseHolder(MANAGER_LEASE);
    throw new CommandFailed(`another lv process (${holder}) is running the controllers; stop it first`);
  }
  let stopSignal: () => void = () => {};
  const stopped = options.stop ?? new Promise<void>((resolve) => {
    stopSignal = resolve;
    Deno.addSignalListener("SIGINT", stopSignal);
    Deno.addSignalListener("SIGTERM", stopSignal);
  });
  const manager = new Manager(controllerContext(rt), RECONCILERS, {
    resyncMs: options.resyncMs,
    workers: options.workers,
  });
  let lost = false;
  const renew = setInterval(async () => {
    if (!await rt.store.acquireLease(MANAGER_LEASE, rt.holder, LEASE_TTL_MS)) {
      lost = true;
      stopSignal();
    }
  }, LEASE_TTL_MS / 3);
  rt.output.err(
    `lv controller: running against ${rt.libvirt.uri} (resync every ${options.resyncMs / 1000}s)\n`,
  );
  await manager.start();
  await stopped;
  clearInterval(renew);
  await manager.stop();
  if (!options.stop) {
    Deno.removeSignalListener("SIGINT", stopSignal);
    Deno.removeSignalListener("SIGTERM", stopSignal);
  }
  await rt.store.releaseLease(MANAGER_LEASE, rt.holder);
  if (lost) throw new CommandFailed("lost the controller lease to another process");
  rt.output.err("lv controller: stopped\n");
}
