/** The guest's hostname: /etc/hostname, the running name, and the 127.0.1.1 line of /etc/hosts (as Debian has it). */
import { checkBatch, type GuestOp, type GuestOpResult, type GuestSession, runStepBatch } from "../session.ts";

/** /etc/hosts with every 127.0.1.1 line naming `hostname`, or such a line added. */
export function hostsWithName(hosts: string, hostname: string): string {
  const line = `127.0.1.1 ${hostname}`;
  if (/^127\.0\.1\.1/m.test(hosts)) return hosts.replace(/^127\.0\.1\.1.*$/gm, line);
  return `${hosts}${hosts && !hosts.endsWith("\n") ? "\n" : ""}${line}\n`;
}

/**
 * What the step reads (as the login user; changes nothing): the running name (the kernel's, as `hostname`
 * prints it, read without starting it) and /etc/hosts.
 */
export const HOSTNAME_PROBE: GuestOp[] = [{ read: "/proc/sys/kernel/hostname" }, { read: "/etc/hosts" }];

/** The guest's name and /etc/hosts from the results of HOSTNAME_PROBE; rejects naming the step on a failure. */
export function hostnameFacts(results: GuestOpResult[]): { current: string; hosts: string } {
  checkBatch("hostname", HOSTNAME_PROBE, results);
  return { current: (results[0].text ?? "").trim(), hosts: results[1].text ?? "" };
}

/**
 * What makes the guest named `hostname` (to run as root, stopping at the first failure): /etc/hostname and
 * the running name when they differ, the 127.0.1.1 line of /etc/hosts when it differs. None when the guest
 * has the name already (the step is idempotent: a second run only reads).
 */
export function hostnameOps(facts: { current: string; hosts: string }, hostname: string): GuestOp[] {
  const ops: GuestOp[] = [];
  if (facts.current !== hostname) {
    ops.push({ put: "/etc/hostname", content: `${hostname}\n`, mode: 0o644 });
    ops.push({ run: ["hostname", hostname] });
  }
  const next = hostsWithName(facts.hosts, hostname);
  if (next !== facts.hosts) ops.push({ put: "/etc/hosts", content: next, mode: 0o644 });
  return ops;
}

/** Sets the guest's hostname on its own: one batch reading, one sudo batch writing (none when it is set). */
export async function setHostname(session: GuestSession, hostname: string): Promise<void> {
  const ops = hostnameOps(hostnameFacts(await session.batch(HOSTNAME_PROBE)), hostname);
  await runStepBatch(session, "hostname", ops, { sudo: true });
}
