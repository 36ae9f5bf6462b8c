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

/** The unit `op` asks about when it is a serviceActiveProbe, else undefined. */
export function probedUnit(op: GuestOp): string | undefined {
  return "run" in op && op.run.length === 3 && op.run[0] === "systemctl" && op.run[1] === "is-active"
    ? op.run[2]
    : undefined;
}

/**
 * Several serviceActiveProbes as one `systemctl is-active UNIT...` (one program started instead of one a
 * unit: ~0.2 s each to a booting TCG guest), and the answer each would have had from its result (a line a
 * unit, in order; a guest without systemctl: none active).
 */
export const servicesActive = {
  probe: (units: string[]): GuestOp => ({ run: ["systemctl", "is-active", ...units], mayFail: true }),
  answers(units: string[], result: GuestOpResult): Map<string, GuestOpResult> {
    const lines = (result.run?.stdout ?? "").split("\n");
    return new Map(units.map((unit, i) => {
      const state = lines[i]?.trim() || "inactive";
      return [unit, {
        ran: true,
        run: { code: state === "active" ? 0 : 3, stdout: `${state}\n`, stderr: "" },
      }];
    }));
  },
};
