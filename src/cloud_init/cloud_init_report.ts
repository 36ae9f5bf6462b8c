/**
 * Whether cloud-init has finished in the guest, and how: one command run over SSH (as root, to read
 * cloud-init's log) waits for `cloud-init status --wait` for a bounded time, then prints its exit code,
 * /run/cloud-init/result.json and the log's last warning and error lines; {@linkcode cloudInitReport} reads
 * that output.
 *
 * @module
 */

/** Seconds one check waits for cloud-init in the guest before lv looks again. */
export const CLOUD_INIT_WAIT_SECONDS = 20;

/** The guest command (argv) whose output {@linkcode cloudInitReport} reads. */
export const CLOUD_INIT_STATUS_ARGV = [
  "sh",
  "-c",
  `command -v cloud-init >/dev/null 2>&1 || { echo lv-rc=127; exit 0; }
timeout ${CLOUD_INIT_WAIT_SECONDS} cloud-init status --wait >/dev/null 2>&1
echo "lv-rc=$?"
echo lv-result
cat /run/cloud-init/result.json 2>/dev/null
echo
echo lv-log
grep -E 'WARNING|ERROR|Traceback|[Ff]ailed' /var/log/cloud-init.log 2>/dev/null | tail -n 10
exit 0`,
];

export interface CloudInitReport {
  /** running: not finished within the wait; done: finished (perhaps with recoverable errors); error: failed. */
  state: "running" | "done" | "error" | "absent";
  /** The errors cloud-init recorded (result.json), then the log's last warning and error lines. */
  errors: string[];
}

/** Reads the output of {@linkcode CLOUD_INIT_STATUS_ARGV}. */
export function cloudInitReport(stdout: string): CloudInitReport {
  const rc = Number(/^lv-rc=(\d+)$/m.exec(stdout)?.[1] ?? "-1");
  if (rc === 127) return { state: "absent", errors: [] };
  if (rc === 124) return { state: "running", errors: [] };
  const result = /^lv-result\n([\s\S]*?)\nlv-log\n?/m.exec(stdout)?.[1] ?? "";
  const log = stdout.split(/^lv-log\n/m)[1] ?? "";
  const errors: string[] = [];
  try {
    const parsed = JSON.parse(result) as { v1?: { errors?: unknown[] } };
    for (const e of parsed.v1?.errors ?? []) errors.push(String(e));
  } catch { /* no result yet, or not JSON: the log says more */ }
  errors.push(...log.split("\n").map((l) => l.trimEnd()).filter((l) => l !== ""));
  // 0: done; 2: done with recoverable errors (cloud-init 23.4 and later).
  if (rc === 0 || rc === 2) return { state: "done", errors: rc === 2 ? errors : [] };
  return { state: "error", errors };
}
