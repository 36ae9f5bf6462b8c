/**
 * Rules of Domain.spec.syncedFolders that relate fields (unique targets: validate_domain.ts): the device folders' options (9p,
 * virtiofs) given only to them, virtiofs's passthrough and the shared memory it needs (filled in when the
 * spec says nothing; a private backing is an error).
 *
 * @module
 */

import { DEFAULT_SYNCED_FOLDER_TYPE } from "./defaults.ts";
import type { Loose } from "./loose.ts";
import type { PathSegment, ProblemCollector } from "./problem.ts";
import type { DomainSpec, SyncedFolder } from "./types.ts";

/** Folder types that are devices of the domain's definition (mounted in the guest, not copied or served). */
export const DEVICE_FOLDER_TYPES: readonly SyncedFolder["type"][] = ["9p", "virtiofs"];

/** Whether a folder is a device of the domain's definition. */
export function isDeviceFolder(folder: Pick<SyncedFolder, "type"> | undefined): boolean {
  return folder !== undefined && DEVICE_FOLDER_TYPES.includes(folder.type);
}

/** Checks a walked Domain's synced folders; fills in the memory backing virtiofs needs. */
export function checkFolders(spec: Loose<DomainSpec>, r: ProblemCollector): void {
  let virtiofs: number | undefined;
  (spec.syncedFolders ?? []).forEach((folder, i) => {
    if (folder === undefined) return;
    const path: PathSegment[] = ["spec", "syncedFolders", i];
    const type = folder.type ?? DEFAULT_SYNCED_FOLDER_TYPE;
    if (!DEVICE_FOLDER_TYPES.includes(type as SyncedFolder["type"])) {
      for (const name of ["accessmode", "readonly"] as const) {
        if (folder[name] !== undefined) {
          r.report([...path, name], { message: "applies only to type: 9p and type: virtiofs", key: true });
        }
      }
    }
    if (type === "virtiofs") {
      virtiofs ??= i;
      if (folder.accessmode !== undefined && folder.accessmode !== "passthrough") {
        r.report([...path, "accessmode"], {
          message: "must be passthrough for type: virtiofs (virtiofsd maps no ownership)",
          value: folder.accessmode,
        });
      }
    }
  });
  if (virtiofs === undefined) return;
  if (spec.memoryBacking?.access === "private") {
    r.report(["spec", "memoryBacking", "access"], {
      message: "must be shared: virtiofs (syncedFolders[" + virtiofs + "]) needs memory virtiofsd can map",
      value: "private",
    });
    return;
  }
  spec.memoryBacking = { ...spec.memoryBacking, access: "shared" };
  spec.memoryBacking.source ??= "memfd";
}
