/** rsync synced folders: copied from this host into the guest over SSH with the pinned host key. */
import type { Domain, SyncedFolder } from "../../api/types.ts";
import type { JumpHost } from "../../config/ssh_transport.ts";
import { hostAlias, knownHostsFile, opensshOptions } from "../known_hosts.ts";
import { check, tail } from "../session.ts";
import { shellQuote } from "../shell.ts";
import type { FolderType } from "./folder_type.ts";

export interface RsyncTarget {
  dom: Domain;
  address: string;
  /** The SSH port with `address` (api/ssh_endpoint.ts). */
  port: number;
  keyFile: string;
  knownHosts: string;
  jump?: JumpHost;
}

/** rsync's `-e` command: OpenSSH with the pinned host key, through the libvirt host when it is remote. */
export function rsyncShell(to: RsyncTarget): string {
  const { dom } = to;
  return ["ssh", ...opensshOptions(to.keyFile, to.knownHosts, hostAlias(dom), to.port, to.jump)]
    .map(shellQuote).join(" ");
}

/** The rsync command copying `folder` into the guest (contents of the source into the target, extra files deleted). */
export function rsyncArgv(folder: SyncedFolder, to: RsyncTarget): string[] {
  const { dom } = to;
  return [
    "rsync",
    "--archive",
    "--compress",
    "--delete",
    "--no-owner",
    "--no-group",
    "--timeout=120", // no data either way for 2 minutes: rsync fails instead of waiting forever
    "--rsync-path=sudo rsync",
    "-e",
    rsyncShell(to),
    ...folder.exclude.map((e) => `--exclude=${e}`),
    folder.source.endsWith("/") ? folder.source : `${folder.source}/`,
    `${dom.spec.ssh.user}@${to.address}:${folder.target}`,
  ];
}

export const rsyncFolders: FolderType = {
  async sync(ctx, folders) {
    if (folders.length === 0) return;
    const { dom } = ctx;
    const knownHosts = knownHostsFile(ctx.home, dom, ctx.session.hostKey);
    const to = {
      dom,
      address: ctx.address,
      port: ctx.port,
      keyFile: ctx.keyFile,
      knownHosts,
      jump: ctx.jump,
    };
    for (const folder of folders) {
      await check(ctx.session, ["mkdir", "-p", folder.target], { sudo: true });
      await check(ctx.session, ["chown", dom.spec.ssh.user, folder.target], { sudo: true });
      const out = await ctx.runHost(rsyncArgv(folder, to));
      if (out.code !== 0) {
        throw new Error(`rsync ${folder.source} to ${folder.target}: ${tail(out.stderr, 5)}`);
      }
      await ctx.event("Synced", `${folder.source} synced to ${folder.target} (rsync)`);
    }
  },
};
