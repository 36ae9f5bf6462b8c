/**
 * Configuring a guest's static addresses on their own (outside the first boot, which shares the batches with
 * the other steps): the family's survey in one batch, then its reads and writes as root (root_steps.ts).
 */
import { GuestReads } from "../guest_reads.ts";
import type { GuestSession } from "../session.ts";
import { runRootSteps } from "./root_steps.ts";
import { detectFamily, familyNamed } from "../network/families.ts";
import type { StaticInterface } from "../network/static_interfaces.ts";

/**
 * Makes the guest's static addresses exactly `interfaces` with its family: the one named `os`
 * (status.guest.os), else the one detected now; rejects naming what was looked for when none, and with the
 * first failure (naming the family). Returns the family's name. At most three round trips besides the
 * detection: the survey (none when the family surveys nothing), its reads as root, its writes as root.
 */
export async function configureStatic(
  session: GuestSession,
  interfaces: StaticInterface[],
  os?: string,
): Promise<string> {
  const family = familyNamed(os) ?? await detectFamily(session);
  const known = new GuestReads();
  if (family.survey.length > 0) known.add(family.survey, await session.batch(family.survey));
  const done = await runRootSteps(session, { network: { family, interfaces, known } });
  if (done.error) throw done.error;
  return family.name;
}
