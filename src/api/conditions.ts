/** Status conditions, Kubernetes style: lastTransitionTime moves only when a condition's status flips. */
import type { Condition, ConditionStatus, Status } from "./types.ts";

export interface ConditionInput {
  type: string;
  status: ConditionStatus;
  reason: string;
  message?: string;
}

/** Sets (or replaces) a condition in status.conditions, keeping lastTransitionTime when status is unchanged. */
export function setCondition(status: Status, input: ConditionInput, now: Date = new Date()): void {
  const conditions = status.conditions ?? (status.conditions = []);
  const i = conditions.findIndex((c) => c.type === input.type);
  const old = i >= 0 ? conditions[i] : undefined;
  const next: Condition = {
    type: input.type,
    status: input.status,
    reason: input.reason,
    message: input.message ?? "",
    lastTransitionTime: old && old.status === input.status ? old.lastTransitionTime : now.toISOString(),
  };
  if (i >= 0) conditions[i] = next;
  else conditions.push(next);
}

export function getCondition(status: Status | undefined, type: string): Condition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

export function removeCondition(status: Status, type: string): void {
  if (status.conditions) status.conditions = status.conditions.filter((c) => c.type !== type);
}

export function isTrue(status: Status | undefined, type: string): boolean {
  return getCondition(status, type)?.status === "True";
}
