/**
 * A guest OS family's way of configuring static addresses (systemd-networkd, ifupdown, netplan,
 * NetworkManager...). One file a family; families.ts lists them.
 */
import type { GuestOp, GuestOpResult, GuestSession } from "../session.ts";
import type { StaticInterface } from "./static_interfaces.ts";

export interface NetworkFamily {
  /** Shown in messages: "systemd-networkd". */
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
  /**
   * Makes the guest's static addresses exactly `interfaces` (as root): lv's own configuration written, a
   * file lv wrote before for an interface no longer listed removed, nothing else touched, and only the listed
   * interfaces reconfigured (the one SSH runs over keeps its address). Idempotent.
   */
  configure(session: GuestSession, interfaces: StaticInterface[]): Promise<void>;
}
