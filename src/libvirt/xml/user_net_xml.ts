/**
 * A user-mode (QEMU's slirp) NIC whose guest SSH port is forwarded to a host port on 127.0.0.1: the
 * management interface of a rootless `qemu:///session` domain. libvirt 9.0's `<interface type='user'>` has no
 * port forwarding for slirp, and its passt backend is refused by Debian 12's libvirt 9.0.0 ("Invalid value
 * for attribute 'type' in element 'backend'"), so the NIC is given to QEMU through `<qemu:commandline>`:
 * `-netdev user,hostfwd=...` and a virtio-net device at a fixed PCI slot libvirt leaves free (libvirt fills
 * slots from the bottom of the root bus; QEMU would otherwise take the first free slot before libvirt's
 * devices get theirs).
 *
 * @module
 */
import { el, type XmlElement } from "./escape.ts";
import { attrOf, childOf, childrenOf, type XmlNode } from "./parse_xml.ts";

/** libvirt's namespace for QEMU command-line passthrough. */
export const QEMU_NAMESPACE = "http://libvirt.org/schemas/domain/qemu/1.0";

/** A forwarded user-mode NIC: guest TCP `guestPort` reached on 127.0.0.1:`hostPort` of the libvirt host. */
export interface UserNetForward {
  mac: string;
  hostPort: number;
  guestPort: number;
}

const NETDEV_ID = "lvusernet0";
const FORWARD = /(?:^|,)hostfwd=tcp:127\.0\.0\.1:(\d+)-:(\d+)(?:,|$)/;

/** The root bus and slot of the NIC: pci.0 slot 0x1f on i440fx (pc), pcie.0 slot 0x1c on q35. */
function slotFor(machine: string): string {
  return /q35/.test(machine) ? "bus=pcie.0,addr=0x1c" : "bus=pci.0,addr=0x1f";
}

function port(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 1 || value > 65535) {
    throw new RangeError(`${what} must be a TCP port (1-65535); got ${value}`);
  }
  return value;
}

/** `<qemu:commandline>` for the forwarded NIC (the root element needs `xmlns:qemu`). */
export function userNetElement(nic: UserNetForward, machine: string): XmlElement {
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(nic.mac)) throw new TypeError(`invalid MAC ${nic.mac}`);
  const netdev = `user,id=${NETDEV_ID},hostfwd=tcp:127.0.0.1:${port(nic.hostPort, "hostPort")}-:${
    port(nic.guestPort, "guestPort")
  }`;
  const device = `virtio-net-pci,netdev=${NETDEV_ID},mac=${nic.mac},${slotFor(machine)}`;
  return el(
    "qemu:commandline",
    {},
    ...["-netdev", netdev, "-device", device].map((value) => el("qemu:arg", { value })),
  );
}

/** The forwarded NIC lv wrote into a domain's `<qemu:commandline>`, if any. */
export function parseUserNet(root: XmlNode): UserNetForward | undefined {
  const args = childrenOf(childOf(root, "qemu:commandline"), "qemu:arg").map((a) => attrOf(a, "value") ?? "");
  const netdev = args.find((a) => a.startsWith(`user,id=${NETDEV_ID},`));
  const device = args.find((a) => a.includes(`netdev=${NETDEV_ID},`));
  const forward = netdev ? FORWARD.exec(netdev) : null;
  const mac = device ? /(?:^|,)mac=([0-9a-fA-F:]{17})(?:,|$)/.exec(device)?.[1] : undefined;
  if (!forward || !mac) return undefined;
  return { mac: mac.toLowerCase(), hostPort: Number(forward[1]), guestPort: Number(forward[2]) };
}
