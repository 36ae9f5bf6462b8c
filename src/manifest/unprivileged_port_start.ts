/** The lowest TCP port this process may listen on: 0 for root, else Linux's ip_unprivileged_port_start. */
export function unprivilegedPortStart(): number {
  if (Deno.uid() === 0) return 0;
  try {
    const value = Number(Deno.readTextFileSync("/proc/sys/net/ipv4/ip_unprivileged_port_start").trim());
    return Number.isInteger(value) ? value : 1024;
  } catch {
    return 1024;
  }
}
