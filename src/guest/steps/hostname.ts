/** The guest's hostname: /etc/hostname, the running name, and the 127.0.1.1 line of /etc/hosts (as Debian has it). */
import { check, type GuestSession } from "../session.ts";

/** /etc/hosts with every 127.0.1.1 line naming `hostname`, or such a line added. */
export function hostsWithName(hosts: string, hostname: string): string {
  const line = `127.0.1.1 ${hostname}`;
  if (/^127\.0\.1\.1/m.test(hosts)) return hosts.replace(/^127\.0\.1\.1.*$/gm, line);
  return `${hosts}${hosts && !hosts.endsWith("\n") ? "\n" : ""}${line}\n`;
}

/**
 * Sets the guest's hostname (as root): /etc/hostname and the running name when they differ, and the
 * 127.0.1.1 line of /etc/hosts. Idempotent: a guest that has the name already is only read.
 */
export async function setHostname(session: GuestSession, hostname: string): Promise<void> {
  const current = (await check(session, ["hostname"])).trim();
  if (current !== hostname) {
    await session.putFile("/etc/hostname", `${hostname}\n`, { sudo: true, mode: 0o644 });
    await check(session, ["hostname", hostname], { sudo: true });
  }
  const hosts = await session.readFile("/etc/hosts") ?? "";
  const next = hostsWithName(hosts, hostname);
  if (next !== hosts) await session.putFile("/etc/hosts", next, { sudo: true, mode: 0o644 });
}
