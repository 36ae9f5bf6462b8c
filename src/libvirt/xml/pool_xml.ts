/**
 * libvirt storage pool XML for dir pools (`virsh pool-define`, `pool-dumpxml`).
 *
 * @module
 */

import { el, renderXml } from "./escape.ts";
import { attrOf, childOf, parseXml, textAt, XmlParseError } from "./parse_xml.ts";
import { scaledToBytes } from "./scaled_integer.ts";

/** What {@linkcode poolXml} renders. */
export interface PoolXmlInput {
  name: string;
  /** Absolute directory holding the volumes, e.g. /var/lib/libvirt/images. */
  path: string;
}

/** A pool as libvirt describes it. Sizes are in bytes and absent for an inactive pool's definition. */
export interface PoolXmlState {
  name: string;
  uuid?: string;
  /** Pool type: dir, fs, logical, ... */
  type: string;
  /** Target path. */
  path: string;
  capacity?: number;
  allocation?: number;
  available?: number;
}

/** libvirt XML for a dir pool, for `virsh pool-define FILE`. */
export function poolXml(pool: PoolXmlInput): string {
  return renderXml(
    el("pool", { type: "dir" }, el("name", {}, pool.name), el("target", {}, el("path", {}, pool.path))),
  );
}

/**
 * Reads `virsh pool-dumpxml` output. Throws `XmlParseError` for
 * malformed XML or a document that is not a `<pool>`.
 */
export function parsePoolXml(xml: string): PoolXmlState {
  const root = parseXml(xml);
  if (root.name !== "pool") throw new XmlParseError(`Expected <pool>, found <${root.name}>`);
  const state: PoolXmlState = {
    name: textAt(root, "name") ?? "",
    type: attrOf(root, "type") ?? "",
    path: textAt(root, "target/path") ?? "",
  };
  const uuid = textAt(root, "uuid");
  if (uuid !== undefined) state.uuid = uuid.trim();
  for (const key of ["capacity", "allocation", "available"] as const) {
    const node = childOf(root, key);
    if (node) state[key] = scaledToBytes(node.text, attrOf(node, "unit"));
  }
  return state;
}
