/**
 * The salt provisioner (Vagrant's `salt`, masterless): statesPath (the file root) and minionConfig copied from
 * the host into the guest, then `salt-call --local` as root: the listed states (state.apply), or the
 * highstate, with the pillar on the command line; --retcode-passthrough makes a failed state a failure.
 */
import type { SaltProvisioner } from "../../api/types.ts";
import { copyToGuest } from "./file.ts";
import { requireTool } from "./guest_tool.ts";
import type { ProvisionerType } from "./provisioner.ts";

/** The guest command running the states copied under `stage`. */
export function saltArgv(p: SaltProvisioner, stage: string): string[] {
  return [
    "salt-call",
    "--local",
    "--retcode-passthrough",
    `--log-level=${p.logLevel}`,
    ...(p.minionConfig ? [`--config-dir=${stage}/config`] : []),
    ...(p.statesPath ? [`--file-root=${stage}/states`] : []),
    ...p.saltCallArgs,
    ...(p.states.length > 0 ? ["state.apply", p.states.join(",")] : ["state.highstate"]),
    ...(Object.keys(p.pillar).length > 0 ? [`pillar=${JSON.stringify(p.pillar)}`] : []),
  ];
}

export const saltProvisioner: ProvisionerType<SaltProvisioner> = {
  summary: (p) => `salt: ${p.states.length > 0 ? p.states.join(",") : "highstate"}`,

  async run(ctx, p, label) {
    await requireTool(ctx, label, { tool: { program: "salt-call" }, sudo: true });
    const stage = `/tmp/lv-salt-${ctx.dom.metadata.uid}`;
    const copies = [
      ...(p.statesPath ? [{ source: p.statesPath, destination: `${stage}/states` }] : []),
      ...(p.minionConfig ? [{ source: p.minionConfig, destination: `${stage}/config/minion` }] : []),
    ];
    for (const copy of copies) {
      const copied = await copyToGuest(ctx, copy, label);
      if (copied.code !== 0) return copied;
    }
    const prefix = `domain/${ctx.dom.metadata.name}: ${label}: `;
    const stream = (chunk: string) => ctx.progress(chunk, prefix);
    return await ctx.session.run(saltArgv(p, stage), { sudo: true, onStdout: stream, onStderr: stream });
  },
};
