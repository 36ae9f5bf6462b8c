/**
 * apply's check that 9p and virtiofs folders go to a Domain on this machine's libvirt: the folder is a device
 * reading a host directory, and a remote libvirt host would read its own. Reported at the folder's file:line.
 */
import { formatProblem, positionOf } from "../api/problem.ts";
import type { AnyResource } from "../api/types.ts";
import { isDeviceFolder } from "../api/validate_folders.ts";
import { isRemoteUri } from "../config/ssh_uri.ts";
import { refString } from "../store/store.ts";
import { InvalidInputError } from "./errors.ts";

/** Fails naming every 9p or virtiofs folder of a Domain whose libvirt (`uriOf`) is on another machine. */
export function refuseRemoteDeviceFolders(
  resources: AnyResource[],
  uriOf: (obj: AnyResource) => string,
): void {
  const problems: string[] = [];
  for (const obj of resources) {
    if (obj.kind !== "Domain") continue;
    obj.spec.syncedFolders.forEach((folder, i) => {
      if (!isDeviceFolder(folder)) return;
      const uri = uriOf(obj);
      if (!isRemoteUri(uri)) return;
      const path = `spec.syncedFolders[${i}].type`;
      const at = positionOf(obj, path) ?? { file: "", line: 0, column: 0 };
      problems.push(formatProblem({
        ...at,
        path,
        message: `${refString(obj)}: a ${folder.type} folder needs libvirt on this machine; ` +
          `${uri} is on another host (use type: rsync)`,
      }));
    });
  }
  if (problems.length > 0) throw new InvalidInputError(problems);
}
