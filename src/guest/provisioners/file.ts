/**
 * The file provisioner (Vagrant's `file`): a host file, or a host directory's contents, copied into the guest
 * as the SSH user over the same OpenSSH path rsync folders use (pinned host key, jump through a remote libvirt
 * host). Nothing in the destination is deleted; binary files are copied as they are.
 */
import { posix } from "node:path";
import type { FileProvisioner } from "../../api/types.ts";
import { knownHostsFile } from "../known_hosts.ts";
import { rsyncShell, type RsyncTarget } from "../folders/rsync.ts";
import type { RunResult } from "../session.ts";
import type { GuestStepContext } from "../step_context.ts";
import type { ProvisionerType } from "./provisioner.ts";

/** The rsync command copying `p.source` (a directory's contents when `dir`) to `p.destination`. */
export function fileArgv(
  p: Pick<FileProvisioner, "source" | "destination">,
  dir: boolean,
  to: RsyncTarget,
): string[] {
  const source = dir && !p.source.endsWith("/") ? `${p.source}/` : p.source;
  return [
    "rsync",
    "--archive",
    "--compress",
    "--no-owner",
    "--no-group",
    "-e",
    rsyncShell(to),
    source,
    `${to.dom.spec.ssh.user}@${to.address}:${p.destination}`,
  ];
}

/**
 * Copies the host file or directory `source` to `destination` in the guest as the SSH user (a directory's
 * contents into it, made if missing), output streamed under `label`. Resolves with rsync's (or mkdir's)
 * result; rejects when the source cannot be read.
 */
export async function copyToGuest(
  ctx: GuestStepContext,
  p: Pick<FileProvisioner, "source" | "destination">,
  label: string,
): Promise<RunResult> {
  const info = await Deno.stat(p.source).catch((e) => {
    throw new Error(`${label}: cannot read ${p.source} on this host: ${e.message}`);
  });
  const dir = info.isDirectory;
  const prefix = `domain/${ctx.dom.metadata.name}: ${label}: `;
  const stream = (chunk: string) => ctx.progress(chunk, prefix);
  const made = await ctx.session.run(["mkdir", "-p", dir ? p.destination : posix.dirname(p.destination)], {
    onStderr: stream,
  });
  if (made.code !== 0) return made;
  const knownHosts = knownHostsFile(ctx.home, ctx.dom, ctx.session.hostKey);
  const to = {
    dom: ctx.dom,
    address: ctx.address,
    port: ctx.port,
    keyFile: ctx.keyFile,
    knownHosts,
    jump: ctx.jump,
  };
  return await ctx.runHost(fileArgv(p, dir, to), { onStdout: stream, onStderr: stream });
}

export const fileProvisioner: ProvisionerType<FileProvisioner> = {
  summary: (p) => `file: ${p.source} to ${p.destination}`,
  run: (ctx, p, label) => copyToGuest(ctx, p, label),
};
