/**
 * Checks across resources: duplicate names, references to Boxes, Volumes and
 * Networks that must exist (among the resources being applied, or in the
 * store), static addresses inside the referenced network, and names and
 * addresses that two resources would both claim.
 *
 * @module
 */

import {
  formatPath,
  type PathSegment,
  positionOf,
  type Problem,
  problemAt,
  quote,
  sortProblems,
} from "./problem.ts";
import { closest } from "./problem.ts";
import type { AnyResource, Domain, Kind, Network } from "./types.ts";
import type { Loose } from "./loose.ts";
import { guestAddressProblem, networkSubnet } from "./validate_network.ts";

type Draft = Loose<AnyResource>;

/** Finds a stored resource by kind, namespace and name. */
export type Lookup = (kind: Kind, namespace: string, name: string) => AnyResource | undefined;

/** A lookup that finds nothing (no store). */
export const NO_LOOKUP: Lookup = () => undefined;

/** Options for {@linkcode validateReferences}. */
export interface ValidateReferencesOptions {
  /**
   * Report references found neither among `resources` nor by the lookup.
   * Default true. The manifest parser turns it off for its per-file pass,
   * where a missing name may still be in the store.
   */
  missing?: boolean;
  /**
   * Report an object that would move to another context than the one it lives in. Default true; off for
   * `lv delete -f`, which only needs the names.
   */
  contexts?: boolean;
}

function key(kind: Kind, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

function where(resource: Draft): string {
  const pos = positionOf(resource, ["metadata", "name"]);
  if (pos === undefined) return "";
  return pos.line > 0 ? ` at ${pos.file}:${pos.line}` : ` in ${pos.file}`;
}

function contextWords(context: string | undefined): string {
  return context === undefined ? "no context (the --connect/LV_CONNECT host)" : `context ${quote(context)}`;
}

/**
 * Problems between `resources` (typically everything being applied at once)
 * and with the store behind `lookup`:
 *
 * - the same kind, namespace and name twice;
 * - Volume.backingBox and Domain.box name a Box, Domain.disks[].volume a
 *   Volume, Domain.interfaces[].network a Network (in the set or the store);
 * - a static interface ip lies inside its Network's subnet, is not the
 *   host's address, and is not reserved there for another MAC;
 * - a Domain's box overlay (a Volume named after the Domain) does not collide
 *   with a declared Volume;
 * - no Volume is attached to two Domains, no MAC used twice, no ip used
 *   twice on one Network.
 *
 * Problems carry positions when the resources came from `parseManifests`.
 */
export function validateReferences(
  resources: readonly AnyResource[],
  lookup: Lookup,
  options: ValidateReferencesOptions = {},
): Problem[] {
  return checkReferences(resources, lookup, options);
}

/**
 * {@linkcode validateReferences} over drafts: resources as the validator
 * walked them, possibly with invalid fields missing. The manifest parser uses
 * it so that a document with one mistake still gets its references checked.
 */
export function checkReferences(
  resources: readonly Draft[],
  lookup: Lookup,
  options: ValidateReferencesOptions = {},
): Problem[] {
  const reportMissing = options.missing ?? true;
  const problems: Problem[] = [];
  const index = new Map<string, Draft>();
  for (const res of resources) {
    const { name, namespace } = res.metadata ?? {};
    if (res.kind === undefined || name === undefined || namespace === undefined) continue;
    const k = key(res.kind, namespace, name);
    const first = index.get(k);
    if (first !== undefined) {
      problems.push(problemAt(res, ["metadata", "name"], {
        message: `${res.kind} ${quote(name)} is defined twice in namespace ${quote(namespace)}`,
        hint: `first${where(first) || " earlier"}`,
      }));
      continue;
    }
    index.set(k, res);
    const stored = options.contexts === false ? undefined : lookup(res.kind, namespace, name);
    if (stored !== undefined && stored.spec.context !== res.spec?.context) {
      problems.push(problemAt(res, ["spec", "context"], {
        message: `${res.kind} ${quote(name)} already lives in ${contextWords(stored.spec.context)}; ` +
          `this manifest puts it in ${
            contextWords(res.spec?.context)
          }, and an object cannot move between contexts`,
        hint: stored.spec.context === undefined
          ? "apply with --connect to where it lives, or delete it first"
          : `apply with --context ${stored.spec.context}, or delete it first`,
      }));
    }
  }

  function resolve<K extends Kind>(
    kind: K,
    namespace: string,
    name: string,
  ): Loose<Extract<AnyResource, { kind: K }>> | undefined {
    const found: Draft | undefined = index.get(key(kind, namespace, name)) ?? lookup(kind, namespace, name);
    return found?.kind === kind ? found as Loose<Extract<AnyResource, { kind: K }>> : undefined;
  }

  function require<K extends Kind>(
    from: Draft,
    path: PathSegment[],
    kind: K,
    name: string,
  ): Loose<Extract<AnyResource, { kind: K }>> | undefined {
    const namespace = from.metadata?.namespace ?? "";
    const found = resolve(kind, namespace, name);
    if (found !== undefined && options.contexts !== false && found.spec?.context !== from.spec?.context) {
      problems.push(problemAt(from, path, {
        message: `${kind} ${quote(name)} lives in ${
          contextWords(found.spec?.context)
        }, this ${from.kind} in ${
          contextWords(from.spec?.context)
        }: references stay within one context (one libvirt host)`,
      }));
    }
    if (found === undefined && reportMissing) {
      const known = resources.filter((r) => r.kind === kind && r.metadata?.namespace === namespace)
        .map((r) => r.metadata?.name).filter((n) => n !== undefined);
      const near = closest(name, known);
      problems.push(problemAt(from, path, {
        message: `no ${kind} ${quote(name)} in namespace ${
          quote(namespace)
        }, neither in these manifests nor in the store`,
        hint: near === undefined ? undefined : `did you mean ${quote(near)}?`,
      }));
    }
    return found;
  }

  /** The first Domain to use a volume, a MAC, or an address on a network. */
  interface Claim {
    domain: Draft;
    path: PathSegment[];
  }
  const claims = new Map<string, Claim>();
  /** Records the claim, or returns the earlier one of another Domain. */
  function claim(k: string, domain: Draft, path: PathSegment[]): Claim | undefined {
    const other = claims.get(k);
    if (other === undefined) claims.set(k, { domain, path });
    return other !== undefined && other.domain !== domain ? other : undefined;
  }
  function claimedBy(c: Claim): string {
    const pos = positionOf(c.domain, c.path);
    const at = pos === undefined ? formatPath(c.path) : `${pos.file}:${pos.line}`;
    return `Domain ${quote(c.domain.metadata?.name ?? "")} at ${at}`;
  }

  for (const res of index.values()) {
    if (res.kind === "Volume" && res.spec?.backingBox !== undefined) {
      require(res, ["spec", "backingBox"], "Box", res.spec.backingBox);
    }
    if (res.kind === "Domain") checkDomain(res);
  }

  function checkDomain(domain: Loose<Domain>): void {
    const namespace = domain.metadata?.namespace ?? "";
    const name = domain.metadata?.name ?? "";
    const spec = domain.spec;
    if (spec === undefined) return;
    if (spec.box !== undefined) {
      require(domain, ["spec", "box"], "Box", spec.box);
      const declared = index.get(key("Volume", namespace, name));
      const stored = declared === undefined ? lookup("Volume", namespace, name) : undefined;
      const ownedByUs = stored?.metadata.ownerReferences.some((o) =>
        o.kind === "Domain" && o.name === name
      ) ??
        false;
      if (declared !== undefined || (stored !== undefined && !ownedByUs)) {
        problems.push(problemAt(domain, ["spec", "box"], {
          message: `needs a Volume named ${quote(name)} for its box overlay, but Volume ${quote(name)} ${
            declared !== undefined ? `is declared${where(declared)}` : "already exists in the store"
          }`,
          hint: "rename the Volume or the Domain, or attach the box through a Volume with backingBox",
        }));
      }
    }
    (spec.disks ?? []).forEach((disk, i) => {
      if (disk?.volume === undefined) return;
      const path = ["spec", "disks", i, "volume"];
      require(domain, path, "Volume", disk.volume);
      const other = claim(key("Volume", namespace, disk.volume), domain, path);
      if (other !== undefined) {
        problems.push(problemAt(domain, path, {
          message: `Volume ${
            quote(disk.volume)
          } is already attached to another domain; a volume can be attached to one domain only`,
          hint: `attached to ${claimedBy(other)}`,
        }));
      }
    });
    (spec.interfaces ?? []).forEach((itf, i) => {
      if (itf === undefined) return;
      const path: PathSegment[] = ["spec", "interfaces", i];
      if (itf.mac !== undefined) {
        const other = claim(`mac/${itf.mac}`, domain, [...path, "mac"]);
        if (other !== undefined) {
          problems.push(problemAt(domain, [...path, "mac"], {
            message: "must be unique",
            value: itf.mac,
            hint: `also used by ${claimedBy(other)}`,
          }));
        }
      }
      if (itf.network === undefined) return;
      const network = require(domain, [...path, "network"], "Network", itf.network);
      if (itf.ip === undefined) return;
      const ipPath = [...path, "ip"];
      if (network !== undefined) checkAddress(domain, ipPath, itf.ip, itf.mac, network);
      const other = claim(`${key("Network", namespace, itf.network)}/${itf.ip}`, domain, ipPath);
      if (other !== undefined) {
        problems.push(problemAt(domain, ipPath, {
          message: `must be unique on Network ${quote(itf.network)}`,
          value: itf.ip,
          hint: `also used by ${claimedBy(other)}`,
        }));
      }
    });
  }

  function checkAddress(
    domain: Draft,
    path: PathSegment[],
    ip: string,
    mac: string | undefined,
    network: Loose<Network>,
  ): void {
    const subnet = networkSubnet(network.spec);
    if (subnet === undefined) return;
    const why = guestAddressProblem(ip, subnet, { host: network.spec?.ipv4?.address });
    if (why !== undefined) {
      problems.push(problemAt(domain, path, { message: why, value: ip }));
      return;
    }
    const hosts = network.spec?.dhcp?.hosts ?? [];
    const reserved = hosts.findIndex((h) => h?.ip === ip);
    const owner = reserved >= 0 ? hosts[reserved]?.mac : undefined;
    if (owner !== undefined && owner !== mac) {
      problems.push(problemAt(domain, path, {
        message: `is reserved for ${owner} on Network ${quote(network.metadata?.name ?? "")}`,
        value: ip,
        hint: `see its spec.dhcp.hosts[${reserved}]; give this interface that mac, or another ip`,
      }));
    }
  }

  return sortProblems(problems);
}
