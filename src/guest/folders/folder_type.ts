/** A synced folder type (rsync, nfs, 9p, virtiofs): one file a type, listed in folders.ts. */
import type { SyncedFolder } from "../../api/types.ts";
import type { GuestStepContext } from "../step_context.ts";

export interface FolderType {
  /**
   * Makes the guest's folders of this type match `folders` (the Domain's synced folders of this type, in
   * spec order; possibly none, so that what an earlier spec set up is undone where the type keeps host-side
   * state). Records an event per folder; rejects naming the folder that failed. Idempotent.
   */
  sync(ctx: GuestStepContext, folders: SyncedFolder[]): Promise<void>;
}
