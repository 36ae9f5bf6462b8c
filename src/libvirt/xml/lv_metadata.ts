/**
 * lv's mark on the libvirt objects it creates.
 *
 * Domains and networks carry, inside libvirt's `<metadata>` element, one
 * element in lv's XML namespace naming the resource that owns them:
 *
 * ```xml
 * <metadata>
 *   <lv:owner xmlns:lv="https://lv.dev/xmlns/libvirt/1" uid="6f1c..." kind="Domain"
 *             name="web" namespace="default" generation="3"/>
 * </metadata>
 * ```
 *
 * A controller adopts or deletes a same-named libvirt object only when its
 * owner uid is the resource's uid; anything else is a NameConflict. libvirt
 * keeps one metadata element per namespace URI and may rewrite the prefix, so
 * {@linkcode ownerOf} matches on the namespace URI, never on the prefix.
 * `generation` is the resource generation the XML was rendered from.
 *
 * Storage volumes and pools have no `<metadata>` (nor `<description>`) in
 * libvirt, so volume ownership is not recorded here: see the Volume controller
 * (the owning resource's status records the volume's key/path, and the
 * volume is named after the resource).
 *
 * @module
 */

import type { Kind, Resource } from "../../api/types.ts";
import { KINDS } from "../../api/types.ts";
import { el, renderXml, type XmlElement } from "./escape.ts";
import { attrOf, childrenOf, parseXml, type XmlNode } from "./parse_xml.ts";

/** lv's XML namespace URI for libvirt metadata. */
export const LV_XMLNS = "https://lv.dev/xmlns/libvirt/1";
/** The prefix lv writes (`virsh metadata --key lv`); readers must not rely on it. */
export const LV_XMLNS_PREFIX = "lv";

/** Who owns a libvirt object, as recorded in its metadata. */
export interface LvOwner {
  uid: string;
  kind: Kind;
  name: string;
  namespace: string;
  /** `metadata.generation` of the resource when the XML was rendered. */
  generation: number;
}

/** The owner record for a resource. */
export function ownerFor(resource: Pick<Resource, "kind" | "metadata">): LvOwner {
  const { uid, name, namespace, generation } = resource.metadata;
  return { uid, kind: resource.kind, name, namespace, generation };
}

/** `<lv:owner xmlns:lv="..." .../>`: the element alone, e.g. for `virsh metadata --uri LV_XMLNS --key lv --set`. */
export function ownerElement(owner: LvOwner): XmlElement {
  return el(`${LV_XMLNS_PREFIX}:owner`, {
    [`xmlns:${LV_XMLNS_PREFIX}`]: LV_XMLNS,
    uid: owner.uid,
    kind: owner.kind,
    name: owner.name,
    namespace: owner.namespace,
    generation: owner.generation,
  });
}

/** `<metadata><lv:owner .../></metadata>` for a domain or network. */
export function lvMetadata(owner: LvOwner): XmlElement {
  return el("metadata", {}, ownerElement(owner));
}

/** The owner element as XML text. */
export function ownerXml(owner: LvOwner): string {
  return renderXml(ownerElement(owner));
}

type Scope = Record<string, string>;

function scopeOf(node: XmlNode, parent: Scope): Scope {
  const scope: Scope = { ...parent };
  for (const [key, value] of Object.entries(node.attrs)) {
    if (key === "xmlns") scope[""] = value;
    else if (key.startsWith("xmlns:")) scope[key.slice(6)] = value;
  }
  return scope;
}

function ownerIn(node: XmlNode, parent: Scope): LvOwner | undefined {
  const scope = scopeOf(node, parent);
  const colon = node.name.indexOf(":");
  const prefix = colon < 0 ? "" : node.name.slice(0, colon);
  const local = colon < 0 ? node.name : node.name.slice(colon + 1);
  if (local !== "owner" || scope[prefix] !== LV_XMLNS) return undefined;
  const uid = attrOf(node, "uid");
  const kind = attrOf(node, "kind");
  const name = attrOf(node, "name");
  const generation = Number(attrOf(node, "generation") ?? "0");
  if (!uid || !name || !KINDS.includes(kind as Kind) || !Number.isSafeInteger(generation)) return undefined;
  return { uid, kind: kind as Kind, name, namespace: attrOf(node, "namespace") ?? "default", generation };
}

/** Options for {@linkcode ownerOf} and {@linkcode ownerOfNode}. */
export interface OwnerOfOptions {
  /**
   * The XML is what `virsh metadata NAME --uri LV_XMLNS` prints: the owner
   * element with its namespace stripped (`<owner uid=.../>`), which is taken
   * to be in lv's namespace. Default false.
   */
  fromVirshMetadata?: boolean;
}

/**
 * The lv owner recorded in a parsed libvirt document: a `<domain>` or
 * `<network>` (looked up in its `<metadata>`), a `<metadata>` element, or the
 * owner element itself. Undefined when there is none or it lacks uid, name
 * or a known kind.
 */
export function ownerOfNode(root: XmlNode, options: OwnerOfOptions = {}): LvOwner | undefined {
  const implied: Scope = options.fromVirshMetadata ? { "": LV_XMLNS } : {};
  const direct = ownerIn(root, implied);
  if (direct) return direct;
  const rootScope = scopeOf(root, {});
  const metadatas = root.name === "metadata" ? [root] : childrenOf(root, "metadata");
  for (const metadata of metadatas) {
    const scope = metadata === root ? rootScope : scopeOf(metadata, rootScope);
    for (const child of metadata.children) {
      const owner = ownerIn(child, scope);
      if (owner) return owner;
    }
  }
  return undefined;
}

/**
 * Parses libvirt XML (`virsh dumpxml`, `net-dumpxml`, or with
 * `fromVirshMetadata` the output of `virsh metadata --uri`) and returns the
 * lv owner it records, if any. Matching is by namespace URI, whatever the
 * prefix. Throws `XmlParseError` (parse_xml.ts) on malformed XML.
 */
export function ownerOf(xml: string, options: OwnerOfOptions = {}): LvOwner | undefined {
  return ownerOfNode(parseXml(xml), options);
}
