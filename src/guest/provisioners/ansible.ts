/**
 * The ansible provisioner (Vagrant's `ansible`): ansible-playbook runs on this host against the guest, with
 * an inventory lv writes ($LV_HOME/ansible/UID.json, JSON being YAML: no quoting to get wrong) holding, for
 * this Domain and every other Domain of its namespace that runs the same playbook (Vagrant's multi-machine
 * inventory), the address, port, user, key, the pinned host key and the jump through a remote libvirt host,
 * the Domain's groups and host vars. As Vagrant, the play is limited to this Domain unless `limit` says
 * otherwise.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AnsibleProvisioner, Domain } from "../../api/types.ts";
import type { JumpHost } from "../../config/ssh_transport.ts";
import { hostAlias, knownHostsFile, opensshOptions } from "../known_hosts.ts";
import { shellQuote } from "../shell.ts";
import type { GuestPeer, GuestStepContext } from "../step_context.ts";
import type { ProvisionerType } from "./provisioner.ts";

/** One host of the inventory: a Domain's guest as lv reaches it, with its ansible provisioner's groups and vars. */
export interface InventoryHost {
  dom: Domain;
  address: string;
  /** The SSH port with `address` (api/ssh_endpoint.ts). */
  port: number;
  keyFile: string;
  /** The known_hosts file holding its pinned host key. */
  knownHosts: string;
  jump?: JumpHost;
  groups: string[];
  hostVars: Record<string, string>;
}

/** The inventory of `hosts`, as ansible reads it (a YAML inventory written as JSON). */
export function ansibleInventory(hosts: InventoryHost[]): unknown {
  const children: Record<string, { hosts: Record<string, object> }> = {};
  const entries = hosts.map((h) => {
    const { dom } = h;
    const ssh = opensshOptions(h.keyFile, h.knownHosts, hostAlias(dom), h.port, h.jump);
    // -p and -i are ansible_port and the key file: ansible passes these options to sftp and scp too.
    const common = ssh.filter((_, i) => !["-p", "-i"].includes(ssh[i]) && !["-p", "-i"].includes(ssh[i - 1]));
    for (const g of h.groups) (children[g] ??= { hosts: {} }).hosts[dom.metadata.name] = {};
    return [dom.metadata.name, {
      ansible_host: h.address,
      ansible_port: h.port,
      ansible_user: dom.spec.ssh.user,
      ansible_ssh_private_key_file: h.keyFile,
      ansible_ssh_common_args: common.map(shellQuote).join(" "),
      ...h.hostVars,
    }];
  });
  return { all: { hosts: Object.fromEntries(entries), children } };
}

/** The ansible-playbook options lv and ansible_local share: --limit (default `name`), --tags, --extra-vars, -v. */
export function playbookOptions(
  p: Pick<AnsibleProvisioner, "limit" | "tags" | "extraVars" | "verbose">,
  name: string,
): string[] {
  return [
    "--limit",
    p.limit ?? name,
    ...(p.tags.length > 0 ? ["--tags", p.tags.join(",")] : []),
    ...(Object.keys(p.extraVars).length > 0 ? ["--extra-vars", JSON.stringify(p.extraVars)] : []),
    ...(p.verbose ? ["-v"] : []),
  ];
}

/** The ansible-playbook command with the inventory file `inventory`, limited to `name` unless p.limit says. */
export function ansibleArgv(p: AnsibleProvisioner, inventory: string, name: string): string[] {
  return ["ansible-playbook", "--inventory", inventory, ...playbookOptions(p, name), p.playbook];
}

/** The other Domains running the same playbook, each with its first ansible provisioner of that playbook. */
async function samePlaybook(ctx: GuestStepContext, p: AnsibleProvisioner) {
  const peers = await ctx.peers?.() ?? [];
  return peers.flatMap((peer) => {
    const mine = peer.dom.spec.provision.find((q): q is AnsibleProvisioner =>
      q.type === "ansible" && q.playbook === p.playbook
    );
    const wanted = mine && peer.dom.spec.state === "Running" && !peer.dom.metadata.deletionTimestamp;
    return wanted ? [{ peer, p: mine }] : [];
  });
}

/** Whether lv can put a peer in the inventory: it has reached its guest (address, pinned host key, key). */
function reachable(peer: GuestPeer): boolean {
  return !!peer.endpoint && !!peer.keyFile && !!peer.dom.status.sshHostKey;
}

/** The inventory's hosts: this Domain's guest first, then the peers lv has reached. */
async function inventoryHosts(ctx: GuestStepContext, p: AnsibleProvisioner): Promise<InventoryHost[]> {
  const self: InventoryHost = {
    dom: ctx.dom,
    address: ctx.address,
    port: ctx.port,
    keyFile: ctx.keyFile,
    knownHosts: knownHostsFile(ctx.home, ctx.dom, ctx.session.hostKey),
    jump: ctx.jump,
    groups: p.groups,
    hostVars: p.hostVars,
  };
  const others = (await samePlaybook(ctx, p)).filter(({ peer }) => reachable(peer)).map(({ peer, p: q }) => ({
    dom: peer.dom,
    address: peer.endpoint!.host,
    port: peer.endpoint!.port,
    keyFile: peer.keyFile!,
    knownHosts: knownHostsFile(ctx.home, peer.dom, peer.dom.status.sshHostKey!),
    jump: peer.jump,
    groups: q.groups,
    hostVars: q.hostVars,
  }));
  return [self, ...others];
}

export const ansibleProvisioner: ProvisionerType<AnsibleProvisioner> = {
  summary: (p) => `ansible: ${p.playbook}`,

  // A play for more than this Domain (limit given) waits until lv has reached every guest it may name.
  async waitingFor(ctx, p) {
    if (p.limit === undefined || p.limit === ctx.dom.metadata.name) return undefined;
    const missing = (await samePlaybook(ctx, p)).filter(({ peer }) => !reachable(peer));
    if (missing.length === 0) return undefined;
    const names = missing.map(({ peer }) => `domain/${peer.dom.metadata.name}`).join(", ");
    return `waiting for ${names} to answer on SSH: the inventory of ${p.playbook} (limit ${p.limit}) needs them`;
  },

  async run(ctx, p, label) {
    const dir = join(ctx.home, "ansible");
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const inventory = join(dir, `${ctx.dom.metadata.uid}.json`);
    const hosts = await inventoryHosts(ctx, p);
    writeFileSync(inventory, JSON.stringify(ansibleInventory(hosts), null, 2) + "\n", { mode: 0o600 });
    const prefix = `domain/${ctx.dom.metadata.name}: ${label}: `;
    const stream = (chunk: string) => ctx.progress(chunk, prefix);
    const argv = ansibleArgv(p, inventory, ctx.dom.metadata.name);
    return await ctx.runHost(argv, { onStdout: stream, onStderr: stream }).catch((e) => {
      throw new Error(`${label}: cannot run ansible-playbook on this host: ${e.message}`);
    });
  },
};
