/**
 * libvirt network XML for Network resources, read back for drift detection.
 *
 * @module
 */

import type { DhcpHost, Network, NetworkMode } from "../../api/types.ts";
import { diffPaths } from "./diff_paths.ts";
import { el, renderXml } from "./escape.ts";
import { lvMetadata, type LvOwner, ownerFor, ownerOfNode } from "./lv_metadata.ts";
import { attrOf, childOf, childrenOf, parseXml, textAt, XmlParseError } from "./parse_xml.ts";

/** Options for {@linkcode networkXml}. */
export interface NetworkXmlOptions {
  /**
   * UUID of the network libvirt already has under this name. Pass it when
   * redefining: libvirt refuses a definition whose uuid differs from the
   * existing one. Default: none (libvirt generates one).
   */
  uuid?: string;
}

/** libvirt forward modes lv does not create but may find on a network it reads. */
export type OtherForwardMode = "open" | "bridge" | "private" | "vepa" | "passthrough" | "hostdev";

/** A network as libvirt describes it, in the terms of NetworkSpec. */
export interface NetworkXmlState {
  name: string;
  uuid?: string;
  /** `isolated` when there is no `<forward>`. */
  mode: NetworkMode | OtherForwardMode;
  /** Bridge device name (libvirt fills it in on define). */
  bridge?: string;
  /** `<forward dev=...>`. */
  forwardDevice?: string;
  /** `<domain name=...>`. */
  domainName?: string;
  /** The first IPv4 `<ip>`; netmask is converted to a prefix. */
  ipv4?: { address: string; prefix: number };
  /** DHCP on that IPv4 address: the first range, and every static host. */
  dhcp: { enabled: boolean; range?: { start: string; end: string }; hosts: DhcpHost[] };
  owner?: LvOwner;
}

/**
 * Names allowed for DHCP hosts. libvirt 9.0 writes `<host name=...>` back
 * without escaping it, so a name with XML markup would leave a network
 * definition libvirt itself cannot read again; dnsmasq wants host names anyway.
 */
const DHCP_HOST_NAME = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/;

/**
 * libvirt network XML for `virsh net-define`: forward mode, bridge, IPv4 with DHCP,
 * DNS domain, lv owner. Throws a RangeError for a DHCP host name that is not
 * a host name.
 */
export function networkXml(net: Network, options: NetworkXmlOptions = {}): string {
  const spec = net.spec;
  spec.dhcp.hosts.forEach((h, i) => {
    if (h.name !== undefined && !DHCP_HOST_NAME.test(h.name)) {
      throw new RangeError(
        `spec.dhcp.hosts[${i}].name: must be a host name (letters, digits, "-", "."); got ${
          JSON.stringify(h.name)
        }`,
      );
    }
  });
  const dhcp = spec.dhcp.enabled &&
    el(
      "dhcp",
      {},
      spec.dhcp.range && el("range", { start: spec.dhcp.range.start, end: spec.dhcp.range.end }),
      ...spec.dhcp.hosts.map((h) => el("host", { mac: h.mac, name: h.name, ip: h.ip })),
    );
  const root = el(
    "network",
    {},
    el("name", {}, net.metadata.name),
    options.uuid !== undefined && el("uuid", {}, options.uuid),
    lvMetadata(ownerFor(net)),
    spec.mode !== "isolated" && el("forward", { mode: spec.mode, dev: spec.forwardDevice }),
    el("bridge", { name: spec.bridge, stp: "on", delay: "0" }),
    spec.domainName !== undefined && el("domain", { name: spec.domainName, localOnly: "yes" }),
    el("ip", { address: spec.ipv4.address, prefix: spec.ipv4.prefix }, dhcp),
  );
  return renderXml(root);
}

function netmaskToPrefix(netmask: string): number | undefined {
  const parts = netmask.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  const bits = parts.map((p) => p.toString(2).padStart(8, "0")).join("");
  return /^1*0*$/.test(bits) ? bits.indexOf("0") === -1 ? 32 : bits.indexOf("0") : undefined;
}

const MODES = ["nat", "route", "open", "bridge", "private", "vepa", "passthrough", "hostdev"];

/**
 * Reads `virsh net-dumpxml` output. Throws `XmlParseError` for
 * malformed XML or a document that is not a `<network>`.
 */
export function parseNetworkXml(xml: string): NetworkXmlState {
  const root = parseXml(xml);
  if (root.name !== "network") throw new XmlParseError(`Expected <network>, found <${root.name}>`);
  const forward = childOf(root, "forward");
  const forwardMode = forward ? attrOf(forward, "mode") ?? "nat" : "isolated";
  if (forwardMode !== "isolated" && !MODES.includes(forwardMode)) {
    throw new XmlParseError(`Unknown forward mode ${JSON.stringify(forwardMode)}`);
  }
  const ip = childrenOf(root, "ip").find((n) => (attrOf(n, "family") ?? "ipv4") === "ipv4");
  let ipv4: NetworkXmlState["ipv4"];
  const address = attrOf(ip, "address");
  if (address !== undefined) {
    const prefixText = attrOf(ip, "prefix");
    const netmask = attrOf(ip, "netmask");
    const prefix = prefixText !== undefined
      ? Number(prefixText)
      : netmask !== undefined
      ? netmaskToPrefix(netmask)
      : undefined;
    if (prefix === undefined || !Number.isInteger(prefix)) {
      throw new XmlParseError(`Network <ip address="${address}"> has no valid prefix or netmask`);
    }
    ipv4 = { address, prefix };
  }
  const dhcpNode = childOf(ip, "dhcp");
  const rangeNode = childOf(dhcpNode, "range");
  const range = rangeNode
    ? { start: attrOf(rangeNode, "start") ?? "", end: attrOf(rangeNode, "end") ?? "" }
    : undefined;
  const hosts = childrenOf(dhcpNode, "host").map((h): DhcpHost => {
    const host: DhcpHost = { mac: attrOf(h, "mac") ?? "", ip: attrOf(h, "ip") ?? "" };
    const name = attrOf(h, "name");
    if (name !== undefined) host.name = name;
    return host;
  });
  const state: NetworkXmlState = {
    name: textAt(root, "name") ?? "",
    mode: forwardMode as NetworkXmlState["mode"],
    dhcp: { enabled: dhcpNode !== undefined, hosts },
  };
  const uuid = textAt(root, "uuid");
  if (uuid !== undefined) state.uuid = uuid.trim();
  const bridge = attrOf(childOf(root, "bridge"), "name");
  if (bridge !== undefined) state.bridge = bridge;
  const dev = attrOf(forward, "dev");
  if (dev !== undefined) state.forwardDevice = dev;
  const domainName = attrOf(childOf(root, "domain"), "name");
  if (domainName !== undefined) state.domainName = domainName;
  if (ipv4) state.ipv4 = ipv4;
  if (range) state.dhcp.range = range;
  const owner = ownerOfNode(root);
  if (owner) state.owner = owner;
  return state;
}

/**
 * What a Network's spec says libvirt should have, in the shape
 * {@linkcode parseNetworkXml} returns (without uuid; bridge only when the spec names one).
 */
export function networkStateFromSpec(net: Network): NetworkXmlState {
  return parseNetworkXml(networkXml(net));
}

function comparable(state: NetworkXmlState, wantBridge: boolean): Record<string, unknown> {
  const hosts: Record<string, unknown> = {};
  for (const h of state.dhcp.hosts) {
    hosts[`[${(h.mac || h.name || "").toLowerCase()}]`] = { ip: h.ip, name: h.name };
  }
  const dhcpOn = state.dhcp.enabled;
  return {
    name: state.name,
    mode: state.mode,
    ...(wantBridge ? { bridge: state.bridge } : {}),
    forwardDevice: state.forwardDevice,
    domainName: state.domainName,
    ipv4: state.ipv4 ? { address: state.ipv4.address, prefix: state.ipv4.prefix } : undefined,
    dhcp: {
      enabled: dhcpOn,
      ...(dhcpOn ? { range: state.dhcp.range ? { ...state.dhcp.range } : undefined, hosts } : {}),
    },
    owner: state.owner ? { uid: state.owner.uid } : undefined,
  };
}

/**
 * Field paths where libvirt's network (`got`) differs from what the spec
 * wants, e.g. `["mode", "dhcp.hosts[52:54:00:aa:bb:cc].ip"]`; empty when in
 * sync. The uuid and the owner's generation are not compared; the bridge only
 * when `want` names one (libvirt picks virbrN otherwise); DHCP range and hosts
 * only when DHCP is enabled on both sides. DHCP hosts are matched by MAC
 * (case-insensitively), so their order does not matter.
 */
export function networkDiff(want: NetworkXmlState, got: NetworkXmlState): string[] {
  const wantBridge = want.bridge !== undefined;
  const a = comparable(want, wantBridge);
  const b = comparable(got, wantBridge);
  if (!want.dhcp.enabled || !got.dhcp.enabled) {
    a.dhcp = { enabled: want.dhcp.enabled };
    b.dhcp = { enabled: got.dhcp.enabled };
  }
  return diffPaths(a, b);
}
