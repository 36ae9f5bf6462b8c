/**
 * Whether cloud-init has finished in the guest, and how: `cloud-init status --wait` bounded by `timeout`
 * (so one check never holds the controller long), then, when it failed, cloud-init's result file and the
 * last warning and error lines of its log. {@linkcode cloudInitReport} reads what those commands gave.
 *
 * @module
 */

/**
 * Seconds one check waits for cloud-init in the guest before lv looks again. Each check is a login, a sudo and
 * a Python start in a guest still busy with cloud-init (seconds of its CPU under TCG): a minute between them
 * leaves the guest to cloud-init.
 */
export const CLOUD_INIT_WAIT_SECONDS = 60;

/** The guest command waiting for cloud-init (run as root). */
export const CLOUD_INIT_WAIT_ARGV = [
  "timeout",
  String(CLOUD_INIT_WAIT_SECONDS),
  "cloud-init",
  "status",
  "--wait",
];
/** cloud-init's record of its last run: `{"v1": {"errors": [...]}}`. */
export const CLOUD_INIT_RESULT = "/run/cloud-init/result.json";
export const CLOUD_INIT_LOG = "/var/log/cloud-init.log";

export interface CloudInitReport {
  /**
   * running: not finished within the wait; done: finished (perhaps with recoverable errors); error: failed;
   * absent: the guest has no cloud-init.
   */
  state: "running" | "done" | "error" | "absent";
  /** The errors cloud-init recorded (result.json), then its log's last warning and error lines. */
  errors: string[];
}

/** What the guest said: the wait's exit code, result.json's text and the log's text (when read). */
export interface CloudInitOutput {
  code: number;
  result?: string;
  log?: string;
}

/** The log's last lines that say what went wrong. */
export function logProblems(log: string, lines = 10): string[] {
  return log.split("\n").filter((l) => /WARNING|ERROR|Traceback|[Ff]ailed/.test(l)).map((l) => l.trimEnd())
    .slice(-lines);
}

/** Reads what the guest said about cloud-init. */
export function cloudInitReport(out: CloudInitOutput): CloudInitReport {
  if (out.code === 127) return { state: "absent", errors: [] };
  if (out.code === 124) return { state: "running", errors: [] };
  // 0: done; 2: done with recoverable errors (cloud-init 23.4 and later).
  if (out.code === 0) return { state: "done", errors: [] };
  const errors: string[] = [];
  try {
    const parsed = JSON.parse(out.result ?? "") as { v1?: { errors?: unknown[] } };
    for (const e of parsed.v1?.errors ?? []) errors.push(String(e));
  } catch { /* no result file, or not JSON: the log says more */ }
  errors.push(...logProblems(out.log ?? ""));
  return { state: out.code === 2 ? "done" : "error", errors };
}
