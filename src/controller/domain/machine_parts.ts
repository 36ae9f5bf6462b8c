/**
 * The parts of a Domain's definition that come from outside its spec: CD-ROMs resolved to host paths
 * (an ISO file, or a Volume's path), the display password read from its file, and where the serial
 * console is logged (`lv logs`, serial_log.ts).
 *
 * @module
 */

import type { Domain } from "../../api/types.ts";
import type { Libvirt } from "../../libvirt/libvirt.ts";
import type { DomainXmlCdrom } from "../../libvirt/xml/domain_devices_xml.ts";
import type { DomainXmlOptions } from "../../libvirt/xml/domain_xml.ts";
import { type ControllerContext, TerminalError } from "../context.ts";
import { readyVolume } from "./attachments.ts";
import { ensureSerialLog, isLocal } from "./serial_log.ts";

async function cdroms(ctx: ControllerContext, lv: Libvirt, dom: Domain): Promise<DomainXmlCdrom[]> {
  const out: DomainXmlCdrom[] = [];
  for (const [i, cd] of (dom.spec.cdroms ?? []).entries()) {
    const device = cd.device ?? `sd${String.fromCharCode(97 + i)}`;
    if (cd.volume !== undefined) {
      const { vol, path } = await readyVolume(ctx, dom, cd.volume);
      out.push({ path, format: vol.spec.format, device, bus: cd.bus });
      continue;
    }
    const path = cd.path!;
    if (isLocal(lv.uri)) {
      const info = await Deno.stat(path).catch(() => undefined);
      if (!info?.isFile) {
        throw new TerminalError(
          "CdromNotFound",
          `cdroms[${i}].path ${path} ${info ? "is not a file" : "does not exist"} on this host`,
        );
      }
    }
    out.push({ path, format: "raw", device, bus: cd.bus });
  }
  return out;
}

/** The display password from spec.graphics.passwordFile (its first line); never stored or shown. */
async function graphicsPassword(dom: Domain): Promise<string | undefined> {
  const file = dom.spec.graphics?.passwordFile;
  if (file === undefined || dom.spec.graphics?.type === "none") return undefined;
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    throw new TerminalError(
      "GraphicsPasswordUnreadable",
      `graphics.passwordFile ${file} cannot be read: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  const password = text.split("\n")[0].replace(/\r$/, "");
  if (password === "") {
    throw new TerminalError("GraphicsPasswordUnreadable", `graphics.passwordFile ${file} is empty`);
  }
  return password;
}

/** The options of the domain XML that come from outside the spec (see the module comment). */
export async function machineParts(
  ctx: ControllerContext,
  dom: Domain,
): Promise<Pick<DomainXmlOptions, "cdroms" | "graphicsPassword" | "serialLog">> {
  const lv = ctx.libvirtFor(dom);
  return {
    cdroms: await cdroms(ctx, lv, dom),
    graphicsPassword: await graphicsPassword(dom),
    serialLog: await ensureSerialLog(ctx, dom),
  };
}
