/**
 * The reconcilers lv runs, one per kind. The Domain and Network reconcilers (the guest, cloud-init and
 * network code, with the YAML library) load when an object of their kind is first reconciled: an apply of
 * Boxes or Volumes alone (a box import) starts without them.
 */
import type { Kind } from "../api/types.ts";
import type { Reconciler } from "./context.ts";
import { boxReconciler } from "./box_reconciler.ts";
import { volumeReconciler } from "./volume_reconciler.ts";

/** A reconciler whose module is imported on its first reconcile. */
function loadedOnUse(kind: Kind, load: () => Promise<Reconciler>): Reconciler {
  let loaded: Promise<Reconciler> | undefined;
  return {
    kind,
    async reconcile(obj, ctx) {
      loaded ??= load();
      return await (await loaded).reconcile(obj, ctx);
    },
  };
}

export const RECONCILERS: Reconciler[] = [
  boxReconciler,
  volumeReconciler,
  loadedOnUse("Network", async () => (await import("./network_reconciler.ts")).networkReconciler),
  loadedOnUse("Domain", async () => (await import("./domain/reconciler.ts")).domainReconciler),
];
