/**
 * The three files of a cloud-init NoCloud seed (meta-data, user-data, network-config) for a Domain with
 * `spec.cloudInit`: pure, so the same input always gives the same bytes (and the same instance-id).
 *
 * - meta-data: `instance-id` and `local-hostname`.
 * - user-data: `#cloud-config` with lv's user (spec.ssh.user, lv's generated key, passwordless sudo) and the
 *   SSH host key lv generated and pinned; `cloudInit.userData` as a mapping is merged after it (its `users`
 *   come after lv's user, its other keys replace lv's); as text it is the whole user-data, taken as is.
 * - network-config: version 2, each interface matched by MAC: its static address where lv configures one
 *   (an ip on a network without DHCP), DHCP otherwise; `cloudInit.networkConfig` replaces it.
 *
 * The instance-id is `iid-<uid>-<digest of the other contents>`: a change of user data or network config
 * gives a new instance-id, so at the next boot cloud-init treats the guest as a new instance and runs its
 * per-instance modules (users, write_files, runcmd...) again with the new data. lv's host key goes into every
 * seed, so a new instance keeps the host key lv pinned.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { stringify } from "yaml";

/** One NIC of the Domain, in guest order. */
export interface SeedInterface {
  /** MAC address (lower case, colons). */
  mac: string;
  /** Static address lv configures in the guest (an ip on a network without DHCP); DHCP when absent. */
  address?: string;
  prefix?: number;
}

/** What a seed is made from. */
export interface SeedInput {
  /** The Domain's metadata.uid. */
  uid: string;
  hostname: string;
  /** spec.ssh.user: the user cloud-init creates for lv. */
  user: string;
  /** lv's login key for this Domain, public half ("ssh-ed25519 AAAA... comment"); none: no key for lv's user. */
  authorizedKey?: string;
  /** The SSH host key lv generated and pins (OpenSSH private key text and public line); none: the guest makes one. */
  hostKey?: { privateKey: string; publicKey: string };
  interfaces: SeedInterface[];
  /** spec.cloudInit.userData, a file's text already read in place of a path. */
  userData?: Record<string, unknown> | string;
  /** spec.cloudInit.networkConfig. */
  networkConfig?: Record<string, unknown>;
}

/** The seed's files and the instance-id in its meta-data. */
export interface SeedContent {
  instanceId: string;
  metaData: string;
  userData: string;
  networkConfig: string;
}

/**
 * cloud-init reads its seed with PyYAML, which is YAML 1.1: written as 1.1, strings that 1.1 would take for
 * something else are quoted (a MAC of digits only is a base-60 integer there, "on" a boolean).
 */
const YAML_OPTIONS = { lineWidth: 0, version: "1.1" } as const;

/** lv's own part of the user data: its user with its key and passwordless sudo, and the pinned host key. */
export function defaultUserData(input: SeedInput): Record<string, unknown> {
  const data: Record<string, unknown> = {
    users: [{
      name: input.user,
      sudo: "ALL=(ALL) NOPASSWD:ALL",
      shell: "/bin/bash",
      lock_passwd: true,
      ...(input.authorizedKey ? { ssh_authorized_keys: [input.authorizedKey] } : {}),
    }],
  };
  if (input.hostKey) {
    const [type] = input.hostKey.publicKey.split(" ");
    const name = type.replace(/^ssh-/, "").replace(/^ecdsa-sha2-nistp\d+$/, "ecdsa");
    data.ssh_keys = {
      [`${name}_private`]: input.hostKey.privateKey,
      [`${name}_public`]: input.hostKey.publicKey,
    };
  }
  return data;
}

/** The user's mapping merged after lv's defaults: `users` appended after lv's user, other keys replaced. */
export function mergeUserData(
  defaults: Record<string, unknown>,
  user: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(user)) {
    if (key === "users" && Array.isArray(value) && Array.isArray(defaults.users)) {
      out.users = [...defaults.users, ...value];
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** network-config version 2 for the interfaces: static addresses where given, DHCP otherwise. */
export function defaultNetworkConfig(interfaces: SeedInterface[]): Record<string, unknown> {
  const ethernets: Record<string, unknown> = {};
  interfaces.forEach((ifc, i) => {
    ethernets[`lv${i}`] = ifc.address
      ? { match: { macaddress: ifc.mac }, addresses: [`${ifc.address}/${ifc.prefix ?? 24}`], dhcp4: false }
      : { match: { macaddress: ifc.mac }, dhcp4: true };
  });
  return { version: 2, ethernets };
}

/** The seed's files for `input` (deterministic). */
export function seedContent(input: SeedInput): SeedContent {
  const userData = typeof input.userData === "string" ? input.userData : "#cloud-config\n" +
    stringify(mergeUserData(defaultUserData(input), input.userData ?? {}), YAML_OPTIONS);
  const networkConfig = stringify(
    input.networkConfig ?? defaultNetworkConfig(input.interfaces),
    YAML_OPTIONS,
  );
  const digest = createHash("sha256")
    .update(`${input.hostname}\0${userData}\0${networkConfig}`)
    .digest("hex")
    .slice(0, 12);
  const instanceId = `iid-${input.uid}-${digest}`;
  const metaData = stringify({ "instance-id": instanceId, "local-hostname": input.hostname }, YAML_OPTIONS);
  return { instanceId, metaData, userData, networkConfig };
}
