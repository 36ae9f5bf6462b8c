/** Whether a systemd unit is active in the guest (`systemctl is-active`). Changes nothing in the guest. */
import type { GuestSession } from "../session.ts";

export async function serviceActive(session: GuestSession, unit: string): Promise<boolean> {
  const r = await session.run(["systemctl", "is-active", unit]);
  return /^active/m.test(r.stdout);
}
