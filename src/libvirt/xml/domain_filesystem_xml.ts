/**
 * The `<filesystem>` devices of 9p and virtiofs synced folders, as vagrant-libvirt writes them: 9p is
 * `<filesystem type='mount' accessmode=...>` with `<driver type='path' wrpolicy='immediate'/>`, virtiofs the
 * same with `<driver type='virtiofs'/>` (libvirt starts virtiofsd beside QEMU; the domain needs shared memory,
 * which validation fills in). The mount tag is derived from the guest path, which is unique within a Domain, so
 * the guest (src/guest/folders/device_folders.ts) mounts the tag its folder has. Read back keyed by tag for
 * drift detection.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { SyncedFolder } from "../../api/types.ts";
import { el, type XmlElement } from "./escape.ts";
import { attrOf, childOf, childrenOf, type XmlNode } from "./parse_xml.ts";

/** libvirt's accessmode when a folder names none (vagrant-libvirt's default). */
export const DEFAULT_FOLDER_ACCESSMODE = "passthrough";

/** The mount tag of the folder at `target` in the guest: `lv` and 24 hex digits (9p allows 31 bytes). */
export function mountTag(target: string): string {
  return `lv${createHash("sha256").update(target).digest("hex").slice(0, 24)}`;
}

/** A `<filesystem>` for each 9p and virtiofs folder, in spec order. */
export function filesystemElements(folders: readonly SyncedFolder[]): XmlElement[] {
  return folders.filter((f) => f.type === "9p" || f.type === "virtiofs").map((f) =>
    el(
      "filesystem",
      { type: "mount", accessmode: f.accessmode ?? DEFAULT_FOLDER_ACCESSMODE },
      f.type === "9p"
        ? el("driver", { type: "path", wrpolicy: "immediate" })
        : el("driver", { type: "virtiofs" }),
      el("source", { dir: f.source }),
      el("target", { dir: mountTag(f.target) }),
      // libvirt 9.0 refuses a read-only virtiofs: the guest mounts it ro instead
      f.type === "9p" && f.readonly === true && el("readonly"),
    )
  );
}

/** The `<filesystem type='mount'>` devices of a `<devices>`, keyed `[tag]`: "driver/accessmode/source/ro|rw". */
export function parseFilesystems(devices: XmlNode | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const fs of childrenOf(devices, "filesystem")) {
    if ((attrOf(fs, "type") ?? "mount") !== "mount") continue;
    const driver = attrOf(childOf(fs, "driver"), "type") ?? "path";
    const access = attrOf(fs, "accessmode") ?? DEFAULT_FOLDER_ACCESSMODE;
    const source = attrOf(childOf(fs, "source"), "dir") ?? "";
    const ro = childOf(fs, "readonly") ? "ro" : "rw";
    out[`[${attrOf(childOf(fs, "target"), "dir") ?? ""}]`] = `${driver}/${access}/${source}/${ro}`;
  }
  return out;
}
