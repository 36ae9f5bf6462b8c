/** A Domain's interfaces as observed: each NIC's MAC, network and addresses (DHCP lease, static ip). */
import type { Domain, DomainInterfaceStatus } from "../../api/types.ts";
import type { Libvirt } from "../../libvirt/libvirt.ts";
import type { DomainXmlInterface } from "../../libvirt/xml/domain_xml.ts";

/** The interfaces' status; leases are looked up only while the domain runs. */
export async function observeInterfaces(
  lv: Libvirt,
  dom: Domain,
  nics: DomainXmlInterface[],
  state: string,
): Promise<DomainInterfaceStatus[]> {
  const leases = new Map<string, string>();
  if (state === "running") {
    for (const network of new Set(nics.map((n) => n.network).filter((n): n is string => !!n))) {
      for (const lease of await lv.netDhcpLeases(network)) leases.set(lease.mac, lease.ip);
    }
  }
  return nics.map((nic, i) => {
    const ips: DomainInterfaceStatus["ips"] = [];
    const leased = leases.get(nic.mac);
    if (leased) ips.push({ address: leased, source: "lease" });
    const fixed = dom.spec.interfaces[i].ip;
    if (fixed && fixed !== leased) ips.push({ address: fixed, source: "static" });
    return { mac: nic.mac, network: nic.network, ips };
  });
}
