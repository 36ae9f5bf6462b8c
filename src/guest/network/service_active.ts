/** Whether a systemd unit is active in the guest (`systemctl is-active`). Changes nothing in the guest. */
import type { GuestOp, GuestOpResult } from "../session.ts";

/** The probe asking whether `unit` is active. */
export function serviceActiveProbe(unit: string): GuestOp {
  return { run: ["systemctl", "is-active", unit] };
}

/** Whether the probe's answer says active. */
export function serviceActive(result: GuestOpResult): boolean {
  return /^active/m.test(result.run?.stdout ?? "");
}
