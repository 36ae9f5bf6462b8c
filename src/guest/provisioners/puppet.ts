/**
 * The puppet provisioner (Vagrant's `puppet`, apply mode): manifestsPath (and modulePath) copied from the host
 * into the guest, then `puppet apply` of manifestFile as root with the facts in FACTER_ variables. With
 * --detailed-exitcodes, 2 means "applied changes": a success.
 */
import type { PuppetProvisioner } from "../../api/types.ts";
import { copyToGuest } from "./file.ts";
import { requireTool } from "./guest_tool.ts";
import type { ProvisionerType } from "./provisioner.ts";

/** The guest command applying the manifest copied under `stage`. */
export function puppetArgv(p: PuppetProvisioner, stage: string): string[] {
  return [
    "env",
    ...Object.entries(p.facter).map(([k, v]) => `FACTER_${k}=${v}`),
    "puppet",
    "apply",
    "--color=false",
    "--detailed-exitcodes",
    ...(p.modulePath ? [`--modulepath=${stage}/modules`] : []),
    ...p.options,
    `${stage}/manifests/${p.manifestFile}`,
  ];
}

export const puppetProvisioner: ProvisionerType<PuppetProvisioner> = {
  summary: (p) => `puppet: ${p.manifestFile}`,

  async run(ctx, p, label) {
    await requireTool(ctx, label, { tool: { program: "puppet" }, sudo: true });
    const stage = `/tmp/lv-puppet-${ctx.dom.metadata.uid}`;
    for (const [source, dir] of [[p.manifestsPath, "manifests"], [p.modulePath, "modules"]]) {
      if (source === undefined) continue;
      const copied = await copyToGuest(ctx, { source, destination: `${stage}/${dir}` }, label);
      if (copied.code !== 0) return copied;
    }
    const prefix = `domain/${ctx.dom.metadata.name}: ${label}: `;
    const stream = (chunk: string) => ctx.progress(chunk, prefix);
    const r = await ctx.session.run(puppetArgv(p, stage), { sudo: true, onStdout: stream, onStderr: stream });
    return r.code === 2 ? { ...r, code: 0 } : r;
  },
};
