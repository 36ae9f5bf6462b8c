/**
 * IPv4 addresses, subnets and MAC addresses: parsing and the checks the
 * validator needs (inside a subnet, network/broadcast address, multicast MAC).
 *
 * @module
 */

/**
 * Parses a dotted quad into an unsigned 32-bit number. Undefined for anything
 * else, including leading zeros (`010.0.0.1` is octal to some tools).
 */
export function parseIPv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (m === null) return undefined;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const part = m[i];
    if (part.length > 1 && part[0] === "0") return undefined;
    const v = Number(part);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

/** Formats an unsigned 32-bit number as a dotted quad. */
export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** An IPv4 subnet, all numbers unsigned 32-bit. */
export interface Subnet {
  /** Network address (host bits zero). */
  network: number;
  /** Broadcast address (host bits one). */
  broadcast: number;
  prefix: number;
}

/** The subnet `address/prefix` lies in. */
export function subnetOf(address: number, prefix: number): Subnet {
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const network = (address & mask) >>> 0;
  const broadcast = (network | (~mask >>> 0)) >>> 0;
  return { network, broadcast, prefix };
}

/** `10.20.30.0/24`. */
export function formatSubnet(subnet: Subnet): string {
  return `${formatIPv4(subnet.network)}/${subnet.prefix}`;
}

/** Whether `address` lies in `subnet` (network and broadcast addresses included). */
export function subnetContains(subnet: Subnet, address: number): boolean {
  return address >= subnet.network && address <= subnet.broadcast;
}

/** Prefix length of a contiguous netmask such as `255.255.255.0`; undefined when not a netmask. */
export function prefixFromNetmask(text: string): number | undefined {
  const n = parseIPv4(text);
  if (n === undefined) return undefined;
  const inverted = (~n) >>> 0;
  // contiguous ones followed by zeros: the inverted mask plus one is a power of two
  if (((inverted + 1) & inverted) !== 0) return undefined;
  let prefix = 32;
  for (let v = inverted; v !== 0; v >>>= 1) prefix--;
  return prefix;
}

/**
 * Normalizes a MAC address (`52:54:00:AB:cd:01`) to lowercase colon form;
 * undefined when the text is not six colon-separated hex pairs.
 */
export function parseMac(text: string): string | undefined {
  if (!/^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/.test(text)) return undefined;
  return text.toLowerCase();
}

/** Whether a (normalized) MAC has the multicast bit set (lowest bit of the first octet). */
export function isMulticastMac(mac: string): boolean {
  return (parseInt(mac.slice(0, 2), 16) & 1) === 1;
}
