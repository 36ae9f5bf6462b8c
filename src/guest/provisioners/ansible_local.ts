/**
 * The ansible_local provisioner (Vagrant's `ansible_local`): ansible-playbook runs inside the guest, as the
 * SSH user, in provisioningPath (a synced folder's target, or where a file provisioner put the playbook),
 * on an inventory lv uploads holding this guest (connection local) with its groups and host vars. lv
 * installs nothing unless `install: true`.
 */
import type { AnsibleLocalProvisioner } from "../../api/types.ts";
import type { GuestStepContext } from "../step_context.ts";
import { playbookOptions } from "./ansible.ts";
import { requireTool } from "./guest_tool.ts";
import type { ProvisionerType } from "./provisioner.ts";

/** The guest's inventory: this guest only, reached without SSH. */
export function localInventory(ctx: GuestStepContext, p: AnsibleLocalProvisioner): unknown {
  const name = ctx.dom.metadata.name;
  return {
    all: {
      hosts: { [name]: { ansible_connection: "local", ...p.hostVars } },
      children: Object.fromEntries(p.groups.map((g) => [g, { hosts: { [name]: {} } }])),
    },
  };
}

/** The guest command: ansible-playbook in provisioningPath (coreutils env -C) with the uploaded inventory. */
export function ansibleLocalArgv(p: AnsibleLocalProvisioner, inventory: string, name: string): string[] {
  return [
    "env",
    "-C",
    p.provisioningPath,
    "ansible-playbook",
    "--inventory",
    inventory,
    ...playbookOptions(p, name),
    p.playbook,
  ];
}

export const ansibleLocalProvisioner: ProvisionerType<AnsibleLocalProvisioner> = {
  summary: (p) => `ansible_local: ${p.playbook} in ${p.provisioningPath}`,

  async run(ctx, p, label) {
    const tool = {
      program: "ansible-playbook",
      packages: {
        "apt-get": "ansible",
        dnf: "ansible-core",
        yum: "ansible-core",
        zypper: "ansible",
        apk: "ansible",
      },
    };
    await requireTool(ctx, label, { tool, sudo: false, install: p.install });
    const inventory = `/tmp/lv-ansible-${ctx.dom.metadata.uid}.json`;
    await ctx.session.putFile(inventory, JSON.stringify(localInventory(ctx, p), null, 2) + "\n", {
      mode: 0o600,
    })
      .catch((e) => {
        throw new Error(`cannot copy ${label}'s inventory to the guest: ${e.message}`);
      });
    const prefix = `domain/${ctx.dom.metadata.name}: ${label}: `;
    const stream = (chunk: string) => ctx.progress(chunk, prefix);
    const argv = ansibleLocalArgv(p, inventory, ctx.dom.metadata.name);
    return await ctx.session.run(argv, { onStdout: stream, onStderr: stream });
  },
};
