/**
 * A Domain's interfaces as libvirt gets them: MACs filled in, stable across passes, and the management
 * interface a Domain that talks SSH gets when it declares none (vagrant-libvirt's management network).
 */
import { createHash } from "node:crypto";
import { DEFAULT_MANAGEMENT_NETWORK, DEFAULT_NIC_MODEL, NO_MANAGEMENT_NETWORK } from "../api/defaults.ts";
import type { Domain } from "../api/types.ts";
import { isSessionUri } from "../libvirt/session_uri.ts";
import type { DomainXmlInterface } from "../libvirt/xml/domain_xml.ts";

/** A stable MAC for an interface without one: derived from the domain's uid, so it never changes. */
export function generatedMac(uid: string, index: number): string {
  const h = createHash("sha256").update(`${uid}/${index}`).digest();
  return `52:54:00:${[h[0], h[1], h[2]].map((b) => b.toString(16).padStart(2, "0")).join(":")}`;
}

/**
 * The libvirt network of the management interface, or undefined when the Domain gets none: it declares
 * interfaces, does not talk SSH (communicator none), or says managementNetwork: none. Otherwise
 * spec.managementNetwork (lv apply fills in the context's defaultNetwork), else libvirt's "default".
 */
export function managementNetwork(dom: Domain): string | undefined {
  if (dom.spec.interfaces.length > 0 || dom.spec.communicator === "none") return undefined;
  const name = dom.spec.managementNetwork ?? DEFAULT_MANAGEMENT_NETWORK;
  return name === NO_MANAGEMENT_NETWORK ? undefined : name;
}

/**
 * The interfaces as libvirt gets them, MACs filled in; the management interface when there is one: on the
 * management network, or, given `userNetPort` (a rootless session, which has no libvirt networks), on QEMU's
 * user-mode network with the guest's SSH port forwarded from 127.0.0.1:userNetPort.
 */
export function domainInterfaces(dom: Domain, userNetPort?: number): DomainXmlInterface[] {
  const management = managementNetwork(dom);
  if (management !== undefined) {
    const mac = generatedMac(dom.metadata.uid, 0);
    if (userNetPort !== undefined) {
      return [{
        userNet: { hostPort: userNetPort, guestPort: dom.spec.ssh.port },
        mac,
        model: DEFAULT_NIC_MODEL,
      }];
    }
    return [{ network: management, mac, model: DEFAULT_NIC_MODEL }];
  }
  return dom.spec.interfaces.map((nic, i) => ({
    network: nic.network ?? nic.libvirtNetwork,
    bridge: nic.bridge,
    dev: nic.dev,
    mode: nic.dev ? nic.mode ?? "bridge" : undefined,
    mac: (nic.mac ?? generatedMac(dom.metadata.uid, i)).toLowerCase(),
    model: nic.model,
    ...(nic.linkState !== undefined ? { linkState: nic.linkState } : {}),
  }));
}

/**
 * The libvirt networks lv does not own that the Domain attaches to (libvirtNetwork interfaces and the
 * management network): they must exist and be active before the domain is defined.
 */
export function unownedNetworks(dom: Domain, uri: string): string[] {
  const management = managementNetwork(dom);
  if (management !== undefined && isSessionUri(uri)) return []; // user-mode networking instead
  const names = management !== undefined
    ? [management]
    : dom.spec.interfaces.flatMap((nic) => nic.libvirtNetwork !== undefined ? [nic.libvirtNetwork] : []);
  return [...new Set(names)];
}
