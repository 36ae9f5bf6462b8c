/**
 * The shape every reconciler shares: an object being deleted goes to `reconcileDelete`; any other gets
 * lv's finalizer first (adding it ends the pass, the next one starts from the stored object) and then goes
 * to `reconcileNormal`.
 */
import type { AnyResource } from "../api/types.ts";
import type { ControllerContext, Reconciler, ReconcileResult } from "./context.ts";
import { ensureFinalizer } from "./object_ops.ts";

export interface KindReconcilerParts<T extends AnyResource> {
  kind: T["kind"];
  /** The object is being deleted: undo its libvirt side, then remove the finalizer. */
  reconcileDelete(obj: T, ctx: ControllerContext): Promise<ReconcileResult | void>;
  /** The object carries lv's finalizer: bring libvirt toward its spec and write its status. */
  reconcileNormal(obj: T, ctx: ControllerContext): Promise<ReconcileResult | void>;
}

/** A Reconciler for one kind made of its delete and normal parts. */
export function kindReconciler<T extends AnyResource>(parts: KindReconcilerParts<T>): Reconciler {
  return {
    kind: parts.kind,
    async reconcile(obj: AnyResource, ctx: ControllerContext) {
      const typed = obj as T;
      if (typed.metadata.deletionTimestamp) return await parts.reconcileDelete(typed, ctx);
      if (await ensureFinalizer(ctx.store, typed)) return { requeue: true };
      return await parts.reconcileNormal(typed, ctx);
    },
  };
}
