/**
 * The guest OS families lv configures static addresses for, in the order they are tried. A new family is a
 * file beside networkd.ts implementing NetworkFamily, and one entry here.
 */
import type { GuestSession } from "../session.ts";
import type { NetworkFamily } from "./family.ts";
import { ifupdown } from "./ifupdown.ts";
import { netplan } from "./netplan.ts";
import { networkd } from "./networkd.ts";
import { networkmanager } from "./networkmanager.ts";
import type { StaticInterface } from "./static_interfaces.ts";

// NetworkManager and netplan first: NetworkManager may run beside systemd-networkd, netplan renders to it.
export const NETWORK_FAMILIES: NetworkFamily[] = [networkmanager, netplan, networkd, ifupdown];

/** status.guest.os of a guest whose family lv could not tell. */
export const UNKNOWN_FAMILY = "unknown";

/** The first family the guest uses; rejects naming what it looked for when the guest uses none. */
export async function detectFamily(
  session: GuestSession,
  families: NetworkFamily[] = NETWORK_FAMILIES,
): Promise<NetworkFamily> {
  for (const family of families) {
    if (await family.detect(session)) return family;
  }
  const known = families.map((f) => `${f.name} (${f.looksFor})`).join(", ");
  throw new Error(
    `the guest runs none of the network configurations lv knows; looked for ${known}: lv configures static addresses only with one of those`,
  );
}

/** The guest's family name for status.guest.os: detected, or UNKNOWN_FAMILY. Changes nothing in the guest. */
export async function familyName(session: GuestSession): Promise<string> {
  return await detectFamily(session).then((f) => f.name, () => UNKNOWN_FAMILY);
}

/**
 * Configures the static addresses with the guest's family (see NetworkFamily.configure): the one named
 * `os` (status.guest.os), else the one detected now; rejects naming what was looked for when none.
 */
export async function configureStatic(
  session: GuestSession,
  interfaces: StaticInterface[],
  os?: string,
): Promise<string> {
  const family = NETWORK_FAMILIES.find((f) => f.name === os) ?? await detectFamily(session);
  await family.configure(session, interfaces);
  return family.name;
}
