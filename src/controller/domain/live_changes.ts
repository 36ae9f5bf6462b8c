/**
 * What a running domain takes without a restart, out of what differs between the definition the spec asks
 * for and the domain as it runs:
 * - memory within the running maximum (`<memory>`): the balloon target, `virsh setmem --live --config`
 *   (the guest gives memory back or takes it only with a virtio balloon driver; libvirt's live XML then
 *   shows what the guest did, not the target, so a memory difference within the maximum is never pending);
 * - vCPUs added within the running maximum (`<vcpu>`): hot-plug, `virsh setvcpus --live --config`. Fewer
 *   vCPUs wait for the next boot: QEMU 7.2 refuses to unplug a vCPU of the default (qemu64) model
 *   ("acpi: device unplug request for not supported device type"), and elsewhere it needs the guest;
 * - an interface's link state: `virsh domif-setlink`.
 * Everything else waits for the next boot (RestartRequired). Live changes are made in the pass that
 * redefines the domain with them.
 *
 * libvirt expands a custom CPU model when it starts the domain (check='full' with the model's own
 * features: hypervisor and lahf_lm for qemu64 under TCG), so only the CPU features the definition names are
 * compared; a feature removed from the spec of a running domain is therefore not reported as pending.
 *
 * @module
 */
import type { Domain } from "../../api/types.ts";
import { VirshError } from "../../libvirt/virsh.ts";
import { domainDiff, type DomainXmlState } from "../../libvirt/xml/domain_xml.ts";
import type { ControllerContext } from "../context.ts";

/** What {@linkcode applyLiveChanges} compares. */
export interface LiveChangeInput {
  /** The definition the spec asks for. */
  want: DomainXmlState;
  /** The running domain's (live) definition. */
  live: DomainXmlState;
  /** Paths this pass changed in the persistent definition. */
  changed: readonly string[];
}

const LINK_PATH = /^interfaces\[([0-9a-f:]+)\]\.linkState$/;

/**
 * Applies to the running domain what it can take live and returns the paths (`domainDiff`'s) that still
 * differ and wait for the next boot.
 */
export async function applyLiveChanges(
  ctx: ControllerContext,
  dom: Domain,
  input: LiveChangeInput,
): Promise<string[]> {
  const { want, live, changed } = input;
  const lv = ctx.libvirtFor(dom);
  const name = dom.metadata.name;
  const pending: string[] = [];
  const done: string[] = [];
  for (const path of domainDiff(want, asDefined(live, want))) {
    const link = LINK_PATH.exec(path);
    if (path === "currentMemoryMiB" && want.currentMemoryMiB <= live.memoryMiB) {
      if (!changed.includes(path)) continue;
      await lv.domSetMemory(name, want.currentMemoryMiB);
      done.push(`memory ${want.currentMemoryMiB} MiB`);
    } else if (path === "vcpus" && want.vcpus > live.vcpus && want.vcpus <= live.maxVcpus) {
      const refused = changed.includes(path) ? await refusal(() => lv.domSetVcpus(name, want.vcpus)) : "";
      if (refused !== undefined) {
        pending.push(path);
        if (refused) {
          await ctx.event(dom, "Warning", "LiveUpdateRefused", `${refused}; at the next boot instead`);
        }
        continue;
      }
      done.push(`${want.vcpus} vCPUs`);
    } else if (link && live.interfaces.some((i) => i.mac === link[1])) {
      const state = want.interfaces.find((i) => i.mac === link[1])?.linkState ?? "up";
      await lv.domSetLink(name, link[1], state);
      done.push(`link of ${link[1]} ${state}`);
    } else {
      pending.push(path);
    }
  }
  if (done.length > 0) {
    await ctx.event(dom, "Normal", "LiveUpdated", `domain "${name}" changed live: ${done.join(", ")}`);
  }
  return pending;
}

/** The running domain without the CPU features libvirt added at start (those `want` does not name). */
function asDefined(live: DomainXmlState, want: DomainXmlState): DomainXmlState {
  const named = new Set(want.cpuFeatures.map((f) => f.slice(f.indexOf(":") + 1)));
  return { ...live, cpuFeatures: live.cpuFeatures.filter((f) => named.has(f.slice(f.indexOf(":") + 1))) };
}

/** Runs a live change: undefined when done, libvirt's message when libvirt or QEMU refuses it. */
async function refusal(fn: () => Promise<void>): Promise<string | undefined> {
  try {
    await fn();
    return undefined;
  } catch (e) {
    if (e instanceof VirshError && !e.notFound) return e.message;
    throw e;
  }
}
