/** The parts of EtcdStore.writeAll that need no connection: one write's plan, and why a transaction failed. */
import type { AnyResource } from "../api/types.ts";
import type { Compare, Kv, Op } from "./etcd_client.ts";
import { AlreadyExistsError, type BatchWrite, ConflictError, keyOf, NotFoundError } from "./store.ts";

/** One write of a writeAll transaction: its compare, the object it stores, and its put or delete (none: unchanged). */
export interface BatchPlan {
  key: string;
  compare: Compare;
  next: AnyResource;
  op?: Op;
}

/** Whether a batch write's effect is what the key holds now. */
export function landed(p: BatchPlan, now: Kv | undefined): boolean {
  if (!p.op) return now?.modRevision === (p.compare as { modRevision: number }).modRevision;
  if ("deleteRange" in p.op) return !now;
  return "put" in p.op && now?.value === p.op.put.value;
}

/** Why a writeAll transaction's compares failed: the first key that is not as read. */
export function batchFailure(writes: BatchWrite[], planned: BatchPlan[], now: (Kv | undefined)[]): Error {
  for (let i = 0; i < planned.length; i++) {
    const key = keyOf(writes[i].obj);
    const compare = planned[i].compare;
    if (compare.target === "CREATE" && now[i]) return new AlreadyExistsError(key);
    if (compare.target === "MOD" && !now[i]) return new NotFoundError(key);
    if (compare.target === "MOD" && now[i]!.modRevision !== compare.modRevision) {
      return new ConflictError(
        key,
        "the object was modified while the batch was written; read it again and retry",
      );
    }
  }
  return new ConflictError(keyOf(writes[0].obj), "the batch's compares failed; read again and retry");
}
