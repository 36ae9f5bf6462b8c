/**
 * Rules of a Network that relate its fields: netmask to prefix, the host
 * address inside its subnet, the DHCP range and reservations inside it, the
 * default DHCP range.
 *
 * @module
 */

import { defaultDhcpRange } from "./defaults.ts";
import type { PathSegment, ProblemCollector } from "./problem.ts";
import type { DhcpHost, Network } from "./types.ts";
import type { Loose } from "./loose.ts";
import {
  formatIPv4,
  formatSubnet,
  parseIPv4,
  prefixFromNetmask,
  type Subnet,
  subnetContains,
  subnetOf,
} from "./validate_ipv4.ts";

/** The subnet of a network spec, when its address and prefix are valid. */
export function networkSubnet(
  spec: { ipv4?: { address?: string; prefix?: number } } | undefined,
): Subnet | undefined {
  const address = spec?.ipv4?.address === undefined ? undefined : parseIPv4(spec.ipv4.address);
  const prefix = spec?.ipv4?.prefix;
  if (address === undefined || prefix === undefined) return undefined;
  return subnetOf(address, prefix);
}

/** Options for {@linkcode guestAddressProblem}. */
export interface GuestAddressOptions {
  /** The host's own address on the network, which a guest cannot have. Default: not checked. */
  host?: string;
}

/**
 * Why `ip` cannot be a guest address on `subnet` (outside it, its network or
 * broadcast address, or the host's own address), or undefined when it can.
 */
export function guestAddressProblem(
  ip: string,
  subnet: Subnet,
  options: GuestAddressOptions = {},
): string | undefined {
  const host = options.host;
  const n = parseIPv4(ip);
  if (n === undefined) return undefined;
  const cidr = formatSubnet(subnet);
  if (!subnetContains(subnet, n)) return `must be inside ${cidr}`;
  if (n === subnet.network) return `must not be the network address of ${cidr}`;
  if (n === subnet.broadcast) return `must not be the broadcast address of ${cidr}`;
  if (host !== undefined && n === parseIPv4(host)) return `must not be the host's own address on ${cidr}`;
  return undefined;
}

/** Checks a walked Network and fills in the default DHCP range. */
export function checkNetwork(network: Loose<Network>, r: ProblemCollector): void {
  const spec = network.spec;
  if (spec === undefined) return;
  const ipv4 = spec.ipv4 as (Loose<Network["spec"]["ipv4"]> & { netmask?: string }) | undefined;
  if (ipv4?.netmask !== undefined) {
    const prefix = prefixFromNetmask(ipv4.netmask);
    if (prefix !== undefined && (prefix < 1 || prefix > 30)) {
      r.report(["spec", "ipv4", "netmask"], {
        message: "must be a netmask from /1 to /30 (128.0.0.0 to 255.255.255.252)",
        value: ipv4.netmask,
      });
    } else if (prefix !== undefined) {
      ipv4.prefix = prefix;
    }
    delete ipv4.netmask;
  }
  if (spec.mode === "isolated" && spec.forwardDevice !== undefined) {
    r.report(["spec", "forwardDevice"], {
      message: "applies only to nat and route networks; this one is isolated",
      value: spec.forwardDevice,
      key: true,
    });
  }
  const subnet = networkSubnet(spec);
  if (subnet === undefined) return;
  const cidr = formatSubnet(subnet);
  const address = ipv4?.address !== undefined ? parseIPv4(ipv4.address) : undefined;
  if (address === subnet.network || address === subnet.broadcast) {
    r.report(["spec", "ipv4", "address"], {
      message: `must be a host address, not the ${
        address === subnet.network ? "network" : "broadcast"
      } address of ${cidr}`,
      value: ipv4?.address,
      hint: `for example ${formatIPv4(subnet.network + 1)}`,
    });
  }
  const dhcp = spec.dhcp;
  if (dhcp === undefined) return;
  if (dhcp.range === undefined && dhcp.enabled === true && !r.reported(["spec", "dhcp", "range"])) {
    dhcp.range = defaultDhcpRange(ipv4?.address ?? "", subnet.prefix);
  } else if (dhcp.range !== undefined) {
    checkDhcpRange(dhcp.range, subnet, r);
  }
  checkDhcpHosts(dhcp.hosts ?? [], subnet, ipv4?.address, r);
}

type DhcpRange = NonNullable<Network["spec"]["dhcp"]["range"]>;

/** The DHCP range lies inside the subnet, on guest addresses, start before end. */
function checkDhcpRange(range: Loose<DhcpRange>, subnet: Subnet, r: ProblemCollector): void {
  const { start, end } = range;
  for (const [name, ip] of [["start", start], ["end", end]] as const) {
    if (ip === undefined) continue;
    const why = guestAddressProblem(ip, subnet);
    if (why !== undefined) r.report(["spec", "dhcp", "range", name], { message: why, value: ip });
  }
  const s = start === undefined ? undefined : parseIPv4(start);
  const e = end === undefined ? undefined : parseIPv4(end);
  if (s !== undefined && e !== undefined && s > e) {
    r.report(["spec", "dhcp", "range", "end"], {
      message: `must not be before start (${start})`,
      value: end,
    });
  }
}

/** Each reservation on a guest address of the subnet (not the host's); MACs, addresses and names unique. */
function checkDhcpHosts(
  hosts: Loose<DhcpHost[]>,
  subnet: Subnet,
  hostAddress: string | undefined,
  r: ProblemCollector,
): void {
  const macs = new Map<string, number>();
  const ips = new Map<string, number>();
  const names = new Map<string, number>();
  const hostsPath: PathSegment[] = ["spec", "dhcp", "hosts"];
  hosts.forEach((host, i) => {
    if (host === undefined) return;
    if (host.ip !== undefined) {
      const why = guestAddressProblem(host.ip, subnet, { host: hostAddress });
      if (why !== undefined) r.report([...hostsPath, i, "ip"], { message: why, value: host.ip });
    }
    for (
      const [field, seen, value] of [["mac", macs, host.mac], ["ip", ips, host.ip], [
        "name",
        names,
        host.name,
      ]] as const
    ) {
      if (value === undefined) continue;
      const first = seen.get(value);
      if (first === undefined) seen.set(value, i);
      else {
        r.report([...hostsPath, i, field], {
          message: "must be unique",
          value,
          hint: `also in hosts[${first}]`,
        });
      }
    }
  });
}
