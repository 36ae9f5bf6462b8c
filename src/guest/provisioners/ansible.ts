/**
 * The ansible provisioner (Vagrant's `ansible`): ansible-playbook runs on this host against the guest, with
 * an inventory lv writes ($LV_HOME/ansible/UID.json, JSON being YAML: no quoting to get wrong) holding the
 * address, port, user, key, the pinned host key and the jump through a remote libvirt host, the Domain's
 * groups and host vars.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AnsibleProvisioner } from "../../api/types.ts";
import { hostAlias, knownHostsFile, opensshOptions } from "../known_hosts.ts";
import { shellQuote } from "../shell.ts";
import type { GuestStepContext } from "../step_context.ts";
import type { ProvisionerType } from "./provisioner.ts";

/** The inventory of the Domain's guest, as ansible reads it (a YAML inventory written as JSON). */
export function ansibleInventory(ctx: GuestStepContext, p: AnsibleProvisioner, knownHosts: string): unknown {
  const { dom } = ctx;
  const ssh = opensshOptions(ctx.keyFile, knownHosts, hostAlias(dom), dom.spec.ssh.port, ctx.jump);
  // -p and -i are ansible_port and the key file: ansible passes these options to sftp and scp too.
  const common = ssh.filter((_, i) => !["-p", "-i"].includes(ssh[i]) && !["-p", "-i"].includes(ssh[i - 1]));
  const name = dom.metadata.name;
  return {
    all: {
      hosts: {
        [name]: {
          ansible_host: ctx.address,
          ansible_port: dom.spec.ssh.port,
          ansible_user: dom.spec.ssh.user,
          ansible_ssh_private_key_file: ctx.keyFile,
          ansible_ssh_common_args: common.map(shellQuote).join(" "),
          ...p.hostVars,
        },
      },
      children: Object.fromEntries(p.groups.map((g) => [g, { hosts: { [name]: {} } }])),
    },
  };
}

/** The ansible-playbook command with the inventory file `inventory`. */
export function ansibleArgv(p: AnsibleProvisioner, inventory: string): string[] {
  return [
    "ansible-playbook",
    "--inventory",
    inventory,
    ...(p.limit !== undefined ? ["--limit", p.limit] : []),
    ...(p.tags.length > 0 ? ["--tags", p.tags.join(",")] : []),
    ...(Object.keys(p.extraVars).length > 0 ? ["--extra-vars", JSON.stringify(p.extraVars)] : []),
    ...(p.verbose ? ["-v"] : []),
    p.playbook,
  ];
}

export const ansibleProvisioner: ProvisionerType<AnsibleProvisioner> = {
  summary: (p) => `ansible: ${p.playbook}`,

  async run(ctx, p, label) {
    const knownHosts = knownHostsFile(ctx.home, ctx.dom, ctx.session.hostKey);
    const dir = join(ctx.home, "ansible");
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const inventory = join(dir, `${ctx.dom.metadata.uid}.json`);
    writeFileSync(inventory, JSON.stringify(ansibleInventory(ctx, p, knownHosts), null, 2) + "\n", {
      mode: 0o600,
    });
    const prefix = `domain/${ctx.dom.metadata.name}: ${label}: `;
    const stream = (chunk: string) => ctx.progress(chunk, prefix);
    return await ctx.runHost(ansibleArgv(p, inventory), { onStdout: stream, onStderr: stream }).catch((e) => {
      throw new Error(`${label}: cannot run ansible-playbook on this host: ${e.message}`);
    });
  },
};
