/** The reconcilers lv runs, one per kind. */
import type { Reconciler } from "./context.ts";
import { boxReconciler } from "./box_reconciler.ts";
import { domainReconciler } from "./domain/reconciler.ts";
import { networkReconciler } from "./network_reconciler.ts";
import { volumeReconciler } from "./volume_reconciler.ts";

export const RECONCILERS: Reconciler[] = [
  boxReconciler,
  volumeReconciler,
  networkReconciler,
  domainReconciler,
];
