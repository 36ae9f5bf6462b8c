/** The guest's network interface names by MAC address, from /sys/class/net. */
import type { GuestSession } from "../session.ts";

/** Interface names keyed by MAC address (lower case, colons), in two round trips. Changes nothing in the guest. */
export async function interfaceNames(session: GuestSession): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  const listed = await session.listDir("/sys/class/net") ?? [];
  const macs = await session.batch(listed.map((name) => ({ read: `/sys/class/net/${name}/address` })));
  listed.forEach((name, i) => {
    const mac = macs[i].text;
    if (mac) names.set(mac.trim().toLowerCase(), name);
  });
  return names;
}

/** The name of the guest's interface with `mac`; rejects naming the MAC when the guest has none. */
export function nameOf(names: Map<string, string>, mac: string): string {
  const name = names.get(mac.toLowerCase());
  if (!name) {
    throw new Error(
      `the guest has no network interface with MAC ${mac} (found: ${[...names.keys()].join(", ")})`,
    );
  }
  return name;
}
