/** The SSH endpoint (address and port) lv reaches a guest's sshd on. */
import type { Domain, DomainInterfaceStatus, Network } from "../api/types.ts";
import { staticInterfaces } from "../guest/network/static_interfaces.ts";
import type { Libvirt } from "../libvirt/libvirt.ts";
import type { DomainXmlInterface } from "../libvirt/xml/domain_xml.ts";

/** Where a guest's address can be learnt (a GuestInput has them all). */
export interface AddressSources {
  dom: Domain;
  lv: Libvirt;
  /** The Domain's interfaces as defined (MAC, network). */
  nics: DomainXmlInterface[];
  networks: Map<string, Network>;
  /** What libvirt reports of them (leases). */
  interfaces: DomainInterfaceStatus[];
}

/**
 * A user-mode management interface's forward (127.0.0.1 and the host port; a rootless session), else the
 * first interface's DHCP lease, then what libvirt reports (lease, guest agent) for one of the Domain's
 * MACs, then the first static ip; their port is spec.ssh.port. Without one, `message` says what was tried.
 */
export async function guestAddress(
  input: AddressSources,
): Promise<{ address?: string; port?: number; message: string }> {
  const forwarded = input.nics.find((n) => n.userNet !== undefined)?.userNet;
  if (forwarded) return { address: "127.0.0.1", port: forwarded.hostPort, message: "" };
  const tried = ["net-dhcp-leases"];
  const found = (address: string) => ({ address, port: input.dom.spec.ssh.port, message: "" });
  for (const i of input.interfaces) {
    const lease = i.ips.find((a) => a.source === "lease");
    if (lease) return found(lease.address);
  }
  for (const source of ["lease", "agent"] as const) {
    tried.push(`domifaddr --source ${source}`);
    const reported = await input.lv.domIfAddr(input.dom.metadata.name, source);
    const mine = reported.find((f) => input.nics.some((n) => n.mac === f.mac));
    if (mine) return found(mine.ip);
  }
  const fixed = staticInterfaces(input.dom, input.nics, input.networks)[0];
  if (fixed) return found(fixed.address);
  const where = input.nics.map((n) =>
    `${n.mac} on ${n.network ? `network ${n.network}` : `${n.dev} (macvtap)`}`
  )
    .join(", ");
  return {
    message: `no IP address yet for ${where || "a domain without interfaces"}; tried ${tried.join(", ")}`,
  };
}
