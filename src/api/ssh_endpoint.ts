/**
 * Where lv reaches a guest's sshd: a host and a port. On a libvirt network that is the guest's address and
 * spec.ssh.port; behind a rootless session's user-mode network it is 127.0.0.1 and the forwarded host port
 * lv chose (status.guest.port). Every SSH path (lv ssh, ssh-config, the forwarder, rsync, provisioners)
 * takes it from here.
 */
import { guestStatusOf } from "./guest_status.ts";
import type { Domain } from "./types.ts";

export interface SshEndpoint {
  host: string;
  port: number;
}

/** The endpoint lv last reached the Domain's guest on (status.guest), or undefined before it has. */
export function sshEndpointOf(dom: Domain): SshEndpoint | undefined {
  const guest = guestStatusOf(dom.status);
  return guest.address ? { host: guest.address, port: guest.port ?? dom.spec.ssh.port } : undefined;
}
