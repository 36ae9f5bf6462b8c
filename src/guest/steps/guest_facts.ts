/**
 * What the first-boot steps read before they write, in one round trip: the hostname step's name and
 * /etc/hosts, the key step's authorized_keys, every network family's probe and the network family's survey
 * (family.ts). Changes nothing in the guest, but for lv's key when asked to add it (after authorized_keys is
 * read, so the key step needs no round trip of its own to write it).
 */
import { GuestReads } from "../guest_reads.ts";
import { FAMILY_PROBES, familyFromProbes, UNKNOWN_FAMILY } from "../network/families.ts";
import type { GuestOp, GuestOpResult, GuestSession } from "../session.ts";
import { HOSTNAME_PROBE, hostnameFacts } from "./hostname.ts";
import { AUTHORIZED_KEYS_PROBE, keyAddOps } from "./insert_key.ts";

export interface GuestFacts {
  /** The running name and /etc/hosts (when asked). */
  hostname?: { current: string; hosts: string };
  /** The login user's authorized_keys before `addKey` was added, "" when there was none (with addKey). */
  authorizedKeys?: string;
  /** The network family's name, or UNKNOWN_FAMILY (when asked). */
  family?: string;
  /** Every result of the batch, by operation: the network family's survey among them. */
  known: GuestReads;
}

/** Reads the facts asked for in one batch (none asked: no round trip); rejects naming the step that failed. */
export async function readGuestFacts(
  session: GuestSession,
  want: { hostname?: boolean; addKey?: string; family?: boolean; survey?: GuestOp[] },
): Promise<GuestFacts> {
  const parts: [keyof GuestFacts, GuestOp[]][] = [];
  if (want.hostname) parts.push(["hostname", HOSTNAME_PROBE]);
  if (want.addKey) parts.push(["authorizedKeys", [AUTHORIZED_KEYS_PROBE, ...keyAddOps(want.addKey)]]);
  if (want.family) parts.push(["family", FAMILY_PROBES]);
  if (want.survey?.length) parts.push(["known", want.survey]);
  const all = parts.flatMap(([, ops]) => ops);
  const results = await session.batch(all);
  const facts: GuestFacts = { known: new GuestReads().add(all, results) };
  let at = 0;
  for (const [name, ops] of parts) {
    const mine: GuestOpResult[] = results.slice(at, at += ops.length);
    if (name === "hostname") facts.hostname = hostnameFacts(mine);
    else if (name === "family") facts.family = familyFromProbes(mine)?.name ?? UNKNOWN_FAMILY;
    else if (name === "known") continue;
    else {
      const failed = mine.find((r) => r.error || (r.run && r.run.code !== 0));
      if (failed) {
        throw new Error(
          `cannot install lv's key: ${failed.error ?? (failed.run!.stderr.trim() || "mkdir failed")}`,
        );
      }
      facts.authorizedKeys = mine[0].text ?? "";
    }
  }
  return facts;
}
