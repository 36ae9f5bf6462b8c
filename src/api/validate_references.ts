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
  const checker = new ReferenceChecker(resources, lookup, options);
  for (const res of checker.index.values()) {
    if (res.kind === "Volume" && res.spec?.backingBox !== undefined) {
      checker.require(res, ["spec", "backingBox"], "Box", res.spec.backingBox);
    }
    if (res.kind === "Domain") checker.checkDomain(res);
  }
  return sortProblems(checker.problems);
}

/** The first Domain to use a volume, a MAC, or an address on a network. */
interface Claim {
  domain: Draft;
  path: PathSegment[];
}

/** One pass of {@linkcode checkReferences}: the resources by key, the claims made so far, the problems found. */
class ReferenceChecker {
  readonly problems: Problem[] = [];
  readonly index = new Map<string, Draft>();
  readonly #claims = new Map<string, Claim>();

  constructor(
    readonly resources: readonly Draft[],
    readonly lookup: Lookup,
    readonly options: ValidateReferencesOptions,
  ) {
    for (const res of resources) this.#add(res);
  }

  /** Indexes a resource; reports a second definition, or a move to another context than it lives in. */
  #add(res: Draft): void {
    const { name, namespace } = res.metadata ?? {};
    if (res.kind === undefined || name === undefined || namespace === undefined) return;
    const k = key(res.kind, namespace, name);
    const first = this.index.get(k);
    if (first !== undefined) {
      this.problems.push(problemAt(res, ["metadata", "name"], {
        message: `${res.kind} ${quote(name)} is defined twice in namespace ${quote(namespace)}`,
        hint: `first${where(first) || " earlier"}`,
      }));
      return;
    }
    this.index.set(k, res);
    const stored = this.options.contexts === false ? undefined : this.lookup(res.kind, namespace, name);
    if (stored !== undefined && stored.spec.context !== res.spec?.context) {
      this.problems.push(problemAt(res, ["spec", "context"], {
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

  resolve<K extends Kind>(
    kind: K,
    namespace: string,
    name: string,
  ): Loose<Extract<AnyResource, { kind: K }>> | undefined {
    const found: Draft | undefined = this.index.get(key(kind, namespace, name)) ??
      this.lookup(kind, namespace, name);
    return found?.kind === kind ? found as Loose<Extract<AnyResource, { kind: K }>> : undefined;
  }

  /** The referenced object; reports it missing, or living in another context than `from`. */
  require<K extends Kind>(
    from: Draft,
    path: PathSegment[],
    kind: K,
    name: string,
  ): Loose<Extract<AnyResource, { kind: K }>> | undefined {
    const namespace = from.metadata?.namespace ?? "";
    const found = this.resolve(kind, namespace, name);
    if (
      found !== undefined && this.options.contexts !== false && found.spec?.context !== from.spec?.context
    ) {
      this.problems.push(problemAt(from, path, {
        message: `${kind} ${quote(name)} lives in ${
          contextWords(found.spec?.context)
        }, this ${from.kind} in ${
          contextWords(from.spec?.context)
        }: references stay within one context (one libvirt host)`,
      }));
    }
    if (found === undefined && (this.options.missing ?? true)) {
      const known = this.resources.filter((r) => r.kind === kind && r.metadata?.namespace === namespace)
        .map((r) => r.metadata?.name).filter((n) => n !== undefined);
      const near = closest(name, known);
      this.problems.push(problemAt(from, path, {
        message: `no ${kind} ${quote(name)} in namespace ${
          quote(namespace)
        }, neither in these manifests nor in the store`,
        hint: near === undefined ? undefined : `did you mean ${quote(near)}?`,
      }));
    }
    return found;
  }

  /** Records the claim, or returns the earlier one of another Domain. */
  #claim(k: string, domain: Draft, path: PathSegment[]): Claim | undefined {
    const other = this.#claims.get(k);
    if (other === undefined) this.#claims.set(k, { domain, path });
    return other !== undefined && other.domain !== domain ? other : undefined;
  }

  checkDomain(domain: Loose<Domain>): void {
    const spec = domain.spec;
    if (spec === undefined) return;
    if (spec.box !== undefined) this.#checkBox(domain, spec.box);
    const namespace = domain.metadata?.namespace ?? "";
    (spec.disks ?? []).forEach((disk, i) => {
      if (disk?.volume === undefined) return;
      const path = ["spec", "disks", i, "volume"];
      this.require(domain, path, "Volume", disk.volume);
      const other = this.#claim(key("Volume", namespace, disk.volume), domain, path);
      if (other !== undefined) {
        this.problems.push(problemAt(domain, path, {
          message: `Volume ${
            quote(disk.volume)
          } is already attached to another domain; a volume can be attached to one domain only`,
          hint: `attached to ${claimedBy(other)}`,
        }));
      }
    });
    (spec.cdroms ?? []).forEach((cd, i) => {
      if (cd?.volume !== undefined) {
        this.require(domain, ["spec", "cdroms", i, "volume"], "Volume", cd.volume);
      }
    });
    (spec.interfaces ?? []).forEach((itf, i) => {
      if (itf !== undefined) this.#checkInterface(domain, ["spec", "interfaces", i], itf);
    });
  }

  /** The Box exists, and the overlay Volume named after the Domain collides with no other Volume. */
  #checkBox(domain: Loose<Domain>, box: string): void {
    const namespace = domain.metadata?.namespace ?? "";
    const name = domain.metadata?.name ?? "";
    this.require(domain, ["spec", "box"], "Box", box);
    const declared = this.index.get(key("Volume", namespace, name));
    const stored = declared === undefined ? this.lookup("Volume", namespace, name) : undefined;
    const ownedByUs = stored?.metadata.ownerReferences.some((o) => o.kind === "Domain" && o.name === name) ??
      false;
    if (declared !== undefined || (stored !== undefined && !ownedByUs)) {
      this.problems.push(problemAt(domain, ["spec", "box"], {
        message: `needs a Volume named ${quote(name)} for its box overlay, but Volume ${quote(name)} ${
          declared !== undefined ? `is declared${where(declared)}` : "already exists in the store"
        }`,
        hint: "rename the Volume or the Domain, or attach the box through a Volume with backingBox",
      }));
    }
  }

  /** A MAC used once; the network exists; a static ip fits it and is used once on it. */
  #checkInterface(
    domain: Loose<Domain>,
    path: PathSegment[],
    itf: NonNullable<NonNullable<Loose<Domain>["spec"]>["interfaces"]>[number],
  ): void {
    if (itf === undefined) return;
    const namespace = domain.metadata?.namespace ?? "";
    if (itf.mac !== undefined) {
      const other = this.#claim(`mac/${itf.mac}`, domain, [...path, "mac"]);
      if (other !== undefined) {
        this.problems.push(problemAt(domain, [...path, "mac"], {
          message: "must be unique",
          value: itf.mac,
          hint: `also used by ${claimedBy(other)}`,
        }));
      }
    }
    if (itf.network === undefined) return;
    const network = this.require(domain, [...path, "network"], "Network", itf.network);
    if (itf.ip === undefined) return;
    const ipPath = [...path, "ip"];
    if (network !== undefined) this.#checkAddress(domain, ipPath, { ip: itf.ip, mac: itf.mac, network });
    const other = this.#claim(`${key("Network", namespace, itf.network)}/${itf.ip}`, domain, ipPath);
    if (other !== undefined) {
      this.problems.push(problemAt(domain, ipPath, {
        message: `must be unique on Network ${quote(itf.network)}`,
        value: itf.ip,
        hint: `also used by ${claimedBy(other)}`,
      }));
    }
  }

  /** A static address inside the network, not its host address, not reserved for another MAC. */
  #checkAddress(
    domain: Draft,
    path: PathSegment[],
    { ip, mac, network }: { ip: string; mac: string | undefined; network: Loose<Network> },
  ): void {
    const subnet = networkSubnet(network.spec);
    if (subnet === undefined) return;
    const why = guestAddressProblem(ip, subnet, { host: network.spec?.ipv4?.address });
    if (why !== undefined) {
      this.problems.push(problemAt(domain, path, { message: why, value: ip }));
      return;
    }
    const hosts = network.spec?.dhcp?.hosts ?? [];
    const reserved = hosts.findIndex((h) => h?.ip === ip);
    const owner = reserved >= 0 ? hosts[reserved]?.mac : undefined;
    if (owner !== undefined && owner !== mac) {
      this.problems.push(problemAt(domain, path, {
        message: `is reserved for ${owner} on Network ${quote(network.metadata?.name ?? "")}`,
        value: ip,
        hint: `see its spec.dhcp.hosts[${reserved}]; give this interface that mac, or another ip`,
      }));
    }
  }
}

function claimedBy(c: Claim): string {
  const pos = positionOf(c.domain, c.path);
  const at = pos === undefined ? formatPath(c.path) : `${pos.file}:${pos.line}`;
  return `Domain ${quote(c.domain.metadata?.name ?? "")} at ${at}`;
}
