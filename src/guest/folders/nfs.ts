/** NFS synced folders: exported by this host to the guest's address, mounted from the network's gateway address. */
import { type NfsExport, syncExports } from "../nfs_exports.ts";
import { check } from "../session.ts";
import type { FolderType } from "./folder_type.ts";

export const nfsFolders: FolderType = {
  async sync(ctx, folders) {
    const { dom, address } = ctx;
    if (folders.length > 0 && ctx.jump) {
      throw new Error(
        `NFS folders need libvirt on this machine; domain/${dom.metadata.name} runs on ${ctx.jump.host}: use type: rsync`,
      );
    }
    const hostAddress = ctx.hostAddress;
    if (folders.length > 0 && !hostAddress) {
      throw new Error(`NFS folders need the guest's SSH address (${address}) to be on a Network lv manages`);
    }
    const exports: NfsExport[] = [];
    for (const f of folders) {
      const info = await Deno.stat(f.source);
      exports.push({ path: f.source, client: address, uid: info.uid ?? 0, gid: info.gid ?? 0 });
    }
    await syncExports(dom.metadata.uid, exports, ctx.runHost);
    for (const f of folders) {
      if ((await ctx.session.run(["mountpoint", "-q", f.target])).code !== 0) {
        await check(ctx.session, ["mkdir", "-p", f.target], { sudo: true });
        await check(ctx.session, [
          "mount",
          "-t",
          "nfs",
          "-o",
          "vers=4",
          `${hostAddress}:${f.source}`,
          f.target,
        ], {
          sudo: true,
        });
      }
      await ctx.event("Mounted", `${f.source} mounted on ${f.target} (nfs from ${hostAddress})`);
    }
  },
};
