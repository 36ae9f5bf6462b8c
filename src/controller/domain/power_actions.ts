/** Carries out a power decision on libvirt: one call, its event, and what libvirt reports after it. */
import type { Domain, DomainDriver } from "../../api/types.ts";
import type { Libvirt } from "../../libvirt/libvirt.ts";
import type { ControllerContext } from "../context.ts";
import type { PowerAction, PowerObserved } from "./power.ts";

/** A failure the guest cannot leave by itself: Ready=False, phase Failed, until the spec changes. */
export interface DomainFailure {
  reason: string;
  message: string;
}

export interface PowerOutcome {
  /** libvirt's state after the action. */
  observed: PowerObserved;
  failure?: DomainFailure;
}

/** Does `action` to the domain; returns libvirt's state after it, and a failure it revealed. */
export async function applyPower(
  ctx: ControllerContext,
  dom: Domain,
  step: { action: PowerAction; observed: PowerObserved; driver: DomainDriver },
): Promise<PowerOutcome> {
  const lv = ctx.libvirtFor(dom);
  const name = dom.metadata.name;
  const { action } = step;
  const event = (reason: string, message: string) => ctx.event(dom, "Normal", reason, message);
  switch (action.type) {
    case "none":
    case "awaitShutdown":
      return { observed: step.observed };
    case "shutdown":
      await lv.domShutdown(name);
      await event("ShuttingDown", `domain "${name}" asked to shut down (ACPI)`);
      return { observed: step.observed };
    case "reportBrokenPause":
      return { observed: step.observed, failure: await brokenPause(lv, name, step) };
    case "start":
      await lv.domStart(name, { paused: action.paused });
      await event("Started", `domain "${name}" started${action.paused ? " paused" : ""}`);
      break;
    case "resume":
      await lv.domResume(name);
      await event("Resumed", `domain "${name}" resumed`);
      break;
    case "suspend":
      await lv.domSuspend(name);
      await event("Suspended", `domain "${name}" suspended`);
      break;
    case "powerOff":
      await lv.domDestroy(name);
      await event(
        "PoweredOff",
        `domain "${name}" powered off${action.afterGrace ? " after the grace period" : ""}`,
      );
      break;
  }
  const observed = await lv.domState(name);
  if (action.type === "start" && (observed.state === "shut off" || observed.state === "crashed")) {
    return {
      observed,
      failure: {
        reason: "GuestDied",
        message:
          `domain "${name}" stopped right after start (${observed.state}, ${observed.reason})${await qemuLogTail(
            lv,
            name,
          )}`,
      },
    };
  }
  return { observed };
}

async function brokenPause(
  lv: Libvirt,
  name: string,
  step: { observed: PowerObserved; driver: DomainDriver },
): Promise<DomainFailure> {
  const qemu = await lv.qemuStatus(name);
  return {
    reason: "GuestPaused",
    message: `domain "${name}" paused by itself (${step.observed.reason}${
      qemu ? `; QEMU status ${qemu}` : ""
    })${
      step.driver === "kvm"
        ? `: this host's KVM cannot run the guest; set spec.driver: qemu to use TCG emulation`
        : ""
    }. lv will not resume it; change the spec or restart it (lv reload ${name}).${await qemuLogTail(
      lv,
      name,
    )}`,
  };
}

/** The end of QEMU's log for a domain on a local libvirt, to say why it died; "" when it cannot be read. */
async function qemuLogTail(lv: Libvirt, name: string): Promise<string> {
  if (!/^qemu:\/\/\/system/.test(lv.uri)) return "";
  try {
    const text = await Deno.readTextFile(`/var/log/libvirt/qemu/${name}.log`);
    const lines = text.trimEnd().split("\n").slice(-3).join("\n");
    return lines ? `; QEMU's log ends:\n${lines}` : "";
  } catch {
    return "";
  }
}
