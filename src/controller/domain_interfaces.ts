/** A Domain's interfaces as libvirt gets them: MACs filled in, stable across passes. */
import { createHash } from "node:crypto";
import type { Domain } from "../api/types.ts";
import type { DomainXmlInterface } from "../libvirt/xml/domain_xml.ts";

/** A stable MAC for an interface without one: derived from the domain's uid, so it never changes. */
export function generatedMac(uid: string, index: number): string {
  const h = createHash("sha256").update(`${uid}/${index}`).digest();
  return `52:54:00:${[h[0], h[1], h[2]].map((b) => b.toString(16).padStart(2, "0")).join(":")}`;
}

/** The interfaces as libvirt gets them, MACs filled in. */
export function domainInterfaces(dom: Domain): DomainXmlInterface[] {
  return dom.spec.interfaces.map((nic, i) => ({
    network: nic.network,
    dev: nic.dev,
    mode: nic.dev ? nic.mode ?? "bridge" : undefined,
    mac: (nic.mac ?? generatedMac(dom.metadata.uid, i)).toLowerCase(),
    model: nic.model,
  }));
}
