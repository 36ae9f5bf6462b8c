/**
 * The guest OS families lv configures static addresses for, in the order they are tried. A new family is a
 * file beside networkd.ts implementing NetworkFamily, and one entry here.
 */
import { GuestReads } from "../guest_reads.ts";
import type { GuestOp, GuestOpResult, GuestSession } from "../session.ts";
import type { NetworkFamily } from "./family.ts";
import { ifupdown } from "./ifupdown.ts";
import { netplan } from "./netplan.ts";
import { networkd } from "./networkd.ts";
import { networkmanager } from "./networkmanager.ts";
import { probedUnit, servicesActive } from "./service_active.ts";

// NetworkManager and netplan first: NetworkManager may run beside systemd-networkd, netplan renders to it.
export const NETWORK_FAMILIES: NetworkFamily[] = [networkmanager, netplan, networkd, ifupdown];

/** status.guest.os of a guest whose family lv could not tell. */
export const UNKNOWN_FAMILY = "unknown";

/** The units families probe with serviceActiveProbe: asked in one systemctl. */
const PROBED_UNITS = NETWORK_FAMILIES.flatMap((f) => f.probe.map(probedUnit).filter((u) => u !== undefined));

/**
 * Every family's probe in one batch (see familyFromProbes): the services first, in one `systemctl
 * is-active`, then the families' other probes in order.
 */
export const FAMILY_PROBES: GuestOp[] = [
  servicesActive.probe(PROBED_UNITS),
  ...NETWORK_FAMILIES.flatMap((f) => f.probe.filter((op) => probedUnit(op) === undefined)),
];

/** The first family the results of FAMILY_PROBES (in its order) match, or undefined. */
export function familyFromProbes(results: GuestOpResult[]): NetworkFamily | undefined {
  const services = servicesActive.answers(PROBED_UNITS, results[0]);
  let at = 1;
  for (const family of NETWORK_FAMILIES) {
    const mine = family.probe.map((op) => {
      const unit = probedUnit(op);
      return unit === undefined ? results[at++] : services.get(unit)!;
    });
    if (family.matches(mine)) return family;
  }
  return undefined;
}

/** The family named `name` (status.guest.os), or undefined (none, or UNKNOWN_FAMILY). */
export function familyNamed(name: string | undefined): NetworkFamily | undefined {
  return NETWORK_FAMILIES.find((f) => f.name === name);
}

/** The failure of a guest that runs none of the families, naming what was looked for. */
export function noFamilyError(): Error {
  const known = NETWORK_FAMILIES.map((f) => `${f.name} (${f.looksFor})`).join(", ");
  return new Error(
    `the guest runs none of the network configurations lv knows; looked for ${known}: lv configures static addresses only with one of those`,
  );
}

/** What `family` surveys, or every family's when it is not known yet (each operation once). */
export function networkSurvey(family: NetworkFamily | undefined): GuestOp[] {
  return new GuestReads().missing((family ? [family] : NETWORK_FAMILIES).flatMap((f) => f.survey));
}

/** The first family the guest uses, found in one round trip; rejects naming what it looked for when none. */
export async function detectFamily(session: GuestSession): Promise<NetworkFamily> {
  const family = familyFromProbes(await session.batch(FAMILY_PROBES));
  if (family) return family;
  throw noFamilyError();
}
