/**
 * The host port a rootless session's management interface forwards to the guest's SSH: the one its
 * definition already has (kept across redefinitions and boots), else a port free on 127.0.0.1 now.
 */
import type { Domain } from "../../api/types.ts";
import { isSessionUri } from "../../libvirt/session_uri.ts";
import type { DomainXmlState } from "../../libvirt/xml/domain_xml.ts";
import { managementNetwork } from "../domain_interfaces.ts";

/** A TCP port nothing listens on at 127.0.0.1 (the kernel's pick). */
export function freeLoopbackPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * Undefined unless the Domain gets a management interface on a session connection (`uri`); then the
 * forwarded host port of `existing`'s user-mode NIC, or a new free one.
 */
export function userNetPort(
  dom: Domain,
  uri: string,
  existing: DomainXmlState | undefined,
  pick: () => number = freeLoopbackPort,
): number | undefined {
  if (managementNetwork(dom) === undefined || !isSessionUri(uri)) return undefined;
  const forward = existing?.interfaces.find((nic) => nic.type === "user" && nic.forward)?.forward;
  return forward ? Number(forward.split("-")[0]) : pick();
}
