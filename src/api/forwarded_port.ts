/**
 * A forwarded port (Vagrant's `config.vm.network :forwarded_port`): a TCP port on this host whose
 * connections lv carries to a port of the guest, through the guest's SSH.
 *
 * @module
 */

/** Domain.spec.forwardedPorts[]. */
export interface ForwardedPort {
  /** Port in the guest (connected to on the guest's loopback). */
  guest: number;
  /** Port on this host. */
  host: number;
  /** Address on this host the port listens on. Default 127.0.0.1. */
  hostIp: string;
  protocol: "tcp";
}

/** vagrant's forwarded_port host_ip default (vagrant-libvirt's too): only this host reaches the port. */
export const DEFAULT_FORWARD_HOST_IP = "127.0.0.1";

/** Wildcard addresses: a port on one of them is taken on every address. */
export const WILDCARD_HOST_IPS: readonly string[] = ["0.0.0.0"];

/** How tables and messages show a forward: `127.0.0.1:8080->80/tcp` (as docker ps does). */
export function forwardedPortText(port: ForwardedPort): string {
  return `${port.hostIp}:${port.host}->${port.guest}/${port.protocol}`;
}
