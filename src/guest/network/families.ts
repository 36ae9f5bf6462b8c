/**
 * The guest OS families lv configures static addresses for, in the order they are tried. A new family is a
 * file beside networkd.ts implementing NetworkFamily, and one entry here.
 */
import type { GuestSession } from "../session.ts";
import type { NetworkFamily } from "./family.ts";
import { networkd } from "./networkd.ts";
import type { StaticInterface } from "./static_interfaces.ts";

export const NETWORK_FAMILIES: NetworkFamily[] = [networkd];

/** The first family the guest uses; rejects naming the families lv knows when it uses none. */
export async function detectFamily(
  session: GuestSession,
  families: NetworkFamily[] = NETWORK_FAMILIES,
): Promise<NetworkFamily> {
  for (const family of families) {
    if (await family.detect(session)) return family;
  }
  const known = families.map((f) => f.name).join(", ");
  throw new Error(
    `the guest runs none of the network configurations lv knows (${known}); lv configures static addresses with those`,
  );
}

/** Configures the static addresses with the guest's own family (see NetworkFamily.configure). */
export async function configureStatic(session: GuestSession, interfaces: StaticInterface[]): Promise<void> {
  await (await detectFamily(session)).configure(session, interfaces);
}
