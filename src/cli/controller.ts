/**
 * lv controller: run the controllers until SIGINT/SIGTERM, healing drift by re-inspecting libvirt. One lease
 * per context: a second controller for a context stands by and takes over when the holder stops renewing.
 */
import { within } from "../api/within.ts";
import { CommandFailed } from "./errors.ts";
import { contextControllers, LEASE_TTL_MS, leaseLabel } from "../controller/manager_lease.ts";
import type { Runtime } from "./runtime.ts";

export interface ControllerOptions {
  /** How often every object is reconciled again. */
  resyncMs: number;
  /** Workers reconciling at once. */
  workers: number;
  /** The contexts to drive (undefined: objects without a context); default every one (drivableContexts). */
  contexts?: (string | undefined)[];
  /** How long a lease outlives this process's last renewal. Default 15 s. */
  leaseTtlMs?: number;
  /** Resolves when the controller should stop (tests); default: SIGINT or SIGTERM. */
  stop?: Promise<void>;
}

export async function runController(rt: Runtime, options: ControllerOptions): Promise<void> {
  const unknown = (options.contexts ?? []).filter((c) => c !== undefined && !rt.contexts.includes(c));
  if (unknown.length > 0) {
    throw new CommandFailed(`no context named ${unknown.map((c) => `"${c}"`).join(", ")} in the config file`);
  }
  const contexts = options.contexts ?? [...rt.contexts, undefined];
  const ttlMs = options.leaseTtlMs ?? LEASE_TTL_MS;
  let stopSignal: () => void = () => {};
  const stopped = options.stop ?? new Promise<void>((resolve) => {
    stopSignal = resolve;
    Deno.addSignalListener("SIGINT", stopSignal);
    Deno.addSignalListener("SIGTERM", stopSignal);
  });
  let done = false;
  stopped.then(() => done = true);
  const keeper = contextControllers(rt, contexts, {
    manager: { resyncMs: options.resyncMs, workers: options.workers },
    ttlMs,
    waiting: (name, other) =>
      rt.output.err(`lv controller: ${leaseLabel(name)} is held by ${other}; standing by\n`),
    gained: (name) => rt.output.err(`lv controller: took the lease of ${leaseLabel(name)}\n`),
  });
  rt.output.err(
    `lv controller: running for ${contexts.map((c) => c ?? "objects without a context").join(", ")} ` +
      `(store ${rt.store.location}, resync every ${options.resyncMs / 1000}s, lease ${ttlMs / 1000}s)\n`,
  );
  try {
    while (!done) {
      await keeper.tick();
      await within(stopped, ttlMs / 3, undefined);
    }
  } finally {
    await keeper.release();
    if (!options.stop) {
      Deno.removeSignalListener("SIGINT", stopSignal);
      Deno.removeSignalListener("SIGTERM", stopSignal);
    }
  }
  rt.output.err("lv controller: stopped\n");
}
