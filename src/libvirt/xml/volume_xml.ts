/**
 * libvirt storage volume XML (`virsh vol-create`, `vol-dumpxml`).
 *
 * libvirt volumes carry no `<metadata>`, so lv's ownership of a volume is not
 * in this XML: the owning resource's status records the volume's path.
 *
 * @module
 */

import { el, renderXml } from "./escape.ts";
import { attrOf, childOf, parseXml, pathOf, textAt, XmlParseError } from "./parse_xml.ts";
import { scaledToBytes } from "./scaled_integer.ts";

/** What {@linkcode volumeXml} renders. */
export interface VolumeXmlInput {
  /** Volume name in the pool; in a dir pool also the file name. */
  name: string;
  /** Virtual size in bytes. */
  capacityBytes: number;
  /** Image format, e.g. qcow2 or raw. */
  format: string;
  /** Bytes to allocate up front. Default 0 (sparse). */
  allocationBytes?: number;
  /** Path of the backing file: the volume is a copy-on-write overlay on it (qcow2 only). */
  backingPath?: string;
  /** Format of the backing file. Default qcow2. */
  backingFormat?: string;
}

/** A volume as libvirt describes it. */
export interface VolumeXmlState {
  name: string;
  /** libvirt's key; for dir pools, the path. */
  key: string;
  path: string;
  /** Bytes. */
  capacity: number;
  /** Bytes actually used on the host. */
  allocation: number;
  format: string;
  backingStore?: { path: string; format: string };
}

function bytes(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${what} must be a non-negative whole number of bytes; got ${value}`);
  }
  return value;
}

/** libvirt volume XML for `virsh vol-create POOL FILE`: sparse by default, optionally a backed overlay. */
export function volumeXml(volume: VolumeXmlInput): string {
  const root = el(
    "volume",
    { type: "file" },
    el("name", {}, volume.name),
    el("capacity", { unit: "bytes" }, String(bytes(volume.capacityBytes, "capacityBytes"))),
    el("allocation", { unit: "bytes" }, String(bytes(volume.allocationBytes ?? 0, "allocationBytes"))),
    el("target", {}, el("format", { type: volume.format })),
    volume.backingPath !== undefined &&
      el(
        "backingStore",
        {},
        el("path", {}, volume.backingPath),
        el("format", { type: volume.backingFormat ?? "qcow2" }),
      ),
  );
  return renderXml(root);
}

/**
 * Reads `virsh vol-dumpxml` output. Throws `XmlParseError` for
 * malformed XML or a document that is not a `<volume>`.
 */
export function parseVolumeXml(xml: string): VolumeXmlState {
  const root = parseXml(xml);
  if (root.name !== "volume") throw new XmlParseError(`Expected <volume>, found <${root.name}>`);
  const sized = (name: string): number => {
    const node = childOf(root, name);
    return node ? scaledToBytes(node.text, attrOf(node, "unit")) : 0;
  };
  const path = textAt(root, "target/path") ?? "";
  const state: VolumeXmlState = {
    name: textAt(root, "name") ?? "",
    key: textAt(root, "key") ?? path,
    path,
    capacity: sized("capacity"),
    allocation: sized("allocation"),
    format: attrOf(pathOf(root, "target/format"), "type") ?? "raw",
  };
  const backing = childOf(root, "backingStore");
  const backingPath = textAt(backing, "path");
  if (backingPath !== undefined) {
    state.backingStore = { path: backingPath, format: attrOf(pathOf(backing, "format"), "type") ?? "raw" };
  }
  return state;
}
