/**
 * The guest's part of a Domain, in order: find its address, log in (pin the host key), insert lv's key, set
 * the hostname, configure static interfaces on networks without DHCP, sync folders, run provisioners. The
 * first-boot steps read what they need in one batch, then the key goes in (as the login user) while the
 * hostname and network are set as root in two sudo batches: at most five round trips and two logins on a
 * first boot, whatever the network family. The steps live in src/guest/; this module decides which are due
 * and what status they leave. Work is keyed by the libvirt domain id (new at every start), so an unchanged
 * running guest costs no SSH connection at all.
 */
import type { GuestStatus } from "../api/guest_status.ts";
import { guestStatusOf } from "../api/guest_status.ts";
import { PROVISION_ANNOTATION, RSYNC_ANNOTATION } from "../api/requests.ts";
import { sshEndpointOf } from "../api/ssh_endpoint.ts";
import type { Domain, DomainInterfaceStatus, Network } from "../api/types.ts";
import type { JumpHost } from "../config/ssh_transport.ts";
import { syncFolders } from "../guest/folders/folders.ts";
import { HostKeyMismatchError } from "../guest/host_key.ts";
import { runHostCommand } from "../guest/host_command.ts";
import { insertedKeyPath, privateKeyPath } from "../guest/key_files.ts";
import { familyNamed, networkSurvey } from "../guest/network/families.ts";
import { seedHostKey } from "../guest/cloud_init/seed_keys.ts";
import { waitForCloudInit } from "../guest/steps/cloud_init_wait.ts";
import { staticInterfaces } from "../guest/network/static_interfaces.ts";
import { runProvisioners } from "../guest/provisioners/provisioners.ts";
import { ProvisionWaitingError } from "../guest/provisioners/provisioner.ts";
import type { GuestDriver, GuestSession, GuestTarget } from "../guest/session.ts";
import type { GuestPeer, GuestStepContext } from "../guest/step_context.ts";
import { hostnameOps } from "../guest/steps/hostname.ts";
import { readGuestFacts } from "../guest/steps/guest_facts.ts";
import { runRootSteps } from "../guest/steps/root_steps.ts";
import { domainKeyPair, insertDomainKey } from "../guest/steps/insert_key.ts";
import type { Libvirt } from "../libvirt/libvirt.ts";
import { type DomainXmlInterface, parseDomainXml } from "../libvirt/xml/domain_xml.ts";
import type { ControllerContext } from "./context.ts";
import { guestAddress } from "./guest_address.ts";

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
 * How soon a pass waiting for the guest's address or its sshd comes again: a pass costs a few commands on
 * lv's virsh session (~1 ms each), so the lease is seen within half a second of dnsmasq handing it out.
 */
export const GUEST_POLL_MS = 500;

/**
 * Connect attempts in one pass once the address is known: an sshd not listening yet refuses at once (a SYN
 * answered by the guest's kernel, nothing for its sshd to do), so lv tries again every SSH_RETRY.intervalMs,
 * and so soon comes the next pass, and logs in within ~0.1 s of sshd listening. A connection the guest took
 * and dropped (a port forward before sshd listens, an sshd restarting) is tried again every
 * `takenIntervalMs`: each may cost the guest's sshd a fork. At most `attempts` a pass, and none started after
 * `budgetMs` (a host that is not up answers only after the ARP timeout, ~3 s).
 */
export const SSH_RETRY = { attempts: 20, intervalMs: 100, takenIntervalMs: 250, budgetMs: 2000 };
/** Connect failures answered by the guest's kernel: nothing listens yet, or its network is not up yet. */
const REFUSED = /ECONNREFUSED|EHOSTUNREACH|ENETUNREACH/;
/**
 * A connection taken and dropped before login, also worth another attempt soon. "Connection lost before
 * handshake": a user-mode network's port forward accepts, then drops, connections until the guest's sshd
 * listens; "closed before login": an sshd restarting at first boot (ssh_client.ts).
 */
const DROPPED = /ECONNRESET|Connection lost before handshake|connection closed before login/;

/** Whether the guest needs lv's attention: only then is it worth an SSH connection. */
export function guestWorkPending(dom: Domain, domId: string): boolean {
  const g = guestStatusOf(dom.status);
  const a = dom.metadata.annotations;
  if (g.domId !== domId || g.generation !== dom.metadata.generation) return true;
  if (!!a[PROVISION_ANNOTATION] && a[PROVISION_ANNOTATION] !== g.provisionRequest) return true;
  if (!!a[RSYNC_ANNOTATION] && a[RSYNC_ANNOTATION] !== g.rsyncRequest) return true;
  // A failed provisioner stays failed until the spec or a request changes: no rerun on every pass.
  return !g.ready && !g.failure;
}

/** The status this pass starts from: the same boot's, or a new boot's keeping what outlives a boot. */
function startingStatus(input: GuestInput): GuestStatus {
  const previous = guestStatusOf(input.dom.status);
  const guest: GuestStatus = previous.domId === input.domId ? { ...previous, failure: undefined } : {
    domId: input.domId,
    since: input.ctx.now().toISOString(),
    booted: previous.booted,
    provisioned: previous.provisioned,
    provisionRequest: previous.provisionRequest,
    rsyncRequest: previous.rsyncRequest,
    hostname: previous.hostname,
    staticConfig: previous.staticConfig,
    os: previous.os,
  };
  guest.ready = false;
  guest.generation = input.dom.metadata.generation;
  return guest;
}

/** Finds the guest, logs in and runs the steps that are due. The one entry the Domain controller calls. */
export async function reconcileGuest(input: GuestInput): Promise<GuestResult> {
  const { dom, ctx } = input;
  const guest = startingStatus(input);
  // The message names what is awaited, not for how long: a ticking counter would rewrite status (and
  // wake every dependent) at each poll. status.guest.since says when the wait began.
  const waiting = (reason: string, message: string): GuestResult => ({
    ready: false,
    reason,
    message: `${message} (waiting since ${guest.since})`,
    requeueAfterMs: reason === "WaitingForAddress" || reason === "WaitingForSsh" ? GUEST_POLL_MS : 3000,
    guest,
  });
  const keyFile = await privateKeyPath(ctx.home, ctx.store, dom);
  if (!keyFile) {
    const message = "no SSH private key: set spec.ssh.privateKey (the box ships none)";
    return { ready: false, failed: true, reason: "NoSshKey", message, guest };
  }
  const found = await guestAddress(input);
  if (!found.address) return waiting("WaitingForAddress", found.message);
  const address = guest.address = found.address;
  const port = found.port ?? dom.spec.ssh.port;
  guest.port = port === dom.spec.ssh.port ? undefined : port;
  const driver: GuestDriver = ctx.guestDriver ?? (await import("../guest/ssh_session.ts")).sshGuestDriver;
  let session: GuestSession;
  try {
    session = await connectGuest(input, driver, { address, port, keyFile });
  } catch (e) {
    if (e instanceof HostKeyMismatchError) {
      return { ready: false, failed: true, reason: "HostKeyChanged", message: e.message, guest };
    }
    const message = `ssh ${dom.spec.ssh.user}@${address}:${port}: ${(e as Error).message}`;
    // Refused (nothing listening yet): the next pass as soon as the next attempt would be. Any other failure
    // (a connection dropped, a login refused, a timeout) costs the guest's sshd work: every GUEST_POLL_MS.
    const soon = REFUSED.test((e as Error).message) ? { requeueAfterMs: SSH_RETRY.intervalMs } : {};
    return { ...waiting("WaitingForSsh", message), ...soon };
  }
  const step = stepContext(input, { driver, session, address, port, keyFile });
  const sshHostKey = session.hostKey;
  let sshKey: string | undefined;
  try {
    const pinned = `SSH answers on ${address}; host key pinned (${sshHostKey.split(" ")[0]})`;
    if (!dom.status.sshHostKey) await step.event("SshReady", pinned);
    const inserted = (file: string) => sshKey = step.keyFile = file;
    let keyDue = keyInsertionDue(input, keyFile);
    const cloudInitDue = !!dom.spec.cloudInit && guest.cloudInitDone !== input.domId;
    if (keyDue && cloudInitDue) {
      // cloud-init may still be writing the guest: only the key goes in before it is done.
      inserted(await insertDomainKey(step, keyFile));
      keyDue = false;
    }
    if (cloudInitDue) {
      const cloudInit = await waitForCloudInit(session, { since: guest.since, now: ctx.now() });
      if (cloudInit.failure) {
        guest.failure = cloudInit.failure;
        return { ready: false, failed: true, ...cloudInit.failure, guest, sshHostKey, sshKey };
      }
      if (cloudInit.waiting) {
        return { ...waiting("WaitingForCloudInit", cloudInit.waiting), sshHostKey, sshKey };
      }
      guest.cloudInitDone = input.domId;
      await step.event("CloudInitDone", "cloud-init finished");
    }
    await firstBootSteps(input, step, guest, keyDue ? { oldKeyFile: keyFile, inserted } : undefined);
    const failure = await runSteps(input, step, guest);
    if (failure) {
      guest.failure = failure;
      return { ready: false, failed: true, ...failure, guest, sshHostKey, sshKey };
    }
  } catch (e) {
    if (e instanceof ProvisionWaitingError) {
      return { ...waiting("ProvisionWaiting", e.message), sshHostKey, sshKey };
    }
    return {
      ...waiting("GuestSetupFailed", (e as Error).message),
      sshHostKey,
      sshKey,
      requeueAfterMs: 10_000,
    };
  } finally {
    session.close();
  }
  guest.ready = true;
  guest.booted = input.domId;
  const where = port === dom.spec.ssh.port ? address : `${address}:${port}`;
  return { ready: true, reason: "Running", message: `SSH on ${where}`, guest, sshHostKey, sshKey };
}

/** Whether lv's own key replaces the one it logs in with now (ssh.insertKey, the box's key in use). */
function keyInsertionDue({ dom, ctx }: GuestInput, keyFile: string): boolean {
  return dom.spec.ssh.insertKey && !dom.spec.ssh.privateKey && keyFile !== insertedKeyPath(ctx.home, dom);
}

/**
 * Logs in to the guest with the Domain's key; its host key pinned (the seed's for a cloud image). A refused
 * connection (sshd not up yet) is tried again within SSH_RETRY's bounds before the pass gives up.
 */
async function connectGuest(
  input: GuestInput,
  driver: GuestDriver,
  login: { address: string; port: number; keyFile: string },
): Promise<GuestSession> {
  const target = await guestTarget(input, login);
  const deadline = Date.now() + SSH_RETRY.budgetMs;
  for (let attempt = 1;; attempt++) {
    try {
      return await driver.connect(target);
    } catch (e) {
      const message = String((e as Error).message);
      const refused = REFUSED.test(message);
      const pause = refused ? SSH_RETRY.intervalMs : SSH_RETRY.takenIntervalMs;
      const last = attempt >= SSH_RETRY.attempts || Date.now() + pause > deadline;
      if (last || !(refused || DROPPED.test(message))) throw e;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

async function guestTarget(
  input: GuestInput,
  { address, port, keyFile }: { address: string; port: number; keyFile: string },
): Promise<GuestTarget> {
  const { dom, ctx } = input;
  return {
    host: address,
    port,
    user: dom.spec.ssh.user,
    privateKey: await Deno.readTextFile(keyFile),
    // A cloud image's host key is the one lv put in its seed: pinned before first contact.
    pinnedHostKey: dom.status.sshHostKey ??
      (dom.spec.cloudInit ? await seedHostKey(ctx.home, dom) : undefined),
    forwardAgent: dom.spec.ssh.forwardAgent,
    timeoutMs: 8000,
    via: input.jump,
  };
}

/** What the steps get: the session, the Domain, and this host's side (events, files, commands). */
function stepContext(
  input: GuestInput,
  login: { driver: GuestDriver; session: GuestSession; address: string; port: number; keyFile: string },
): GuestStepContext {
  const { ctx, dom } = input;
  const { driver, session, address, port, keyFile } = login;
  const i = input.interfaces.findIndex((nic) => nic.ips.some((a) => a.address === address));
  const network = i >= 0 ? input.nics[i]?.network : undefined;
  return {
    session,
    driver,
    dom,
    address,
    port,
    keyFile,
    home: ctx.home,
    jump: input.jump,
    hostAddress: network ? input.networks.get(network)?.spec.ipv4.address : undefined,
    liveMountTags: async () =>
      new Set(
        Object.keys(parseDomainXml(await input.lv.domLiveXml(dom.metadata.name)).filesystems)
          .map((key) => key.slice(1, -1)),
      ),
    peers: () => peerGuests(ctx, dom),
    runHost: ctx.runHost ?? runHostCommand,
    event: (reason, message) => ctx.event(dom, "Normal", reason, message),
    progress: (chunk, prefix) => ctx.progress?.(dom, chunk, prefix),
  };
}

/** The other Domains of dom's namespace, each as lv reaches its guest (ansible's inventory). */
async function peerGuests(ctx: ControllerContext, dom: Domain): Promise<GuestPeer[]> {
  const all = await ctx.store.list("Domain", { namespace: dom.metadata.namespace }) as Domain[];
  return await Promise.all(
    all.filter((d) => d.metadata.uid !== dom.metadata.uid).map(async (d) => {
      return {
        dom: d,
        endpoint: sshEndpointOf(d),
        keyFile: await privateKeyPath(ctx.home, ctx.store, d),
        jump: ctx.jumpFor?.(d),
      };
    }),
  );
}

/**
 * The first-boot work, few round trips: what the key, hostname and network steps read, in one batch (the
 * facts, with the network family's survey); then lv's key inserted (as the login user, proven by a second
 * login) while, as root, the hostname is written with what the network family reads in one sudo batch and
 * the family's writes follow in another once lv's key is in (root_steps.ts). Records in `guest` what was
 * done; rejects with the first step's failure once both have ended.
 */
async function firstBootSteps(
  input: GuestInput,
  step: GuestStepContext,
  guest: GuestStatus,
  key?: { oldKeyFile: string; inserted: (file: string) => void },
): Promise<void> {
  const { dom, session } = step;
  // The static interfaces are due until configured for this domain id (passes that only waited for SSH on
  // this boot do not count).
  const newBoot = guestStatusOf(dom.status).booted !== input.domId;
  const hostname = dom.spec.hostname ?? dom.metadata.name;
  const statics = staticInterfaces(dom, input.nics, input.networks);
  const staticsDue = JSON.stringify(statics) !== (guest.staticConfig ?? "[]") ||
    newBoot && statics.length > 0;
  const networkDue = staticsDue && statics.length > 0;
  const known = familyNamed(guest.os);
  // lv's key goes in with the reads (one round trip less); it replaces the box's once a login proves it.
  const pair = key && await domainKeyPair(dom.metadata.name);
  const facts = await readGuestFacts(session, {
    hostname: guest.hostname !== hostname,
    addKey: pair?.public,
    family: !guest.os || (networkDue && !known),
    survey: networkDue ? networkSurvey(known) : undefined,
  });
  if (facts.family && !known) guest.os = facts.family;
  const asUser = async () => {
    if (key && pair) {
      key.inserted(
        await insertDomainKey(step, key.oldKeyFile, { authorizedKeys: facts.authorizedKeys!, pair }),
      );
    }
  };
  const keyDone = asUser();
  const asRoot = async () => {
    const done = await runRootSteps(session, {
      writesAfter: keyDone,
      hostname: facts.hostname ? hostnameOps(facts.hostname, hostname) : undefined,
      network: networkDue
        ? { family: familyNamed(guest.os), interfaces: statics, known: facts.known }
        : undefined,
    });
    if (done.hostname) guest.hostname = hostname;
    if (done.error) throw done.error;
    if (staticsDue) guest.staticConfig = JSON.stringify(statics);
  };
  const [user, root] = await Promise.allSettled([keyDone, asRoot()]);
  if (facts.hostname && guest.hostname === hostname) {
    await step.event("Hostname", `hostname set to ${hostname}`);
  }
  if (networkDue && root.status === "fulfilled") {
    const list = statics.map((s) => `${s.address}/${s.prefix} on ${s.mac}`).join(", ");
    await step.event("Networks", `static ${list} configured`);
  }
  for (const r of [user, root]) if (r.status === "rejected") throw r.reason;
}

/**
 * Folders and provisioners, each when due, recording in `guest` what was done. Returns a provisioner's
 * failure; rejects when a step fails.
 */
async function runSteps(
  input: GuestInput,
  step: GuestStepContext,
  guest: GuestStatus,
): Promise<{ reason: string; message: string } | undefined> {
  const { dom } = step;
  // The per-boot work (folders, run: always provisioners) is due until it has completed for this domain
  // id: passes that only waited for SSH on this boot do not count.
  const newBoot = guestStatusOf(dom.status).booted !== input.domId;
  const rsyncRequest = dom.metadata.annotations[RSYNC_ANNOTATION];
  const folders = JSON.stringify(dom.spec.syncedFolders);
  if (newBoot || folders !== guest.synced || (rsyncRequest && rsyncRequest !== guest.rsyncRequest)) {
    await syncFolders(step);
    guest.synced = folders;
    guest.rsyncRequest = rsyncRequest;
  }
  const provisionRequest = dom.metadata.annotations[PROVISION_ANNOTATION];
  const all = !guest.provisioned || (!!provisionRequest && provisionRequest !== guest.provisionRequest);
  if (all || newBoot) {
    const failed = await runProvisioners(step, all);
    guest.provisionRequest = provisionRequest;
    if (failed) return failed;
    guest.provisioned = true;
  }
  return undefined;
}
