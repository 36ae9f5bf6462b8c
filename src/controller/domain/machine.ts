/**
 * The Domain controller's hooks for machine options and networks lv does not own:
 * - before the domain is defined: host checks (machine_checks.ts) and the parts from outside the spec
 *   (machine_parts.ts);
 * - before it is started: its fixed graphics port is free;
 * - while it runs: the display libvirt gave it (status.graphics);
 * - when it is deleted: its serial log (libvirt removes NVRAM and TPM state with the definition).
 *
 * @module
 */

import type { Domain, DomainDriver, DomainStatus } from "../../api/types.ts";
import type { Libvirt } from "../../libvirt/libvirt.ts";
import { liveGraphics } from "../../libvirt/xml/domain_devices_xml.ts";
import type { DomainXmlOptions } from "../../libvirt/xml/domain_xml.ts";
import { childOf, parseXml } from "../../libvirt/xml/parse_xml.ts";
import type { ControllerContext } from "../context.ts";
import {
  checkGraphicsPort,
  checkHostDevices,
  checkMachineSupport,
  checkUnownedNetworks,
} from "./machine_checks.ts";
import { machineParts } from "./machine_parts.ts";
import { isLocal, removeSerialLog } from "./serial_log.ts";

/** Checks the host and returns the domain XML options that come from outside the spec. Throws a condition. */
export async function prepareMachine(
  ctx: ControllerContext,
  dom: Domain,
  driver: DomainDriver,
): Promise<Pick<DomainXmlOptions, "cdroms" | "graphicsPassword" | "serialLog">> {
  const lv = ctx.libvirtFor(dom);
  await checkUnownedNetworks(lv, dom);
  await checkMachineSupport(lv, dom, driver);
  await checkHostDevices(lv, dom);
  return await machineParts(ctx, dom);
}

/** Checks made right before a start (see machine_checks.ts). */
export function beforeStart(lv: Libvirt, dom: Domain): void {
  checkGraphicsPort(lv, dom);
}

/** The display of a running domain (its port as libvirt chose it); undefined when it has none or is off. */
export async function observeGraphics(
  lv: Libvirt,
  dom: Domain,
  running: boolean,
): Promise<DomainStatus["graphics"]> {
  if (!running || (dom.spec.graphics?.type ?? "none") === "none") return undefined;
  return liveGraphics(childOf(parseXml(await lv.domLiveXml(dom.metadata.name)), "devices"));
}

/**
 * After lv undefined its domain: removes what was made beside the definition: the serial log (a file here
 * or a volume on a remote host), and on a local libvirt the NVRAM at libvirt's default path should
 * `undefine --nvram` have left it (a libvirt that resolves the firmware only at start does not know the
 * path in the inactive definition).
 */
export async function cleanupMachine(ctx: ControllerContext, lv: Libvirt, dom: Domain): Promise<void> {
  await removeSerialLog(ctx, lv, dom);
  if (!isLocal(lv.uri)) return;
  if (dom.spec.firmware === "efi" && /^qemu:\/\/\/system/.test(lv.uri)) {
    await Deno.remove(`/var/lib/libvirt/qemu/nvram/${dom.metadata.name}_VARS.fd`).catch(() => {});
  }
}
