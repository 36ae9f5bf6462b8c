/**
 * A guest OS family's way of configuring static addresses (systemd-networkd, ifupdown, netplan,
 * NetworkManager...). One file a family; families.ts lists them.
 *
 * A family does no I/O of its own: it says what it reads and plans its writes from what came back, so the
 * first boot sends them in shared batches (network_plan.ts): `survey` with the facts (as the login user),
 * `reads` with the hostname's writes (as root), the plan's writes in one sudo batch.
 */
import type { GuestReads } from "../guest_reads.ts";
import type { GuestOp, GuestOpResult } from "../session.ts";
import type { StepOps } from "../step_batch.ts";
import type { StaticInterface } from "./static_interfaces.ts";

export interface NetworkFamily {
  /** Shown in messages, and the name of its step: "systemd-networkd". */
  name: string;
  /** What detect looks for, named when no family is found: "an active systemd-networkd service". */
  looksFor: string;
  /**
   * What detection reads (commands and reads that change nothing in the guest): every family's in one batch
   * (families.ts), so finding the family costs one round trip.
   */
  probe: GuestOp[];
  /** Whether the guest configures its network this way, from the results of `probe` (in its order). */
  matches(results: GuestOpResult[]): boolean;
  /** Lists `reads` depends on (as the login user, changing nothing): read with the guest's facts. */
  survey: GuestOp[];
  /** What the plan reads besides the survey (as root, changing nothing), from the survey's results. */
  reads(interfaces: StaticInterface[], known: GuestReads): GuestOp[];
  /**
   * The writes (as root, in one batch stopping at the first failure) making the guest's static addresses
   * exactly `interfaces`: lv's own configuration written, a file lv wrote before for an interface no longer
   * listed removed, nothing else touched, and only the listed interfaces reconfigured (the one SSH runs over
   * keeps its address). Planned from the survey and reads; throws when the guest cannot be configured so.
   * Idempotent: a batch cut short is planned again from what the guest has then.
   */
  plan(interfaces: StaticInterface[], known: GuestReads): StepOps;
}
