/**
 * The parts of a Domain's definition that come from outside its spec: CD-ROMs resolved to host paths
 * (an ISO file, or a Volume's path), the display password read from its file, and where the serial
 * console is logged (`lv logs`).
 *
 * @module
 */

import type { Domain } from "../../api/types.ts";
import type { Libvirt } from "../../libvirt/libvirt.ts";
import type { DomainXmlCdrom } from "../../libvirt/xml/domain_devices_xml.ts";
import type { DomainXmlOptions } from "../../libvirt/xml/domain_xml.ts";
import { type ControllerContext, TerminalError } from "../context.ts";
import { readyVolume } from "./attachments.ts";

/** Whether the connection's libvirt runs on this machine (its files are ours to look at). */
export function isLocal(uri: string): boolean {
  return !/^[a-z0-9+]+:\/\/[^/]/i.test(uri);
}

/**
 * The file the serial console of domain `name` is logged to: beside libvirt's own QEMU log
 * (/var/log/libvirt/qemu for qemu:///system, ~/.cache/libvirt/qemu/log for qemu:///session).
 * Undefined for a session on another host (its home is not known here).
 */
export function serialLogPath(uri: string, name: string): string | undefined {
  const file = `${name}-serial0.log`;
  if (/^qemu(\+\w+)?:\/\/[^/]*\/system/.test(uri)) return `/var/log/libvirt/qemu/${file}`;
  if (/^qemu:\/\/\/session/.test(uri)) {
    const home = Deno.env.get("HOME");
    return home ? `${home}/.cache/libvirt/qemu/log/${file}` : undefined;
  }
  return undefined;
}

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
    serialLog: serialLogPath(lv.uri, dom.metadata.name),
  };
}
