/**
 * Inside a running guest, over SSH: find its address, pin its host key, set the hostname, configure static
 * interfaces on networks without DHCP, sync folders, run provisioners. Work is keyed by the libvirt domain
 * id (new at every start), so an unchanged running guest costs no SSH connection at all.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Box, Domain, DomainInterfaceStatus, Network, ShellProvisioner } from "../api/types.ts";
import type { Libvirt } from "../libvirt/libvirt.ts";
import type { JumpHost } from "../config/ssh_transport.ts";
import type { DomainXmlInterface } from "../libvirt/xml/domain_xml.ts";
import { Buffer } from "node:buffer";
// ssh2 loads when a guest is first reached (~50 ms), not with every command that loads the controllers.
import type { GuestConnection } from "../guest/ssh_client.ts";
import { shellQuote } from "../guest/shell.ts";
import { syncExports } from "../guest/nfs_exports.ts";
import { privateKeysIn, vagrantInsecureKeyFile } from "../guest/vagrant_insecure_key.ts";
import type { ControllerContext } from "./context.ts";
import type { Store } from "../store/store.ts";

/** Annotations lv's commands set to ask for work (like kubectl rollout restart). */
export const PROVISION_ANNOTATION = "lv.dev/provision-requested-at";
export const RSYNC_ANNOTATION = "lv.dev/rsync-requested-at";
export const RELOAD_ANNOTATION = "lv.dev/restart-requested-at";

export interface GuestStatus {
  /** libvirt domain id the work below was done for. */
  domId?: string;
  /** The domain id whose per-boot work (folders, run: always provisioners) completed. */
  booted?: string;
  /** When lv first saw this domain id running. */
  since?: string;
  ready?: boolean;
  hostname?: string;
  /** The "once" provisioners have run (first boot). */
  provisioned?: boolean;
  provisionRequest?: string;
  rsyncRequest?: string;
  /** JSON of the synced folders last synced, to sync again when they change. */
  synced?: string;
  /** JSON of static interface configuration written into the guest. */
  staticConfig?: string;
  /** Address lv reaches SSH on. */
  address?: string;
  /** metadata.generation this was done for. */
  generation?: number;
  /** A provisioner failed for this generation and request: reported until they change. */
  failure?: { reason: string; message: string };
}

export interface GuestInput {
  ctx: ControllerContext;
  dom: Domain;
  lv: Libvirt;
  nics: DomainXmlInterface[];
  networks: Map<string, Network>;
  interfaces: DomainInterfaceStatus[];
  domId: string;
  /** The libvirt host to jump through when it is remote. */
  jump?: JumpHost;
}

export interface GuestResult {
  ready: boolean;
  /** Terminal: needs a spec change or `lv provision`. */
  failed?: boolean;
  reason: string;
  message: string;
  requeueAfterMs?: number;
  guest: GuestStatus;
  sshHostKey?: string;
  /** Path of the key lv generated and installed (insertKey). */
  sshKey?: string;
}

/**
 * The key lv logs in with: the one it inserted, else spec.ssh.privateKey, else the one the box ships, else
 * Vagrant's insecure keys.
 */
export async function privateKeyPath(home: string, store: Store, dom: Domain): Promise<string | undefined> {
  // The inserted key is found by its path, not only by status: a crash between installing it and writing
  // status must not lock lv out of the guest.
  const inserted = join(home, "keys", dom.metadata.uid);
  try {
    await Deno.stat(inserted);
    return inserted;
  } catch { /* none inserted */ }
  if (dom.spec.ssh.privateKey) return dom.spec.ssh.privateKey;
  const box = dom.spec.box
    ? await store.get({ kind: "Box", namespace: dom.metadata.namespace, name: dom.spec.box }) as
      | Box
      | undefined
    : undefined;
  // A box that ships no key is made for Vagrant's insecure keys, as stock public boxes are.
  return box?.status.privateKey ?? await vagrantInsecureKeyFile(home);
}

/** Whether the guest needs lv's attention: only then is it worth an SSH connection. */
export function guestWorkPending(dom: Domain, domId: string): boolean {
  const g = (dom.status.guest ?? {}) as GuestStatus;
  const a = dom.metadata.annotations;
  if (g.domId !== domId || g.generation !== dom.metadata.generation) return true;
  if (!!a[PROVISION_ANNOTATION] && a[PROVISION_ANNOTATION] !== g.provisionRequest) return true;
  if (!!a[RSYNC_ANNOTATION] && a[RSYNC_ANNOTATION] !== g.rsyncRequest) return true;
  // A failed provisioner stays failed until the spec or a request changes: no rerun on every pass.
  return !g.ready && !g.failure;
}

interface StaticInterface {
  mac: string;
  address: string;
  prefix: number;
}

/** Interfaces with an ip on a network without DHCP: lv configures them inside the guest. */
function staticInterfaces(
  dom: Domain,
  nics: DomainXmlInterface[],
  networks: Map<string, Network>,
): StaticInterface[] {
  const out: StaticInterface[] = [];
  dom.spec.interfaces.forEach((nic, i) => {
    if (!nic.ip || !nics[i]) return;
    const net = nic.network ? networks.get(nic.network) : undefined;
    if (net?.spec.dhcp.enabled) return;
    out.push({ mac: nics[i].mac, address: nic.ip, prefix: nic.prefix ?? net?.spec.ipv4.prefix ?? 24 });
  });
  return out;
}

function tail(text: string, lines = 10): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

const HOSTNAME_SCRIPT = `set -e
h="$1"
if [ "$(hostname)" != "$h" ]; then
  echo "$h" > /etc/hostname
  hostname "$h"
fi
if grep -q '^127\\.0\\.1\\.1' /etc/hosts; then
  sed -i "s/^127\\.0\\.1\\.1.*/127.0.1.1 $h/" /etc/hosts
else
  echo "127.0.1.1 $h" >> /etc/hosts
fi
`;

function networkdConfig(ifc: StaticInterface): string {
  return `# Written by lv: static address for ${ifc.mac}\n[Match]\nMACAddress=${ifc.mac}\n\n[Network]\nAddress=${ifc.address}/${ifc.prefix}\n`;
}

async function sudo(conn: GuestConnection, script: string, args: string[] = []): Promise<void> {
  const r = await conn.exec(`sudo -n sh -s -- ${args.map(shellQuote).join(" ")}`, { stdin: script });
  if (r.code !== 0) throw new Error(`exit code ${r.code}: ${tail(r.stderr || r.stdout, 5)}`);
}

async function configureStatic(conn: GuestConnection, ifcs: StaticInterface[]): Promise<void> {
  const probe = await conn.exec(
    "systemctl is-active systemd-networkd 2>/dev/null; command -v nmcli; test -d /etc/network/interfaces.d && echo ifupdown",
  );
  if (!/^active/m.test(probe.stdout)) {
    throw new Error(
      `the guest does not run systemd-networkd (found: ${
        probe.stdout.trim().replace(/\n/g, ", ") || "nothing"
      }); lv configures static addresses with systemd-networkd`,
    );
  }
  let script = "set -e\nrm -f /etc/systemd/network/05-lv-*.network\n";
  for (const ifc of ifcs) {
    const file = `/etc/systemd/network/05-lv-${ifc.mac.replace(/:/g, "")}.network`;
    script += `cat > ${file} <<'LV_EOF'\n${networkdConfig(ifc)}LV_EOF\n`;
  }
  script += "networkctl reload\n";
  // Only the interfaces lv configures: the one SSH runs over keeps its address.
  for (const ifc of ifcs) {
    script +=
      `for d in /sys/class/net/*; do if [ "$(cat "$d/address")" = "${ifc.mac}" ]; then networkctl reconfigure "$(basename "$d")"; fi; done\n`;
  }
  await sudo(conn, script);
}

/** Writes the pinned host key where plain OpenSSH finds it (under alias lv-NAME); returns the file. */
export function knownHostsFile(home: string, dom: Domain, hostKey: string): string {
  const dir = join(home, "known_hosts");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, dom.metadata.uid);
  writeFileSync(file, `lv-${dom.metadata.name} ${hostKey}\n`, { mode: 0o600 });
  return file;
}

/** ssh options plain OpenSSH (rsync, ssh-config) needs to reach the guest with the pinned key. */
export function opensshOptions(
  keyFile: string,
  knownHosts: string,
  alias: string,
  port: number,
  jump?: JumpHost,
): string[] {
  return [
    ...(jump ? ["-o", `ProxyCommand=${jump.proxyCommand}`] : []),
    "-p",
    String(port),
    "-i",
    keyFile,
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    `UserKnownHostsFile=${knownHosts}`,
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    `HostKeyAlias=${alias}`,
    "-o",
    "BatchMode=yes",
  ];
}

async function rsyncFolders(
  input: GuestInput,
  conn: GuestConnection,
  address: string,
  keyFile: string,
  hostKey: string,
): Promise<void> {
  const { dom, ctx } = input;
  const knownHosts = knownHostsFile(ctx.home, dom, hostKey);
  for (const folder of dom.spec.syncedFolders) {
    if (folder.type !== "rsync") continue; // nfs: nfsFolders()
    await sudo(conn, `set -e\nmkdir -p "$1"\nchown "$2" "$1"\n`, [folder.target, dom.spec.ssh.user]);
    const ssh = [
      "ssh",
      ...opensshOptions(keyFile, knownHosts, `lv-${dom.metadata.name}`, dom.spec.ssh.port, input.jump),
    ]
      .map(shellQuote).join(" ");
    const args = [
      "--archive",
      "--compress",
      "--delete",
      "--no-owner",
      "--no-group",
      "--rsync-path=sudo rsync",
      "-e",
      ssh,
      ...folder.exclude.map((e) => `--exclude=${e}`),
      folder.source.endsWith("/") ? folder.source : `${folder.source}/`,
      `${dom.spec.ssh.user}@${address}:${folder.target}`,
    ];
    const out = await new Deno.Command("rsync", { args, stdout: "piped", stderr: "piped" }).output();
    if (!out.success) {
      throw new Error(
        `rsync ${folder.source} to ${folder.target}: ${tail(new TextDecoder().decode(out.stderr), 5)}`,
      );
    }
    await ctx.event(dom, "Normal", "Synced", `${folder.source} synced to ${folder.target} (rsync)`);
  }
}

const NFS_MOUNT_SCRIPT = `set -e
mountpoint -q "$1" && exit 0
mkdir -p "$1"
mount -t nfs -o vers=4 "$2:$3" "$1"
`;

/** NFS folders: exported by the host to the guest's address, mounted from the network's gateway address. */
async function nfsFolders(input: GuestInput, conn: GuestConnection, address: string): Promise<void> {
  const { dom, ctx } = input;
  const folders = dom.spec.syncedFolders.filter((f) => f.type === "nfs");
  if (folders.length > 0 && input.jump) {
    throw new Error(
      `NFS folders need libvirt on this machine; domain/${dom.metadata.name} runs on ${input.jump.host}: use type: rsync`,
    );
  }
  const i = input.interfaces.findIndex((nic) => nic.ips.some((a) => a.address === address));
  const network = i >= 0 ? input.nics[i].network : undefined;
  const hostAddress = network ? input.networks.get(network)?.spec.ipv4.address : undefined;
  if (folders.length > 0 && !hostAddress) {
    throw new Error(`NFS folders need the guest's SSH address (${address}) to be on a Network lv manages`);
  }
  const exports = [];
  for (const f of folders) {
    const info = await Deno.stat(f.source);
    exports.push({ path: f.source, client: address, uid: info.uid ?? 0, gid: info.gid ?? 0 });
  }
  await syncExports(dom.metadata.uid, exports);
  for (const f of folders) {
    await sudo(conn, NFS_MOUNT_SCRIPT, [f.target, hostAddress!, f.source]);
    await ctx.event(dom, "Normal", "Mounted", `${f.source} mounted on ${f.target} (nfs from ${hostAddress})`);
  }
}

/**
 * vagrant's insert_key: a key of the domain's own replaces the box's shared one. The new key is added, proven
 * by a second login, saved, and only then is the old one removed, so a crash at any point leaves lv a key
 * that works. Returns the new key's path (0600 under $LV_HOME).
 */
async function insertKey(
  input: GuestInput,
  conn: GuestConnection,
  address: string,
  oldKeyFile: string,
  hostKey: string,
): Promise<string> {
  const { dom, ctx } = input;
  const dir = join(ctx.home, "keys");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, dom.metadata.uid);
  const { utils } = await import("ssh2");
  const pair = utils.generateKeyPairSync("ed25519", { comment: `lv ${dom.metadata.name}` });
  const add = await conn.exec(
    `umask 077 && mkdir -p ~/.ssh && printf '%s\\n' ${shellQuote(pair.public)} >> ~/.ssh/authorized_keys`,
  );
  if (add.code !== 0) throw new Error(`cannot install lv's key: ${tail(add.stderr, 3)}`);
  const ssh = await import("../guest/ssh_client.ts");
  const check = await ssh.GuestConnection.connect({
    host: address,
    port: dom.spec.ssh.port,
    user: dom.spec.ssh.user,
    privateKey: pair.private,
    pinnedHostKey: hostKey,
    timeoutMs: 8000,
    via: input.jump,
  });
  check.close();
  // Proven: from here on lv logs in with it (privateKeyPath finds it), then the box's key goes.
  writeFileSync(`${file}.new`, pair.private, { mode: 0o600 });
  renameSync(`${file}.new`, file);
  // Every key of the old file goes (Vagrant's insecure keys are two).
  const oldPublic = privateKeysIn(await Deno.readTextFile(oldKeyFile)).map((text) => {
    const old = utils.parseKey(text);
    const blob = (Array.isArray(old) ? old[0] : old as { getPublicSSH(): Uint8Array }).getPublicSSH();
    return `-e ${shellQuote(Buffer.from(blob).toString("base64"))}`;
  });
  const remove = await conn.exec(
    `grep -v -F ${
      oldPublic.join(" ")
    } ~/.ssh/authorized_keys > ~/.ssh/authorized_keys.lv; [ $? -le 1 ] && mv ~/.ssh/authorized_keys.lv ~/.ssh/authorized_keys`,
  );
  if (remove.code !== 0) throw new Error(`cannot remove the box's key: ${tail(remove.stderr, 3)}`);
  await ctx.event(
    dom,
    "Normal",
    "KeyInserted",
    `the box's SSH key replaced by a key of this domain's own (${file})`,
  );
  return file;
}

/** Held in the guest while a provisioner runs (util-linux flock, where the guest has it). */
const PROVISION_LOCK = "/tmp/lv-provision.lock";
const COPY_FAILED = "lv: cannot write the provisioner's script";

async function provision(
  input: GuestInput,
  conn: GuestConnection,
  all: boolean,
): Promise<GuestResult | undefined> {
  const { dom, ctx } = input;
  for (const [i, p] of dom.spec.provision.entries()) {
    if (!all && p.run !== "always") continue;
    const label = p.name ?? `provision[${i}]`;
    const script = p.inline ?? await Deno.readTextFile(p.path!);
    const env = Object.entries(p.env).map(([k, v]) => `${k}=${shellQuote(v)}`);
    const run = [
      ...(p.privileged ? ["sudo", "-n"] : []),
      "env",
      ...env,
      "/bin/sh",
      '"$f"',
      ...p.args.map(shellQuote),
    ].join(" ");
    // The script goes in on stdin to a file of this run's own, and runs under a guest-wide lock: a run lv
    // lost track of (lv killed, the connection dropped) goes on in the guest, and a new run waits for it
    // instead of running beside it.
    const command = `f=$(mktemp /tmp/lv-provision-XXXXXX) && cat > "$f" && chmod 0755 "$f" || ` +
      `{ echo "${COPY_FAILED}" >&2; exit 125; }\n` +
      `if command -v flock >/dev/null 2>&1; then lock="flock ${PROVISION_LOCK}"; else lock=; fi\n` +
      `$lock ${run}\nrc=$?\nrm -f "$f"\nexit $rc\n`;
    await ctx.event(dom, "Normal", "Provisioning", `running ${label} (${provisionerSummary(p)})`);
    const prefix = `domain/${dom.metadata.name}: ${label}: `;
    const stream = (chunk: string) => ctx.progress?.(dom, chunk, prefix);
    const r = await conn.exec(command, { onStdout: stream, onStderr: stream, stdin: script });
    if (r.code === 125 && r.stderr.includes(COPY_FAILED)) {
      throw new Error(`cannot copy ${label} to the guest: ${r.stderr}`);
    }
    if (r.code !== 0) {
      return {
        ready: false,
        failed: true,
        reason: "ProvisionFailed",
        message: `${label} exited with code ${r.code}; last output:\n${tail(r.stdout + r.stderr)}`,
        guest: {},
      };
    }
    await ctx.event(dom, "Normal", "Provisioned", `${label} finished`);
  }
  return undefined;
}

function provisionerSummary(p: ShellProvisioner): string {
  const what = p.path ?? (p.inline!.split("\n")[0].slice(0, 40) + (p.inline!.length > 40 ? "..." : ""));
  return `${p.privileged ? "privileged " : ""}shell: ${what}`;
}

/** The address SSH uses: the first interface's lease, then the first static ip, then domifaddr. */
async function findAddress(input: GuestInput): Promise<{ address?: string; tried: string[] }> {
  const tried = ["net-dhcp-leases"];
  for (const i of input.interfaces) {
    const lease = i.ips.find((a) => a.source === "lease");
    if (lease) return { address: lease.address, tried };
  }
  for (const source of ["lease", "agent"] as const) {
    tried.push(`domifaddr --source ${source}`);
    const found = await input.lv.domIfAddr(input.dom.metadata.name, source);
    const mine = found.find((f) => input.nics.some((n) => n.mac === f.mac));
    if (mine) return { address: mine.ip, tried };
  }
  const fixed = staticInterfaces(input.dom, input.nics, input.networks)[0];
  if (fixed) return { address: fixed.address, tried };
  return { tried };
}

export async function reconcileGuest(input: GuestInput): Promise<GuestResult> {
  const { dom, ctx } = input;
  const previous = (dom.status.guest ?? {}) as GuestStatus;
  const sameBoot = previous.domId === input.domId;
  // The per-boot work (static interfaces, folders, run: always provisioners) is due until it has completed
  // for this domain id: passes that only waited for SSH on this boot do not count.
  const newBoot = previous.booted !== input.domId;
  const guest: GuestStatus = sameBoot ? { ...previous, failure: undefined } : {
    domId: input.domId,
    since: ctx.now().toISOString(),
    booted: previous.booted,
    provisioned: previous.provisioned,
    provisionRequest: previous.provisionRequest,
    rsyncRequest: previous.rsyncRequest,
    hostname: previous.hostname,
    staticConfig: previous.staticConfig,
  };
  guest.ready = false;
  guest.generation = dom.metadata.generation;
  // The message names what is awaited, not for how long: a ticking counter would rewrite status (and
  // wake every dependent) at each poll. status.guest.since says when the wait began.
  const waiting = (reason: string, message: string): GuestResult => ({
    ready: false,
    reason,
    message: `${message} (waiting since ${guest.since})`,
    requeueAfterMs: 3000,
    guest,
  });

  const keyFile = await privateKeyPath(ctx.home, ctx.store, dom);
  if (!keyFile) {
    return {
      ready: false,
      failed: true,
      reason: "NoSshKey",
      message: "no SSH private key: set spec.ssh.privateKey (the box ships none)",
      guest,
    };
  }
  const { address, tried } = await findAddress(input);
  if (!address) {
    const where = input.nics.map((n) =>
      `${n.mac} on ${n.network ? `network ${n.network}` : `${n.dev} (macvtap)`}`
    )
      .join(", ");
    return waiting(
      "WaitingForAddress",
      `no IP address yet for ${where || "a domain without interfaces"}; tried ${tried.join(", ")}`,
    );
  }
  guest.address = address;
  const ssh = await import("../guest/ssh_client.ts");
  let conn: GuestConnection;
  try {
    conn = await ssh.GuestConnection.connect({
      host: address,
      port: dom.spec.ssh.port,
      user: dom.spec.ssh.user,
      privateKey: await Deno.readTextFile(keyFile),
      pinnedHostKey: dom.status.sshHostKey as string | undefined,
      forwardAgent: dom.spec.ssh.forwardAgent,
      timeoutMs: 8000,
      via: input.jump,
    });
  } catch (e) {
    if (e instanceof ssh.HostKeyMismatchError) {
      return { ready: false, failed: true, reason: "HostKeyChanged", message: e.message, guest };
    }
    return waiting(
      "WaitingForSsh",
      `ssh ${dom.spec.ssh.user}@${address}:${dom.spec.ssh.port}: ${(e as Error).message}`,
    );
  }
  const hostKey = conn.hostKey;
  let installed: string | undefined;
  try {
    if (!dom.status.sshHostKey) {
      await ctx.event(
        dom,
        "Normal",
        "SshReady",
        `SSH answers on ${address}; host key pinned (${hostKey.split(" ")[0]})`,
      );
    }
    if (
      dom.spec.ssh.insertKey && !dom.spec.ssh.privateKey &&
      keyFile !== join(ctx.home, "keys", dom.metadata.uid)
    ) {
      installed = await insertKey(input, conn, address, keyFile, hostKey);
    }
    const hostname = dom.spec.hostname ?? dom.metadata.name;
    if (guest.hostname !== hostname) {
      await sudo(conn, HOSTNAME_SCRIPT, [hostname]);
      guest.hostname = hostname;
      await ctx.event(dom, "Normal", "Hostname", `hostname set to ${hostname}`);
    }
    const statics = staticInterfaces(dom, input.nics, input.networks);
    if (JSON.stringify(statics) !== (guest.staticConfig ?? "[]") || newBoot && statics.length > 0) {
      if (statics.length > 0) await configureStatic(conn, statics);
      guest.staticConfig = JSON.stringify(statics);
      if (statics.length > 0) {
        await ctx.event(
          dom,
          "Normal",
          "Networks",
          `static ${statics.map((s) => `${s.address}/${s.prefix} on ${s.mac}`).join(", ")} configured`,
        );
      }
    }
    const rsyncRequest = dom.metadata.annotations[RSYNC_ANNOTATION];
    const folders = JSON.stringify(dom.spec.syncedFolders);
    if (newBoot || folders !== guest.synced || (rsyncRequest && rsyncRequest !== guest.rsyncRequest)) {
      await rsyncFolders(input, conn, address, installed ?? keyFile, hostKey);
      await nfsFolders(input, conn, address);
      guest.synced = folders;
      guest.rsyncRequest = rsyncRequest;
    }
    const provisionRequest = dom.metadata.annotations[PROVISION_ANNOTATION];
    const all = !guest.provisioned || (!!provisionRequest && provisionRequest !== guest.provisionRequest);
    if (all || newBoot) {
      const failed = await provision(input, conn, all);
      guest.provisionRequest = provisionRequest;
      if (failed) {
        guest.failure = { reason: failed.reason, message: failed.message };
        return { ...failed, guest, sshHostKey: hostKey, sshKey: installed };
      }
      guest.provisioned = true;
    }
  } catch (e) {
    return {
      ...waiting("GuestSetupFailed", (e as Error).message),
      sshHostKey: hostKey,
      sshKey: installed,
      requeueAfterMs: 10_000,
    };
  } finally {
    conn.close();
  }
  guest.ready = true;
  guest.booted = input.domId;
  return {
    ready: true,
    reason: "Running",
    message: `SSH on ${address}`,
    guest,
    sshHostKey: hostKey,
    sshKey: installed,
  };
}
