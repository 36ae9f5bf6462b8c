/** The guest's network interface names by MAC address, from /sys/class/net. */
import type { GuestReads } from "../guest_reads.ts";
import type { GuestOp } from "../session.ts";

const NET = "/sys/class/net";

/** The survey listing the interfaces (see addressReads). */
export const INTERFACE_LIST: GuestOp = { list: NET };

/** The reads of every listed interface's MAC address (INTERFACE_LIST read first). */
export function addressReads(known: GuestReads): GuestOp[] {
  return (known.names(NET) ?? []).map((name) => ({ read: `${NET}/${name}/address` }));
}

/** Interface names keyed by MAC address (lower case, colons), from INTERFACE_LIST and addressReads. */
export function interfaceNames(known: GuestReads): Map<string, string> {
  const names = new Map<string, string>();
  for (const name of known.names(NET) ?? []) {
    const mac = known.text(`${NET}/${name}/address`);
    if (mac) names.set(mac.trim().toLowerCase(), name);
  }
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
