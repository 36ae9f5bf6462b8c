/** Interfaces with an ip on a network without DHCP: lv configures their address inside the guest. */
import type { Domain, Network } from "../../api/types.ts";
import type { DomainXmlInterface } from "../../libvirt/xml/domain_xml.ts";

/** One interface's static address. */
export interface StaticInterface {
  /** The interface's MAC address (lower case, colons): how the guest's interface is found. */
  mac: string;
  address: string;
  prefix: number;
}

/** The Domain's interfaces with an ip on a network without DHCP, in spec order. */
export function staticInterfaces(
  dom: Domain,
  nics: DomainXmlInterface[],
  networks: Map<string, Network>,
): StaticInterface[] {
  const out: StaticInterface[] = [];
  dom.spec.interfaces.forEach((nic, i) => {
    if (!nic.ip || !nics[i]) return;
    const net = nic.network ? networks.get(nic.network) : undefined;
    if (net?.spec.dhcp.enabled) return;
    out.push({ mac: nics[i].mac, address: nic.ip, prefix: nic.prefix ?? net?.spec.ipv4.prefix ?? 24 });
  });
  return out;
}
