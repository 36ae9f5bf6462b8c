/**
 * The synced folder types by `type`, synced in this order (9p and virtiofs: device_folders.ts). A new type is a file beside rsync.ts
 * implementing FolderType, its name added to SyncedFolder["type"], and one entry here.
 */
import type { SyncedFolder } from "../../api/types.ts";
import type { GuestStepContext } from "../step_context.ts";
import type { FolderType } from "./folder_type.ts";
import { ninePFolders, virtiofsFolders } from "./device_folders.ts";
import { nfsFolders } from "./nfs.ts";
import { rsyncFolders } from "./rsync.ts";

export const FOLDER_TYPES: Record<SyncedFolder["type"], FolderType> = {
  rsync: rsyncFolders,
  nfs: nfsFolders,
  "9p": ninePFolders,
  virtiofs: virtiofsFolders,
};

/** Syncs every folder type, each with the Domain's folders of that type (none too: see FolderType.sync). */
export async function syncFolders(ctx: GuestStepContext): Promise<void> {
  for (const [type, folderType] of Object.entries(FOLDER_TYPES)) {
    await folderType.sync(ctx, ctx.dom.spec.syncedFolders.filter((f) => f.type === type));
  }
}
