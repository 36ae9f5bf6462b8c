/**
 * Waiting for cloud-init in a guest booted from a cloud image: one bounded `cloud-init status --wait` per
 * pass (cloud_init_report.ts), so the controller is never held long and can say what it waits for; a
 * cloud-init that failed, or has not finished after CLOUD_INIT_TIMEOUT_MS, is reported with its log's lines.
 */
import {
  CLOUD_INIT_LOG,
  CLOUD_INIT_RESULT,
  CLOUD_INIT_WAIT_ARGV,
  type CloudInitReport,
  cloudInitReport,
  logProblems,
} from "../cloud_init/cloud_init_report.ts";
import { type GuestSession, tail } from "../session.ts";

/** How long lv waits for cloud-init to finish in one boot before it reports it as hanging. */
export const CLOUD_INIT_TIMEOUT_MS = 20 * 60_000;

/** cloud-init's state in the guest (as root, to read its log). Changes nothing in the guest. */
export async function cloudInitState(session: GuestSession): Promise<CloudInitReport> {
  const r = await session.run(CLOUD_INIT_WAIT_ARGV, { sudo: true });
  if (r.code === 0 || r.code === 124 || r.code === 127) return cloudInitReport({ code: r.code });
  const result = await session.readFile(CLOUD_INIT_RESULT, { sudo: true }).catch(() => undefined);
  const log = await session.readFile(CLOUD_INIT_LOG, { sudo: true }).catch(() => undefined);
  return cloudInitReport({ code: r.code, result, log });
}

export interface CloudInitWait {
  /** Terminal for this boot: cloud-init failed, hangs, or is missing. */
  failure?: { reason: string; message: string };
  /** Still running: what lv waits for. */
  waiting?: string;
}

/** One look at cloud-init: done ({}), still running (`waiting`), or a failure with its lines. */
export async function waitForCloudInit(
  session: GuestSession,
  clock: { since?: string; now: Date },
): Promise<CloudInitWait> {
  const report = await cloudInitState(session);
  if (report.state === "done") return {};
  if (report.state === "absent") {
    return {
      failure: {
        reason: "CloudInitMissing",
        message: "spec.cloudInit is set but the guest has no cloud-init command: boot a cloud image",
      },
    };
  }
  if (report.state === "error") {
    const lines = report.errors.length > 0 ? report.errors.join("\n") : "(cloud-init gave no error lines)";
    return { failure: { reason: "CloudInitFailed", message: `cloud-init failed in the guest:\n${lines}` } };
  }
  const waitedMs = clock.now.getTime() - Date.parse(clock.since ?? clock.now.toISOString());
  if (waitedMs < CLOUD_INIT_TIMEOUT_MS) return { waiting: "cloud-init is still running in the guest" };
  const log = await session.readFile(CLOUD_INIT_LOG, { sudo: true }).catch(() => undefined) ?? "";
  const lines = logProblems(log).length > 0 ? logProblems(log).join("\n") : tail(log, 10);
  return {
    failure: {
      reason: "CloudInitTimeout",
      message: `cloud-init has not finished after ${
        Math.round(waitedMs / 60_000)
      } min; last log lines:\n${lines}`,
    },
  };
}
