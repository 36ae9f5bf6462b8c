/**
 * Static addresses with NetworkManager (Fedora, RHEL, Alma, Rocky, desktops): one connection profile of lv's
 * own per interface, named lv-MAC and bound to the MAC (802-3-ethernet.mac-address), made or changed with
 * nmcli and brought up. Only profiles named lv-* are added, changed, brought up or deleted: the guest's
 * other connections (the one SSH runs over among them) are never touched, also when a command fails.
 */
import type { GuestOp } from "../session.ts";
import type { NetworkFamily } from "./family.ts";
import { serviceActive, serviceActiveProbe } from "./service_active.ts";
import type { StaticInterface } from "./static_interfaces.ts";

const PREFIX = "lv-";

/** The name of lv's profile for an interface. */
export function nmProfileName(ifc: StaticInterface): string {
  return `${PREFIX}${ifc.mac.replace(/:/g, "").toLowerCase()}`;
}

/** The profile's settings, as nmcli takes them (add and modify). */
export function nmSettings(ifc: StaticInterface): string[] {
  return [
    "802-3-ethernet.mac-address",
    ifc.mac.toUpperCase(),
    "ipv4.method",
    "manual",
    "ipv4.addresses",
    `${ifc.address}/${ifc.prefix}`,
    "ipv6.method",
    "ignore",
    "connection.autoconnect",
    "yes",
    "connection.autoconnect-priority",
    "100",
  ];
}

/** The connection profiles' names (as root: every profile, not only the user's). */
const SHOW = ["nmcli", "-g", "NAME", "connection", "show"];

export const networkmanager: NetworkFamily = {
  name: "NetworkManager",
  looksFor: "an active NetworkManager service",

  probe: [serviceActiveProbe("NetworkManager")],
  matches: ([active]) => serviceActive(active),

  survey: [],
  reads: () => [{ run: SHOW }],

  plan(interfaces, known) {
    const names = known.run(SHOW).stdout.split("\n").map((n) => n.trim()).filter((n) => n.startsWith(PREFIX));
    const wanted = new Map(interfaces.map((ifc) => [nmProfileName(ifc), ifc]));
    // Ending at the first nmcli that fails (named in the message).
    const ops: GuestOp[] = names.filter((name) => !wanted.has(name))
      .map((name) => ({ run: ["nmcli", "connection", "delete", name] }));
    for (const [name, ifc] of wanted) {
      ops.push({
        run: names.includes(name) ? ["nmcli", "connection", "modify", name, ...nmSettings(ifc)] : [
          "nmcli",
          "connection",
          "add",
          "type",
          "ethernet",
          "con-name",
          name,
          "ifname",
          "*",
          ...nmSettings(ifc),
        ],
      });
      ops.push({ run: ["nmcli", "connection", "up", name] });
    }
    return { step: "NetworkManager", ops };
  },
};
