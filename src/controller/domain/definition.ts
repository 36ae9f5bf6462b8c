/**
 * The Domain's libvirt definition: the XML built from the spec and what it attaches, compared with what
 * libvirt has, defined when missing or different. Changes to a running domain take effect at its next boot.
 */
import { getCondition } from "../../api/conditions.ts";
import type { Domain, DomainDriver } from "../../api/types.ts";
import type { Libvirt } from "../../libvirt/libvirt.ts";
import {
  domainDiff,
  domainStateFromSpec,
  domainXml,
  type DomainXmlDisk,
  type DomainXmlInterface,
  type DomainXmlOptions,
  type DomainXmlState,
  parseDomainXml,
} from "../../libvirt/xml/domain_xml.ts";
import type { ControllerContext } from "../context.ts";
import { applyLiveChanges } from "./live_changes.ts";
import { restartFields } from "./restart_fields.ts";

export interface Definition {
  options: DomainXmlOptions;
  /** The definition the spec asks for, as parsed XML is compared. */
  want: DomainXmlState;
  /** What this pass changed in an existing definition (field paths); empty when nothing. */
  changed: string[];
}

/** The domain type: the spec's, else kvm where the connection offers it, else qemu (TCG). */
export async function resolveDriver(lv: Libvirt, dom: Domain): Promise<DomainDriver> {
  if (dom.spec.driver) return dom.spec.driver;
  return await lv.kvmOffered() ? "kvm" : "qemu";
}

/** Defines the domain when libvirt lacks it or has it different from the spec. */
export async function ensureDefinition(
  ctx: ControllerContext,
  dom: Domain,
  parts: {
    existing?: DomainXmlState;
    disks: DomainXmlDisk[];
    interfaces: DomainXmlInterface[];
    /** Options from outside the spec: CD-ROM paths, display password, serial log (machine.ts). */
    machine?: Pick<DomainXmlOptions, "cdroms" | "graphicsPassword" | "serialLog">;
  },
): Promise<Definition> {
  const lv = ctx.libvirtFor(dom);
  const name = dom.metadata.name;
  const options: DomainXmlOptions = {
    driver: await resolveDriver(lv, dom),
    disks: parts.disks,
    interfaces: parts.interfaces,
    uuid: parts.existing?.uuid,
    ...parts.machine,
  };
  const want = domainStateFromSpec(dom, options);
  if (!parts.existing) {
    await lv.domDefine(domainXml(dom, options));
    await ctx.event(
      dom,
      "Normal",
      "Defined",
      `domain "${name}" defined (${options.driver}, ${dom.spec.cpus} cpu, ${dom.spec.memory} MiB)`,
    );
    return { options, want, changed: [] };
  }
  const changed = domainDiff(want, parts.existing);
  if (changed.length > 0) {
    await lv.domDefine(domainXml(dom, options));
    await ctx.event(dom, "Normal", "Updated", `domain "${name}" redefined: ${changed.join(", ")} changed`);
  }
  return { options, want, changed };
}

/**
 * What a running domain still runs with that its definition changed (spec field paths), once what it takes
 * live is applied (live_changes.ts): read from the live XML when this pass changed the definition or
 * while RestartRequired is set.
 */
export async function pendingRestart(
  ctx: ControllerContext,
  dom: Domain,
  definition: Definition,
  running: boolean,
): Promise<string[]> {
  if (!running) return [];
  const { want, changed } = definition;
  if (changed.length === 0 && getCondition(dom.status, "RestartRequired")?.status !== "True") return [];
  const xml = await ctx.libvirtFor(dom).domLiveXml(dom.metadata.name, { securityInfo: true });
  return restartFields(
    await applyLiveChanges(ctx, dom, { want, live: parseDomainXml(xml), changed }),
    dom.spec,
  );
}
