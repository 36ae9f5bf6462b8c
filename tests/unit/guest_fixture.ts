/**
 * A fake guest logged in to, with a Domain and a step context around it, for the guest step tests.
 *
 * @module
 */
import { isDeviceFolder } from "../../src/api/validate_folders.ts";
import { mountTag } from "../../src/libvirt/xml/domain_filesystem_xml.ts";
import type {
  AnsibleLocalProvisioner,
  AnsiblePlayOptions,
  AnsibleProvisioner,
  Domain,
  ShellProvisioner,
} from "../../src/api/types.ts";
import { generateKeyPair, type KeyPair } from "../../src/guest/key_files.ts";
import type { GuestStepContext } from "../../src/guest/step_context.ts";
import { FakeGuest } from "./fake_guest.ts";
import { example } from "./harness.ts";

export interface GuestFixture {
  guest: FakeGuest;
  dom: Domain;
  /** The box's key pair: authorized in the guest for vagrant, its private half in `keyFile`. */
  boxKey: KeyPair;
  keyFile: string;
  home: string;
  ctx: GuestStepContext;
  /** Events recorded through ctx.event: "Reason: message". */
  events: string[];
  /** Output streamed through ctx.progress, with its prefix. */
  progress: string[];
  close(): Promise<void>;
}

let boxKey: Promise<KeyPair> | undefined;

/** A manifest of Domain "web" whose spec.provision is `entries` (YAML list items, indented 4). */
export const provisionManifest = (entries: string): string =>
  `apiVersion: lv.dev/v1alpha1
kind: Domain
metadata:
  name: web
spec:
  provision:
${entries}`;

/** basic.yaml's Domain "web" with SSH, its guest reached at 10.123.0.50 as vagrant with the box's key. */
export async function guestFixture(edit?: (dom: Domain) => void): Promise<GuestFixture> {
  const home = await Deno.makeTempDir({ prefix: "lv-guest-" });
  boxKey ??= generateKeyPair("box");
  const pair = await boxKey;
  const keyFile = `${home}/box_key`;
  await Deno.writeTextFile(keyFile, pair.private, { mode: 0o600 });
  const guest = new FakeGuest();
  guest.authorize("vagrant", pair.public);
  const dom = example<Domain>("Domain", "web", (d) => {
    d.metadata.uid = "uid-web";
    d.spec.communicator = "ssh";
    edit?.(d);
  });
  const address = "10.123.0.50";
  const session = await guest.driver.connect({
    host: address,
    port: 22,
    user: "vagrant",
    privateKey: pair.private,
  });
  const events: string[] = [];
  const progress: string[] = [];
  const ctx: GuestStepContext = {
    session,
    driver: guest.driver,
    dom,
    address,
    port: dom.spec.ssh.port,
    keyFile,
    home,
    hostAddress: "10.123.0.1",
    // The domain runs with every 9p and virtiofs folder of its spec (a test may take some away).
    liveMountTags: () =>
      Promise.resolve(new Set(dom.spec.syncedFolders.filter(isDeviceFolder).map((f) => mountTag(f.target)))),
    runHost: guest.runHost,
    event: (reason, message) => {
      events.push(`${reason}: ${message}`);
      return Promise.resolve();
    },
    progress: (chunk, prefix) => progress.push(`${prefix}${chunk}`),
  };
  return {
    guest,
    dom,
    boxKey: pair,
    keyFile,
    home,
    ctx,
    events,
    progress,
    close: () => Deno.remove(home, { recursive: true }),
  };
}

/** A shell provisioner with the defaults validation gives (privileged, run: once). */
export function shell(p: Partial<ShellProvisioner>): ShellProvisioner {
  return { type: "shell", args: [], env: {}, privileged: true, run: "once", ...p };
}

/** What validation gives ansible and ansible_local when none of their play options is set. */
const PLAY: AnsiblePlayOptions = { extraVars: {}, tags: [], verbose: false, groups: [], hostVars: {} };

/** An ansible provisioner of /srv/site.yml with the defaults validation gives. */
export function ansible(p: Partial<AnsibleProvisioner>): AnsibleProvisioner {
  return { type: "ansible", playbook: "/srv/site.yml", ...PLAY, run: "once", ...p };
}

/** An ansible_local provisioner of site.yml in /vagrant with the defaults validation gives. */
export function ansibleLocal(p: Partial<AnsibleLocalProvisioner>): AnsibleLocalProvisioner {
  return {
    type: "ansible_local",
    playbook: "site.yml",
    provisioningPath: "/vagrant",
    ...PLAY,
    install: false,
    run: "once",
    ...p,
  };
}

/** Runs `fn` on a new fixture and removes its home after. */
export async function withFixture(
  edit: ((dom: Domain) => void) | undefined,
  fn: (f: GuestFixture) => void | Promise<void>,
): Promise<void> {
  const f = await guestFixture(edit);
  try {
    await fn(f);
  } finally {
    await f.close();
  }
}
