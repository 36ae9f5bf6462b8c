/**
 * The parts of a Domain's definition that come from outside its spec: CD-ROMs resolved to host paths
 * (an ISO file, or a Volume's path), the display password read from its file, and where the serial
 * console is logged (`lv logs`).
 *
 * @module
 */

import { dirname, join } from "node:path";
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
 * The file the serial console of domain `name` is logged to, in lv's own directory ($LV_HOME/logs) so lv
 * can make it before libvirt's log daemon opens it; only where libvirt runs on this machine (a remote
 * host's files are not lv's to make or read). Undefined otherwise: no log.
 */
export function serialLogPath(uri: string, home: string, name: string): string | undefined {
  return isLocal(uri) ? join(home, "logs", `${name}-serial0.log`) : undefined;
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

/** Makes the log's directory (0700); the log itself when that works, else undefined (no log). */
async function serialLogDir(path: string | undefined): Promise<string | undefined> {
  if (path === undefined) return undefined;
  try {
    await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
    return path;
  } catch {
    return undefined;
  }
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
    serialLog: await serialLogDir(serialLogPath(lv.uri, ctx.home, dom.metadata.name)),
  };
}
