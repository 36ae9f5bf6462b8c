/**
 * A guest OS family's way of configuring static addresses (systemd-networkd, ifupdown, netplan,
 * NetworkManager...). One file a family; families.ts lists them.
 */
import type { GuestSession } from "../session.ts";
import type { StaticInterface } from "./static_interfaces.ts";

export interface NetworkFamily {
  /** Shown in messages: "systemd-networkd". */
  name: string;
  /** What detect looks for, named when no family is found: "an active systemd-networkd service". */
  looksFor: string;
  /** Whether the guest configures its network this way. Changes nothing in the guest. */
  detect(session: GuestSession): Promise<boolean>;
  /**
   * Makes the guest's static addresses exactly `interfaces` (as root): lv's own configuration written, a
   * file lv wrote before for an interface no longer listed removed, nothing else touched, and only the listed
   * interfaces reconfigured (the one SSH runs over keeps its address). Idempotent.
   */
  configure(session: GuestSession, interfaces: StaticInterface[]): Promise<void>;
}
