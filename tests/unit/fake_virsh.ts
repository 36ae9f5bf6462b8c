/**
 * A stateful fake libvirt for unit tests: a {@linkcode VirshRunner} that answers exactly the virsh
 * commands src/libvirt/libvirt.ts runs, the way `virsh -q` against libvirtd's QEMU, network and storage
 * drivers answers them (libvirt 9.0 wording, checked against virsh's test driver and libvirt's source).
 *
 * - It parses the XML it is given (src/libvirt/xml/parse_xml.ts) and refuses bad XML, missing names,
 *   duplicate names and uuid mismatches with libvirt's error text on stderr and exit code 1.
 * - It echoes XML back with libvirt's additions: uuid; for domains memory in KiB, currentMemory, vcpu
 *   placement, the expanded machine type, generated MACs, and in the live XML an id, interface target
 *   devices and aliases, and the qemu64 CPU model's own features (check='full'); for networks a bridge name virbrN and a MAC; for volumes key, path, capacity,
 *   allocation and the backing store.
 * - Domains and networks have a persistent and a live definition: defining a running domain (or an
 *   active network) changes only the persistent one until it is stopped and started again.
 * - Every call is logged (`log`); `mutations()` lists the calls that are not read-only.
 * - Tests inject failures (`failNext`, `unreachable`), set domain states and DHCP leases.
 *
 * @module
 */

import type { RunOptions, VirshResult, VirshRunner } from "../../src/libvirt/virsh.ts";
import { escapeAttr, escapeText } from "../../src/libvirt/xml/escape.ts";
import {
  attrOf,
  childOf,
  childrenOf,
  parseXml,
  textAt,
  type XmlNode,
  XmlParseError,
} from "../../src/libvirt/xml/parse_xml.ts";
import { scaledToBytes } from "../../src/libvirt/xml/scaled_integer.ts";

/** Commands that never change libvirt's state. */
export const READ_ONLY_COMMANDS: ReadonlySet<string> = new Set([
  "version",
  "capabilities",
  "domcapabilities",
  "nodedev-list",
  "nodedev-dumpxml",
  "pool-dumpxml",
  "pool-info",
  "vol-dumpxml",
  "vol-list",
  "vol-path",
  "vol-info",
  "vol-download",
  "net-dumpxml",
  "net-info",
  "net-dhcp-leases",
  "dumpxml",
  "domstate",
  "domifaddr",
  "domid",
  "snapshot-list",
  "qemu-monitor-command",
]);

/** What libvirt prints when libvirtd cannot be reached. */
export const UNREACHABLE_STDERR = "error: failed to connect to the hypervisor\n" +
  "error: Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory\n";

/** Options for {@linkcode FakeVirsh}. */
export interface FakeVirshOptions {
  /** Connection URI reported. Default "qemu:///system". */
  uri?: string;
  /** Whether the host offers KVM (domcapabilities --virttype kvm, define type='kvm'). Default false. */
  kvm?: boolean;
  /**
   * What a guest does on `shutdown` (ACPI): "obey" powers off at once, "ignore" keeps running (a guest
   * without ACPI support, for grace-period tests). Default "obey".
   */
  acpi?: "obey" | "ignore";
  /** Milliseconds every call takes (lets concurrent reconciles interleave). Default 0. */
  latencyMs?: number;
  /** Whether OVMF's firmware descriptors are installed (domcapabilities offers firmware efi). Default true. */
  ovmf?: boolean;
  /** Whether swtpm is installed (domcapabilities offers an emulated TPM). Default true. */
  swtpm?: boolean;
  /** Host devices `nodedev-*` shows: USB vendor/product ids ("0x1d6b:0x0002") and PCI addresses. Default none. */
  hostDevices?: { usb?: string[]; pci?: string[] };
}

/** A DHCP lease a test hands out on a network. */
export interface FakeLease {
  mac: string;
  ip: string;
  /** Default 24. */
  prefix?: number;
  hostname?: string;
}

export interface FakePool {
  name: string;
  uuid: string;
  type: string;
  path: string;
  active: boolean;
  autostart: boolean;
  built: boolean;
  volumes: Map<string, FakeVolume>;
}

export interface FakeVolume {
  name: string;
  pool: string;
  path: string;
  capacity: number;
  allocation: number;
  format: string;
  backingStore?: { path: string; format: string };
  /** Files uploaded into the volume, in order. */
  uploads: string[];
  /** What the volume's file holds, when a test wrote it (a log daemon appending); sizes follow it. */
  content?: Uint8Array;
}

export interface FakeNetwork {
  name: string;
  uuid: string;
  /** Persistent definition (what net-dumpxml --inactive shows). */
  def: XmlNode;
  /** Running configuration, while active. */
  live?: XmlNode;
  active: boolean;
  persistent: boolean;
  autostart: boolean;
  leases: FakeLease[];
}

export interface FakeDomain {
  name: string;
  uuid: string;
  /** Persistent definition (what dumpxml --inactive shows). */
  def: XmlNode;
  /** Running definition, while running or paused. */
  live?: XmlNode;
  id?: number;
  state: string;
  reason: string;
  persistent: boolean;
  /** The balloon target `setmem --live` set (MiB). There is no guest balloon driver: the live XML keeps its memory. */
  balloonMiB?: number;
}

interface Injection {
  command: string;
  stderr: string;
  times: number;
  afterEffect: boolean;
}

/** A command failed the way virsh fails: these lines, each printed as `error: LINE`. */
class Fail extends Error {
  readonly lines: string[];
  constructor(...lines: string[]) {
    super(lines.join("; "));
    this.lines = lines;
  }
}

interface Parsed {
  positional: string[];
  flags: Set<string>;
  options: Map<string, string>;
}

interface CommandSpec {
  /** Boolean flags, without dashes. */
  flags?: string[];
  /** Options taking a value, without dashes. */
  options?: string[];
  /** Names of the positional arguments (all required). */
  args: string[];
  run(this: FakeVirsh, p: Parsed, stdin: string | undefined): string;
}

const QEMU_VERSION = "7.2.0";
const LIBVIRT_VERSION = "9.0.0";
const MACHINE_ALIASES: Record<string, string> = { pc: "pc-i440fx-7.2", q35: "pc-q35-7.2" };
const FORWARD_MODES = ["nat", "route", "open", "bridge", "private", "vepa", "passthrough", "hostdev"];
const VOLUME_FORMATS = ["raw", "qcow2", "qcow", "vmdk", "vdi", "vpc", "iso", "dir", "bochs", "cloop", "dmg"];

// ------------------------------------------------------------------ XML helpers

function node(name: string, attrs: Record<string, string> = {}, ...children: XmlNode[]): XmlNode {
  return { name, attrs, children, text: "" };
}

function textNode(name: string, text: string, attrs: Record<string, string> = {}): XmlNode {
  return { name, attrs, children: [], text };
}

function clone(n: XmlNode): XmlNode {
  return structuredClone(n);
}

/** Serialises the way libvirt does: two-space indent, single-quoted attributes. */
export function formatXml(root: XmlNode): string {
  const out: string[] = [];
  const write = (n: XmlNode, depth: number) => {
    const pad = "  ".repeat(depth);
    const attrs = Object.entries(n.attrs).map(([k, v]) => ` ${k}='${escapeAttr(v)}'`).join("");
    if (n.children.length === 0) {
      const text = n.text.trim() === "" ? "" : n.text;
      out.push(
        text === ""
          ? `${pad}<${n.name}${attrs}/>`
          : `${pad}<${n.name}${attrs}>${escapeText(text)}</${n.name}>`,
      );
      return;
    }
    out.push(`${pad}<${n.name}${attrs}>`);
    for (const c of n.children) write(c, depth + 1);
    out.push(`${pad}</${n.name}>`);
  };
  write(root, 0);
  return out.join("\n") + "\n";
}

/** Orders a root's children as libvirt formats them; unknown elements keep their order at the end. */
function canonicalOrder(root: XmlNode, order: string[]): void {
  const rank = (n: XmlNode) => {
    const i = order.indexOf(n.name);
    return i < 0 ? order.length : i;
  };
  root.children = root.children.map((c, i) => ({ c, i }))
    .sort((a, b) => rank(a.c) - rank(b.c) || a.i - b.i)
    .map(({ c }) => c);
}

function setChild(parent: XmlNode, child: XmlNode): void {
  const i = parent.children.findIndex((c) => c.name === child.name);
  if (i >= 0) parent.children[i] = child;
  else parent.children.push(child);
}

const DOMAIN_ORDER = [
  "name",
  "uuid",
  "genid",
  "title",
  "description",
  "metadata",
  "maxMemory",
  "memory",
  "currentMemory",
  "blkiotune",
  "memtune",
  "memoryBacking",
  "vcpu",
  "vcpus",
  "iothreads",
  "cputune",
  "resource",
  "sysinfo",
  "bootloader",
  "os",
  "idmap",
  "features",
  "cpu",
  "clock",
  "on_poweroff",
  "on_reboot",
  "on_crash",
  "on_lockfailure",
  "pm",
  "perf",
  "devices",
  "seclabel",
];
const NETWORK_ORDER = [
  "name",
  "uuid",
  "metadata",
  "forward",
  "bridge",
  "mac",
  "mtu",
  "domain",
  "dns",
  "ip",
  "route",
];

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

function normalUuid(text: string): string {
  const hex = text.trim().replace(/-/g, "").toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function parseOrFail(xml: string, what: string): XmlNode {
  try {
    return parseXml(xml);
  } catch (e) {
    if (e instanceof XmlParseError) {
      // libvirt reports libxml2's message with the document name and line.
      throw new Fail(
        `(${what}_definition):${e.line ?? 1}: ${e.message.replace(/^Invalid XML( at line \d+)?: /, "")}`,
      );
    }
    throw e;
  }
}

function ipToInt(ip: string): number {
  return ip.split(".").reduce((acc, p) => acc * 256 + Number(p), 0);
}

function prefixOf(ip: XmlNode): number | undefined {
  const prefix = attrOf(ip, "prefix");
  if (prefix !== undefined) return Number(prefix);
  const netmask = attrOf(ip, "netmask");
  if (netmask === undefined) return undefined;
  const bits = ipToInt(netmask).toString(2).padStart(32, "0");
  return bits.indexOf("0") < 0 ? 32 : bits.indexOf("0");
}

function subnetOf(net: XmlNode): string | undefined {
  const ip = childrenOf(net, "ip").find((n) => (attrOf(n, "family") ?? "ipv4") === "ipv4");
  const address = attrOf(ip, "address");
  const prefix = ip && prefixOf(ip);
  if (address === undefined || prefix === undefined) return undefined;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return `${(ipToInt(address) & mask) >>> 0}/${prefix}`;
}

function humanBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let u = 0;
  let v = n;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(2)} ${units[u]}`;
}

function info(rows: [string, string][]): string {
  return rows.map(([k, v]) => `${(k + ":").padEnd(16)}${v}`).join("\n") + "\n\n";
}

// ------------------------------------------------------------------ the fake

/**
 * A fake libvirtd behind virsh. Implements {@linkcode VirshRunner}: `calls` is the number of commands
 * run (the interface's counter); `log` holds every command's argv in order.
 */
export class FakeVirsh implements VirshRunner {
  readonly uri: string;
  /** Every command run, as argv (without `-q -c URI`), in order, including failed ones. */
  readonly log: string[][] = [];
  /** Every command run with its result, in order. */
  readonly results: { args: string[]; stdin?: string; result: VirshResult }[] = [];
  /** When true, every command fails as when libvirtd is down. */
  unreachable = false;
  /** Runs before each command is executed (after it is logged); may be async. */
  beforeCall?: (args: string[]) => void | Promise<void>;
  kvm: boolean;
  acpi: "obey" | "ignore";
  latencyMs: number;

  readonly pools = new Map<string, FakePool>();
  readonly networks = new Map<string, FakeNetwork>();
  readonly domains = new Map<string, FakeDomain>();
  /** Host files that exist outside any pool (disk sources, backing files). */
  readonly files = new Set<string>();
  #injections: Injection[] = [];
  #nextId = 1;
  #nextVnet = 0;
  #uuidSeq = 0;
  #macSeq = 0;
  /** Domain name → what happens right after it starts. */
  #afterStart = new Map<string, { state: string; reason: string }>();

  constructor(options: FakeVirshOptions = {}) {
    this.uri = options.uri ?? "qemu:///system";
    this.kvm = options.kvm ?? false;
    this.acpi = options.acpi ?? "obey";
    this.latencyMs = options.latencyMs ?? 0;
    this.ovmf = options.ovmf ?? true;
    this.swtpm = options.swtpm ?? true;
    this.hostDevices = { usb: options.hostDevices?.usb ?? [], pci: options.hostDevices?.pci ?? [] };
  }
  ovmf: boolean;
  swtpm: boolean;
  hostDevices: { usb: string[]; pci: string[] };

  get calls(): number {
    return this.log.length;
  }

  /** Index into `log` now: pass it to {@linkcode mutations} to see what happened since. */
  mark(): number {
    return this.log.length;
  }

  /** Calls (from index `since`) that may change libvirt's state. */
  mutations(since = 0): string[][] {
    return this.log.slice(since).filter((c) => !READ_ONLY_COMMANDS.has(c[0]));
  }

  /** Calls (from index `since`) of one command. */
  callsOf(command: string, since = 0): string[][] {
    return this.log.slice(since).filter((c) => c[0] === command);
  }

  /**
   * The next `times` (default 1) runs of `command` fail with `stderr` (each line gets virsh's `error: `
   * prefix when it lacks one). With `afterEffect` the command takes effect first and then reports the
   * failure, as when the connection drops before libvirt's reply arrives (a crash mid-operation).
   */
  failNext(command: string, stderr: string, options: { times?: number; afterEffect?: boolean } = {}): void {
    const text =
      stderr.split("\n").filter((l) => l !== "").map((l) => l.startsWith("error: ") ? l : `error: ${l}`)
        .join("\n") + "\n";
    this.#injections.push({
      command,
      stderr: text,
      times: options.times ?? 1,
      afterEffect: options.afterEffect ?? false,
    });
  }

  /** Sets a domain's state as libvirt would report it (e.g. "paused", "internal error"). */
  setDomainState(name: string, state: string, reason: string): void {
    const dom = this.domains.get(name);
    if (!dom) throw new Error(`FakeVirsh: no domain ${name}`);
    const wasActive = dom.live !== undefined;
    const active = state === "running" || state === "paused" || state === "in shutdown" ||
      state === "pmsuspended";
    if (active && !wasActive) this.#boot(dom);
    if (!active && wasActive) this.#halt(dom, state, reason);
    dom.state = state;
    dom.reason = reason;
  }

  /** The next start of domain `name` ends in this state (e.g. paused with reason "internal error"). */
  afterStart(name: string, state: string, reason: string): void {
    this.#afterStart.set(name, { state, reason });
  }

  /** Replaces the DHCP leases of a network. */
  setLeases(network: string, leases: FakeLease[]): void {
    const net = this.networks.get(network);
    if (!net) throw new Error(`FakeVirsh: no network ${network}`);
    net.leases = leases.map((l) => ({ ...l, mac: l.mac.toLowerCase() }));
  }

  /** Adds a dir pool (built, and by default active and autostarted), as an installed host has "default". */
  addPool(
    name: string,
    path = "/var/lib/libvirt/images",
    options: { active?: boolean; autostart?: boolean } = {},
  ): FakePool {
    const pool: FakePool = {
      name,
      uuid: this.#uuid(),
      type: "dir",
      path,
      active: options.active ?? true,
      autostart: options.autostart ?? true,
      built: true,
      volumes: new Map(),
    };
    this.pools.set(name, pool);
    return pool;
  }

  /** Marks a host file as existing (a disk source or backing file outside any pool). */
  addFile(path: string): void {
    this.files.add(path);
  }

  /** Appends to a volume's file behind libvirt's back (as a log daemon does); its size follows. */
  appendToVolume(pool: string, name: string, text: string): void {
    const vol = this.volume(pool, name);
    if (!vol) throw new Error(`FakeVirsh: no volume ${pool}/${name}`);
    const added = new TextEncoder().encode(text);
    const content = new Uint8Array((vol.content?.length ?? 0) + added.length);
    content.set(vol.content ?? []);
    content.set(added, vol.content?.length ?? 0);
    vol.content = content;
    vol.capacity = vol.allocation = content.length;
  }

  /** Runs a command without logging it or applying injections; throws when it fails. For test setup. */
  seed(args: string[], stdin?: string): string {
    const result = this.#execute(args, stdin);
    if (result.code !== 0) throw new Error(`FakeVirsh seed ${args.join(" ")} failed: ${result.stderr}`);
    return result.stdout;
  }

  volume(pool: string, name: string): FakeVolume | undefined {
    return this.pools.get(pool)?.volumes.get(name);
  }

  /** The XML `dumpxml` would print (live when running), or with inactive the persistent one. */
  domainXml(name: string, options: { inactive?: boolean; securityInfo?: boolean } = {}): string {
    const flags = [
      ...(options.inactive ? ["--inactive"] : []),
      ...(options.securityInfo ? ["--security-info"] : []),
    ];
    return this.seed(["dumpxml", ...flags, name]);
  }

  async run(args: string[], options: RunOptions = {}): Promise<VirshResult> {
    this.log.push([...args]);
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    await this.beforeCall?.(args);
    let result: VirshResult;
    if (this.unreachable) {
      result = { code: 1, stdout: "", stderr: UNREACHABLE_STDERR };
    } else {
      const i = this.#injections.findIndex((j) => j.command === args[0]);
      const injection = i >= 0 ? this.#injections[i] : undefined;
      if (injection && --injection.times <= 0) this.#injections.splice(i, 1);
      if (injection) {
        if (injection.afterEffect) this.#execute(args, options.stdin);
        result = { code: 1, stdout: "", stderr: injection.stderr };
      } else {
        result = this.#execute(args, options.stdin);
      }
    }
    this.results.push({ args: [...args], stdin: options.stdin, result });
    return result;
  }

  // ---------------------------------------------------------------- dispatch

  #execute(args: string[], stdin: string | undefined): VirshResult {
    const [command, ...rest] = args;
    const spec = COMMANDS[command];
    if (!spec) return { code: 1, stdout: "", stderr: `error: unknown command: '${command}'\n` };
    try {
      const parsed = parseArgs(command, spec, rest);
      return { code: 0, stdout: spec.run.call(this, parsed, stdin), stderr: "" };
    } catch (e) {
      if (e instanceof Fail) {
        return { code: 1, stdout: "", stderr: e.lines.map((l) => `error: ${l}\n`).join("") };
      }
      throw e;
    }
  }

  /** The text of a FILE argument: stdin for /dev/stdin, else the file on disk. */
  readInput(file: string, stdin: string | undefined): string {
    if (file === "/dev/stdin" || file === "-") return stdin ?? "";
    try {
      return Deno.readTextFileSync(file);
    } catch {
      throw new Fail(`Failed to open file '${file}': No such file or directory`);
    }
  }

  #uuid(): string {
    const n = (++this.#uuidSeq).toString(16).padStart(12, "0");
    return `${crypto.randomUUID().slice(0, 24)}${n}`;
  }

  #mac(): string {
    const n = ++this.#macSeq;
    return `52:54:00:${
      [n >> 16, (n >> 8) & 255, n & 255].map((b) => b.toString(16).padStart(2, "0")).join(":")
    }`;
  }

  // ---------------------------------------------------------------- lookups

  getDomain(name: string): FakeDomain {
    const dom = this.domains.get(name) ??
      [...this.domains.values()].find((d) => d.uuid === name.toLowerCase() || String(d.id) === name);
    if (!dom) throw new Fail(`failed to get domain '${name}'`);
    return dom;
  }

  getNetwork(name: string): FakeNetwork {
    const net = this.networks.get(name) ??
      [...this.networks.values()].find((n) => n.uuid === name.toLowerCase());
    if (!net) {
      throw new Fail(
        `failed to get network '${name}'`,
        `Network not found: no network with matching name '${name}'`,
      );
    }
    return net;
  }

  getPool(name: string): FakePool {
    const pool = this.pools.get(name) ?? [...this.pools.values()].find((p) => p.uuid === name.toLowerCase());
    if (!pool) {
      throw new Fail(
        `failed to get pool '${name}'`,
        `Storage pool not found: no storage pool with matching name '${name}'`,
      );
    }
    return pool;
  }

  /** virsh looks a volume up by name in the pool, then by key, then by path. */
  getVolume(poolName: string, name: string): { pool: FakePool; vol: FakeVolume } {
    const pool = this.getPool(poolName);
    const byName = pool.active ? pool.volumes.get(name) : undefined;
    if (byName) return { pool, vol: byName };
    for (const p of this.pools.values()) {
      if (!p.active) continue;
      for (const v of p.volumes.values()) if (v.path === name) return { pool: p, vol: v };
    }
    throw new Fail(
      `failed to get vol '${name}'`,
      `Storage volume not found: no storage vol with matching path '${name}'`,
    );
  }

  /** Whether a host path exists: a volume in a pool (active or not) or a file added by the test. */
  pathExists(path: string): boolean {
    if (this.files.has(path)) return true;
    for (const p of this.pools.values()) for (const v of p.volumes.values()) if (v.path === path) return true;
    return false;
  }

  // ---------------------------------------------------------------- pools

  poolDefine(p: Parsed, stdin: string | undefined): string {
    const file = p.positional[0];
    try {
      const root = parseOrFail(this.readInput(file, stdin), "pool");
      if (root.name !== "pool") throw new Fail(`XML error: unknown root element for storage pool`);
      const type = attrOf(root, "type");
      if (!type) throw new Fail("XML error: storage pool missing type attribute");
      const name = textAt(root, "name")?.trim();
      if (!name) throw new Fail("XML error: missing pool source name element");
      const path = textAt(root, "target/path")?.trim();
      if (!path) throw new Fail("XML error: missing storage pool target path");
      const uuidText = textAt(root, "uuid");
      if (uuidText !== undefined && !UUID_RE.test(uuidText.trim())) {
        throw new Fail("XML error: malformed uuid element");
      }
      const uuid = uuidText !== undefined ? normalUuid(uuidText) : undefined;
      const existing = this.pools.get(name);
      const sameUuid = uuid ? [...this.pools.values()].find((x) => x.uuid === uuid) : undefined;
      if (sameUuid && sameUuid.name !== name) {
        throw new Fail(`operation failed: pool '${sameUuid.name}' is already defined with uuid ${uuid}`);
      }
      if (existing && existing.uuid !== uuid) {
        throw new Fail(`operation failed: pool '${name}' already exists with uuid ${existing.uuid}`);
      }
      if (existing) {
        existing.path = path;
        existing.type = type;
      } else {
        this.pools.set(name, {
          name,
          uuid: uuid ?? this.#uuid(),
          type,
          path,
          active: false,
          autostart: false,
          built: false,
          volumes: new Map(),
        });
      }
      return "";
    } catch (e) {
      if (e instanceof Fail) throw new Fail(`Failed to define pool from ${file}`, ...e.lines);
      throw e;
    }
  }

  poolDumpXml(p: Parsed): string {
    const pool = this.getPool(p.positional[0]);
    const used = [...pool.volumes.values()].reduce((n, v) => n + v.allocation, 0);
    const total = 100 * 2 ** 30;
    const root = node(
      "pool",
      { type: pool.type },
      textNode("name", pool.name),
      textNode("uuid", pool.uuid),
      textNode("capacity", String(total), { unit: "bytes" }),
      textNode("allocation", String(pool.active ? used : 0), { unit: "bytes" }),
      textNode("available", String(total - (pool.active ? used : 0)), { unit: "bytes" }),
      node("source"),
      node("target", {}, textNode("path", pool.path)),
    );
    return formatXml(root);
  }

  poolInfo(p: Parsed): string {
    const pool = this.getPool(p.positional[0]);
    const rows: [string, string][] = [
      ["Name", pool.name],
      ["UUID", pool.uuid],
      ["State", pool.active ? "running" : "inactive"],
      ["Persistent", "yes"],
      ["Autostart", pool.autostart ? "yes" : "no"],
    ];
    if (pool.active) {
      const used = [...pool.volumes.values()].reduce((n, v) => n + v.allocation, 0);
      rows.push(["Capacity", humanBytes(100 * 2 ** 30)], ["Allocation", humanBytes(used)], [
        "Available",
        humanBytes(100 * 2 ** 30 - used),
      ]);
    }
    return info(rows);
  }

  poolBuild(p: Parsed): string {
    const pool = this.getPool(p.positional[0]);
    if (pool.active) {
      throw new Fail(
        `Failed to build pool ${pool.name}`,
        `Requested operation is not valid: storage pool '${pool.name}' is already active`,
      );
    }
    pool.built = true;
    return "";
  }

  poolStart(p: Parsed): string {
    const pool = this.getPool(p.positional[0]);
    if (pool.active) {
      throw new Fail(
        `Failed to start pool ${pool.name}`,
        `Requested operation is not valid: storage pool '${pool.name}' is already active`,
      );
    }
    if (!pool.built) {
      throw new Fail(
        `Failed to start pool ${pool.name}`,
        `cannot open directory '${pool.path}': No such file or directory`,
      );
    }
    pool.active = true;
    return "";
  }

  poolAutostart(p: Parsed): string {
    const pool = this.getPool(p.positional[0]);
    pool.autostart = !p.flags.has("disable");
    return "";
  }

  poolRefresh(p: Parsed): string {
    const pool = this.getPool(p.positional[0]);
    if (!pool.active) {
      throw new Fail(
        `Failed to refresh pool ${pool.name}`,
        `Requested operation is not valid: storage pool '${pool.name}' is not active`,
      );
    }
    return "";
  }

  // ---------------------------------------------------------------- volumes

  volDumpXml(p: Parsed): string {
    const { vol } = this.getVolume(p.options.get("pool")!, p.positional[0]);
    const root = node(
      "volume",
      { type: "file" },
      textNode("name", vol.name),
      textNode("key", vol.path),
      textNode("capacity", String(vol.capacity), { unit: "bytes" }),
      textNode("allocation", String(vol.allocation), { unit: "bytes" }),
      textNode("physical", String(vol.allocation), { unit: "bytes" }),
      node(
        "target",
        {},
        textNode("path", vol.path),
        node("format", { type: vol.format }),
        node("permissions", {}, textNode("mode", "0600"), textNode("owner", "0"), textNode("group", "0")),
      ),
    );
    if (vol.backingStore) {
      root.children.push(
        node(
          "backingStore",
          {},
          textNode("path", vol.backingStore.path),
          node("format", { type: vol.backingStore.format }),
        ),
      );
    }
    return formatXml(root);
  }

  volPath(p: Parsed): string {
    return `${this.getVolume(p.options.get("pool")!, p.positional[0]).vol.path}\n`;
  }

  /**
   * As virsh 9.0 prints it; --physical puts the file's size where the allocation would be: libvirt stats the
   * file, so a test that put a real file at the volume's path gets that file's size.
   */
  volInfo(p: Parsed): string {
    const { vol } = this.getVolume(p.options.get("pool")!, p.positional[0]);
    let physical = vol.allocation;
    try {
      physical = Deno.statSync(vol.path).size;
    } catch { /* no file there: the recorded allocation */ }
    const size = (n: number) => p.flags.has("bytes") ? `${n} bytes` : `${(n / 2 ** 20).toFixed(2)} MiB`;
    return [
      `Name:           ${vol.name}`,
      "Type:           file",
      `Capacity:       ${size(vol.capacity)}`,
      p.flags.has("physical")
        ? `Physical:       ${size(physical)}`
        : `Allocation:     ${size(vol.allocation)}`,
      "",
      "",
    ].join("\n");
  }

  volList(p: Parsed): string {
    const pool = this.getPool(p.options.get("pool")!);
    if (!pool.active) {
      throw new Fail(
        "Failed to list volumes",
        `Requested operation is not valid: storage pool '${pool.name}' is not active`,
      );
    }
    const vols = [...pool.volumes.values()].sort((a, b) => a.name.localeCompare(b.name));
    const width = Math.max(4, ...vols.map((v) => v.name.length));
    return vols.map((v) => ` ${v.name.padEnd(width)}   ${v.path}\n`).join("") + "\n";
  }

  volCreate(p: Parsed, stdin: string | undefined): string {
    const file = p.positional[0];
    try {
      const pool = this.getPool(p.options.get("pool")!);
      const xml = this.readInput(file, stdin);
      if (!pool.active) {
        throw new Fail(`Requested operation is not valid: storage pool '${pool.name}' is not active`);
      }
      const root = parseOrFail(xml, "volume");
      if (root.name !== "volume") throw new Fail("XML error: unknown root element for storage vol");
      const name = textAt(root, "name")?.trim();
      if (!name) throw new Fail("XML error: missing volume name element");
      if (name.includes("/")) throw new Fail(`XML error: volume name '${name}' cannot contain '/'`);
      const backing = childOf(root, "backingStore");
      const backingPath = textAt(backing, "path")?.trim();
      const capNode = childOf(root, "capacity");
      if (!capNode && backingPath === undefined) throw new Fail("XML error: missing capacity element");
      const sized = (n: XmlNode | undefined): number => {
        if (!n) return 0;
        try {
          return scaledToBytes(n.text, attrOf(n, "unit"));
        } catch {
          throw new Fail(`XML error: malformed ${n.name} element`);
        }
      };
      let capacity = sized(capNode);
      const allocation = sized(childOf(root, "allocation"));
      const format = attrOf(childOf(childOf(root, "target"), "format"), "type") ?? "raw";
      if (!VOLUME_FORMATS.includes(format)) throw new Fail(`XML error: unknown volume format type ${format}`);
      if (pool.volumes.has(name)) throw new Fail(`storage volume '${name}' exists already`);
      let backingStore: FakeVolume["backingStore"];
      if (backingPath !== undefined) {
        if (!this.pathExists(backingPath)) {
          throw new Fail(`inaccessible backing store volume ${backingPath}: No such file or directory`);
        }
        if (format !== "qcow2") {
          throw new Fail(`unsupported configuration: format '${format}' does not support backing store`);
        }
        backingStore = {
          path: backingPath,
          format: attrOf(childOf(backing, "format"), "type") ?? "raw",
        };
        if (capacity === 0) capacity = this.#capacityOfPath(backingPath) ?? 0;
      }
      const path = `${pool.path.replace(/\/$/, "")}/${name}`;
      pool.volumes.set(name, {
        name,
        pool: pool.name,
        path,
        capacity,
        allocation: format === "qcow2" ? 196_608 : allocation,
        format,
        backingStore,
        uploads: [],
      });
      return "";
    } catch (e) {
      if (e instanceof Fail) {
        if (e.lines[0].startsWith("failed to get pool")) throw e;
        throw new Fail(`Failed to create vol from ${file}`, ...e.lines);
      }
      throw e;
    }
  }

  #capacityOfPath(path: string): number | undefined {
    for (const p of this.pools.values()) {
      for (const v of p.volumes.values()) if (v.path === path) return v.capacity;
    }
    return undefined;
  }

  volUpload(p: Parsed): string {
    const [name, file] = p.positional;
    const { pool, vol } = this.getVolume(p.options.get("pool")!, name);
    let size: number;
    try {
      size = Deno.statSync(file).size;
    } catch {
      throw new Fail(`cannot read ${file}`);
    }
    if (!pool.active) {
      throw new Fail(
        `cannot upload to volume ${name}`,
        `Requested operation is not valid: storage pool '${pool.name}' is not active`,
      );
    }
    vol.uploads.push(file);
    vol.allocation = Math.max(vol.allocation, Math.min(size, vol.capacity || size));
    return "";
  }

  /** Writes the volume's bytes (a test's content, else zeros) from --offset, --length of them (0: all). */
  volDownload(p: Parsed): string {
    const [name, file] = p.positional;
    const { vol } = this.getVolume(p.options.get("pool")!, name);
    const offset = Number(p.options.get("offset") ?? 0);
    const length = Number(p.options.get("length") ?? 0);
    const bytes = vol.content ?? new Uint8Array(vol.capacity);
    const end = length > 0 ? Math.min(bytes.length, offset + length) : bytes.length;
    Deno.writeFileSync(file, bytes.slice(Math.min(offset, end), end));
    return "";
  }

  volDelete(p: Parsed): string {
    const name = p.positional[0];
    const { pool, vol } = this.getVolume(p.options.get("pool")!, name);
    pool.volumes.delete(vol.name);
    return "";
  }

  volResize(p: Parsed): string {
    const [name, sizeText] = p.positional;
    const { vol } = this.getVolume(p.options.get("pool")!, name);
    const bytes = Number(sizeText);
    if (!/^\d+$/.test(sizeText)) {
      throw new Fail(`Unable to parse integer parameter to --capacity`);
    }
    if (bytes < vol.capacity && !p.flags.has("shrink")) {
      throw new Fail(
        `Failed to change size of volume '${name}' to ${sizeText}`,
        "invalid argument: Can't shrink capacity below current capacity unless shrink flag explicitly specified",
      );
    }
    vol.capacity = bytes;
    return "";
  }

  // ---------------------------------------------------------------- networks

  netDefine(p: Parsed, stdin: string | undefined): string {
    const file = p.positional[0];
    try {
      const root = parseOrFail(this.readInput(file, stdin), "network");
      if (root.name !== "network") throw new Fail("XML error: unknown root element for network");
      const name = textAt(root, "name")?.trim();
      if (!name) throw new Fail("missing name information");
      if (name.includes("/")) throw new Fail(`XML error: name ${name} cannot contain '/'`);
      const forward = childOf(root, "forward");
      const mode = forward ? attrOf(forward, "mode") ?? "nat" : undefined;
      if (mode !== undefined && !FORWARD_MODES.includes(mode)) {
        throw new Fail(`XML error: unknown forwarding type '${mode}'`);
      }
      for (const ip of childrenOf(root, "ip")) {
        const address = attrOf(ip, "address");
        if (address !== undefined && !/^\d+\.\d+\.\d+\.\d+$/.test(address)) {
          throw new Fail(`XML error: Invalid address '${address}' in network '${name}'`);
        }
        if (address !== undefined && prefixOf(ip) === undefined) {
          throw new Fail(
            `XML error: Neither netmask nor prefix specified for IP address '${address}' in network '${name}'`,
          );
        }
      }
      const uuid = this.#checkIdentity(root, name, "network", this.networks);
      const existing = this.networks.get(name);
      const def = clone(root);
      setChild(def, textNode("uuid", uuid));
      if (!mode || mode === "nat" || mode === "route" || mode === "open") {
        const bridge = childOf(def, "bridge") ?? node("bridge", {});
        let bridgeName = attrOf(bridge, "name");
        if (bridgeName !== undefined) {
          const other = [...this.networks.values()].find((n) =>
            n.name !== name && attrOf(childOf(n.def, "bridge"), "name") === bridgeName
          );
          if (other) throw new Fail(`internal error: bridge name '${bridgeName}' already in use.`);
        } else {
          const taken = new Set(
            [...this.networks.values()].filter((n) => n.name !== name).map((n) =>
              attrOf(childOf(n.def, "bridge"), "name")
            ),
          );
          let i = 0;
          while (taken.has(`virbr${i}`)) i++;
          bridgeName = `virbr${i}`;
        }
        bridge.attrs = {
          name: bridgeName,
          stp: attrOf(bridge, "stp") ?? "on",
          delay: attrOf(bridge, "delay") ?? "0",
        };
        setChild(def, bridge);
        if (!childOf(def, "mac")) {
          const old = existing && childOf(existing.def, "mac");
          def.children.push(old ? clone(old) : node("mac", { address: this.#mac() }));
        }
      }
      canonicalOrder(def, NETWORK_ORDER);
      if (existing) {
        existing.def = def;
        existing.persistent = true;
      } else {
        this.networks.set(name, {
          name,
          uuid,
          def,
          active: false,
          persistent: true,
          autostart: false,
          leases: [],
        });
      }
      return "";
    } catch (e) {
      if (e instanceof Fail) throw new Fail(`Failed to define network from ${file}`, ...e.lines);
      throw e;
    }
  }

  /** uuid rules shared by domains and networks: a new uuid per name, and no name change under a uuid. */
  #checkIdentity(
    root: XmlNode,
    name: string,
    what: "domain" | "network",
    objects: Map<string, { name: string; uuid: string }>,
  ): string {
    const uuidText = textAt(root, "uuid");
    if (uuidText !== undefined && !UUID_RE.test(uuidText.trim())) {
      throw new Fail("XML error: malformed uuid element");
    }
    // Without a uuid libvirt generates one, so redefining by name alone fails like a different uuid.
    const uuid = uuidText !== undefined ? normalUuid(uuidText) : this.#uuid();
    const sameUuid = [...objects.values()].find((o) => o.uuid === uuid);
    if (sameUuid && sameUuid.name !== name) {
      throw new Fail(`operation failed: ${what} '${sameUuid.name}' is already defined with uuid ${uuid}`);
    }
    const existing = objects.get(name);
    if (existing && existing.uuid !== uuid) {
      throw new Fail(`operation failed: ${what} '${name}' already exists with uuid ${existing.uuid}`);
    }
    return uuid;
  }

  netDumpXml(p: Parsed): string {
    const net = this.getNetwork(p.positional[0]);
    const inactive = p.flags.has("inactive");
    const xml = inactive ? (net.persistent ? net.def : net.live!) : (net.live ?? net.def);
    return formatXml(xml);
  }

  netInfo(p: Parsed): string {
    const net = this.getNetwork(p.positional[0]);
    const bridge = attrOf(childOf(net.live ?? net.def, "bridge"), "name");
    return info([
      ["Name", net.name],
      ["UUID", net.uuid],
      ["Active", net.active ? "yes" : "no"],
      ["Persistent", net.persistent ? "yes" : "no"],
      ["Autostart", net.autostart ? "yes" : "no"],
      ...(bridge ? [["Bridge", bridge] as [string, string]] : []),
    ]);
  }

  netStart(p: Parsed): string {
    const net = this.getNetwork(p.positional[0]);
    const fail = (line: string) => new Fail(`Failed to start network ${net.name}`, line);
    if (net.active) throw fail("Requested operation is not valid: network is already active");
    const subnet = subnetOf(net.def);
    const clash = [...this.networks.values()].find((n) => n.active && subnet && subnetOf(n.live!) === subnet);
    if (clash) {
      throw fail(
        `internal error: Network is already in use by interface ${
          attrOf(childOf(clash.live!, "bridge"), "name")
        }`,
      );
    }
    net.active = true;
    net.live = clone(net.def);
    return "";
  }

  netAutostart(p: Parsed): string {
    const net = this.getNetwork(p.positional[0]);
    const disable = p.flags.has("disable");
    if (!net.persistent) {
      throw new Fail(
        `failed to ${disable ? "unmark" : "mark"} network ${net.name} as autostarted`,
        "Requested operation is not valid: cannot set autostart for transient network",
      );
    }
    net.autostart = !disable;
    return "";
  }

  netDestroy(p: Parsed): string {
    const net = this.getNetwork(p.positional[0]);
    if (!net.active) {
      throw new Fail(
        `Failed to destroy network ${net.name}`,
        `Requested operation is not valid: network '${net.name}' is not active`,
      );
    }
    net.active = false;
    net.live = undefined;
    net.leases = [];
    if (!net.persistent) this.networks.delete(net.name);
    return "";
  }

  netUndefine(p: Parsed): string {
    const net = this.getNetwork(p.positional[0]);
    if (!net.persistent) {
      throw new Fail(
        `Failed to undefine network ${net.name}`,
        "Requested operation is not valid: can't undefine transient network",
      );
    }
    if (net.active) {
      net.persistent = false;
      net.autostart = false;
    } else this.networks.delete(net.name);
    return "";
  }

  /** `net-update NAME add-last|add-first|delete|modify ip-dhcp-host XML [--config] [--live]`. */
  netUpdate(p: Parsed): string {
    const [name, op, section, xmlArg] = p.positional;
    const net = this.getNetwork(name);
    try {
      if (section !== "ip-dhcp-host") {
        throw new Fail(
          `this function is not supported by the connection driver: can't update '${section}' section`,
        );
      }
      if (!["add", "add-last", "add-first", "delete", "modify"].includes(op)) {
        throw new Fail(`unrecognized command name '${op}'`);
      }
      const text = xmlArg.trimStart().startsWith("<") ? xmlArg : this.readInput(xmlArg, undefined);
      const host = parseOrFail(text, "network");
      if (host.name !== "host") {
        throw new Fail(
          `XML error: unknown XML element '${host.name}' in network '${name}', expecting <host>`,
        );
      }
      const live = p.flags.has("live");
      const config = p.flags.has("config") || (!live && !net.active);
      const current = !p.flags.has("live") && !p.flags.has("config");
      if (live && !net.active) throw new Fail("Requested operation is not valid: network is not running");
      if (config && !net.persistent) {
        throw new Fail(
          "Requested operation is not valid: cannot change persistent config of a transient network",
        );
      }
      const targets = [
        ...(config || (current && !net.active) ? [net.def] : []),
        ...(live || (current && net.active) ? [net.live!] : []),
      ];
      const want = Object.entries(host.attrs);
      const shown = `<host ${want.map(([k, v]) => `${k}='${escapeAttr(v)}'`).join(" ")}/>`;
      // Check every definition first, so a failure changes nothing.
      const plans = targets.map((root) => {
        const ip = childrenOf(root, "ip").find((n) => (attrOf(n, "family") ?? "ipv4") === "ipv4");
        if (!ip) {
          throw new Fail(
            `Requested operation is not valid: couldn't update dhcp host entry - no <ip> element found in network '${name}'`,
          );
        }
        const dhcp = childOf(ip, "dhcp");
        const hosts = childrenOf(dhcp, "host");
        if (op === "delete") {
          const match = hosts.find((h) =>
            want.every(([k, v]) => (attrOf(h, k) ?? "").toLowerCase() === v.toLowerCase())
          );
          if (!match) {
            throw new Fail(
              `operation failed: couldn't locate a matching dhcp host entry in network '${name}'`,
            );
          }
          return () => dhcp!.children.splice(dhcp!.children.indexOf(match), 1);
        }
        const clash = hosts.find((h) =>
          ["mac", "name", "ip"].some((k) =>
            host.attrs[k] !== undefined && (attrOf(h, k) ?? "").toLowerCase() === host.attrs[k].toLowerCase()
          )
        );
        if (op === "modify") {
          if (!clash) {
            throw new Fail(
              `operation failed: couldn't locate an existing dhcp host entry with "mac='${host.attrs.mac}'" in network '${name}'`,
            );
          }
          return () => (clash.attrs = { ...host.attrs });
        }
        if (clash) {
          throw new Fail(
            `operation failed: there is an existing dhcp host entry in network '${name}' that matches "${shown}"`,
          );
        }
        return () => {
          const d = dhcp ?? node("dhcp");
          if (!dhcp) ip.children.push(d);
          const entry = node("host", { ...host.attrs });
          if (op === "add-first") {
            const first = d.children.findIndex((c) => c.name === "host");
            d.children.splice(first < 0 ? d.children.length : first, 0, entry);
          } else d.children.push(entry);
        };
      });
      for (const apply of plans) apply();
      return "";
    } catch (e) {
      if (e instanceof Fail) throw new Fail(`Failed to update network ${name}`, ...e.lines);
      throw e;
    }
  }

  netDhcpLeases(p: Parsed): string {
    const net = this.getNetwork(p.positional[0]);
    const mac = p.options.get("mac")?.toLowerCase();
    return net.leases.filter((l) => !mac || l.mac === mac).map((l) =>
      ` 2030-01-01 00:00:00   ${l.mac}   ipv4       ${`${l.ip}/${l.prefix ?? 24}`.padEnd(20)} ` +
      `${(l.hostname ?? "-").padEnd(10)} 01:${l.mac}\n`
    ).join("") + "\n";
  }

  // ---------------------------------------------------------------- domains

  define(p: Parsed, stdin: string | undefined): string {
    const file = p.positional[0];
    try {
      const root = parseOrFail(this.readInput(file, stdin), "domain");
      if (root.name !== "domain") throw new Fail("XML error: unknown root element for domain");
      const type = attrOf(root, "type");
      if (!type) throw new Fail("XML error: missing domain type attribute");
      const name = textAt(root, "name")?.trim();
      if (!name) throw new Fail("missing name information");
      if (name.includes("/")) throw new Fail(`XML error: name ${name} cannot contain '/'`);
      const def = clone(root);
      // memory
      const memory = childOf(def, "memory");
      if (!memory) {
        throw new Fail(
          "XML error: Memory size must be specified via <memory> or in the <numa> configuration",
        );
      }
      const kib = (n: XmlNode): number => {
        try {
          return scaledToBytes(n.text, attrOf(n, "unit"), { defaultUnit: "KiB" }) / 1024;
        } catch {
          throw new Fail(
            `XML error: Invalid value '${n.text.trim()}' for element or attribute './${n.name}[1]'`,
          );
        }
      };
      const memKiB = kib(memory);
      const current = childOf(def, "currentMemory");
      const curKiB = Math.min(current ? kib(current) : memKiB, memKiB);
      setChild(def, textNode("memory", String(memKiB), { unit: "KiB" }));
      setChild(def, textNode("currentMemory", String(curKiB), { unit: "KiB" }));
      // vcpu
      const vcpu = childOf(def, "vcpu") ?? textNode("vcpu", "1");
      if (!/^\d+$/.test(vcpu.text.trim()) || Number(vcpu.text) < 1) {
        throw new Fail(`XML error: maximum vcpus count must be an integer`);
      }
      vcpu.attrs = { placement: attrOf(vcpu, "placement") ?? "static", ...vcpu.attrs };
      setChild(def, vcpu);
      // os
      const osType = childOf(childOf(def, "os"), "type");
      if (!osType || osType.text.trim() === "") throw new Fail("XML error: an os <type> must be specified");
      const arch = attrOf(osType, "arch") ?? "x86_64";
      const machine = attrOf(osType, "machine") ?? "pc";
      osType.attrs = { ...osType.attrs, arch, machine: MACHINE_ALIASES[machine] ?? machine };
      if (type !== "qemu" && !(type === "kvm" && this.kvm)) {
        throw new Fail(`invalid argument: could not find capabilities for arch=${arch} domaintype=${type} `);
      }
      // devices
      const devices = childOf(def, "devices") ?? node("devices");
      setChild(def, devices);
      const targets = new Map<string, string>();
      for (const disk of childrenOf(devices, "disk")) {
        const dev = attrOf(childOf(disk, "target"), "dev");
        const source = attrOf(childOf(disk, "source"), "file") ?? "";
        if (!dev) throw new Fail("XML error: missing target information for device");
        if (targets.has(dev)) {
          throw new Fail(
            `XML error: target '${dev}' duplicated for disk sources '${targets.get(dev)}' and '${source}'`,
          );
        }
        targets.set(dev, source);
        if (attrOf(childOf(disk, "target"), "bus") === "ide" && osType.attrs.machine.startsWith("pc-q35-")) {
          throw new Fail(
            "unsupported configuration: IDE controllers are unsupported for this QEMU binary or machine type",
          );
        }
      }
      for (const nic of childrenOf(devices, "interface")) {
        const itype = attrOf(nic, "type");
        if (itype === "network" && attrOf(childOf(nic, "source"), "network") === undefined) {
          throw new Fail(
            "XML error: No <source> 'network' attribute specified with <interface type='network'/>",
          );
        }
        const mac = childOf(nic, "mac");
        const address = attrOf(mac, "address");
        if (address !== undefined && !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(address)) {
          throw new Fail(`XML error: unable to parse mac address '${address}'`);
        }
        if (mac) mac.attrs.address = address!.toLowerCase();
        else nic.children.unshift(node("mac", { address: this.#mac() }));
      }
      const uuid = this.#checkIdentity(def, name, "domain", this.domains);
      setChild(def, textNode("uuid", uuid));
      canonicalOrder(def, DOMAIN_ORDER);
      const existing = this.domains.get(name);
      if (existing) {
        // A running domain keeps its live definition; the new one applies from the next start.
        existing.def = def;
        existing.persistent = true;
      } else {
        this.domains.set(name, { name, uuid, def, state: "shut off", reason: "unknown", persistent: true });
      }
      return "";
    } catch (e) {
      if (e instanceof Fail) throw new Fail(`Failed to define domain from ${file}`, ...e.lines);
      throw e;
    }
  }

  dumpXml(p: Parsed): string {
    const dom = this.getDomain(p.positional[0]);
    const xml = clone(
      p.flags.has("inactive") ? (dom.persistent ? dom.def : dom.live!) : (dom.live ?? dom.def),
    );
    // libvirt shows a display's password only with --security-info.
    if (!p.flags.has("security-info")) {
      for (const g of childrenOf(childOf(xml, "devices"), "graphics")) delete g.attrs.passwd;
    }
    return formatXml(xml);
  }

  domState(p: Parsed): string {
    const dom = this.getDomain(p.positional[0]);
    return p.flags.has("reason") ? `${dom.state} (${dom.reason})\n\n` : `${dom.state}\n\n`;
  }

  #boot(dom: FakeDomain): void {
    const live = clone(dom.def);
    dom.id = this.#nextId++;
    // libvirt expands a custom CPU model at start: check='full' and the model's own features (qemu64, TCG)
    const cpu = childOf(live, "cpu");
    if (cpu && attrOf(cpu, "mode") === "custom" && childOf(cpu, "model")?.text.trim() === "qemu64") {
      cpu.attrs.check = "full";
      for (const name of ["hypervisor", "lahf_lm"]) {
        if (!childrenOf(cpu, "feature").some((f) => attrOf(f, "name") === name)) {
          cpu.children.push(node("feature", { policy: "require", name }));
        }
      }
    }
    live.attrs = { type: live.attrs.type, id: String(dom.id), ...live.attrs };
    let n = 0;
    for (const nic of childrenOf(childOf(live, "devices"), "interface")) {
      const source = childOf(nic, "source");
      const network = attrOf(source, "network");
      const net = network !== undefined ? this.networks.get(network) : undefined;
      if (source && net) source.attrs.bridge = attrOf(childOf(net.live ?? net.def, "bridge"), "name") ?? "";
      nic.children.push(
        node("target", { dev: `vnet${this.#nextVnet++}` }),
        node("alias", { name: `net${n++}` }),
      );
    }
    dom.live = live;
  }

  #halt(dom: FakeDomain, state: string, reason: string): void {
    dom.live = undefined;
    dom.id = undefined;
    dom.state = state;
    dom.reason = reason;
    if (!dom.persistent) this.domains.delete(dom.name);
  }

  start(p: Parsed): string {
    const dom = this.getDomain(p.positional[0]);
    if (dom.live) throw new Fail("Domain is already active");
    const fail = (line: string) => new Fail(`Failed to start domain '${dom.name}'`, line);
    const devices = childOf(dom.def, "devices");
    for (const disk of childrenOf(devices, "disk")) {
      const file = attrOf(childOf(disk, "source"), "file");
      if ((attrOf(disk, "type") ?? "file") === "file" && file !== undefined && !this.pathExists(file)) {
        throw fail(`Cannot access storage file '${file}': No such file or directory`);
      }
    }
    for (const nic of childrenOf(devices, "interface")) {
      const network = attrOf(childOf(nic, "source"), "network");
      if (attrOf(nic, "type") !== "network" || network === undefined) continue;
      const net = this.networks.get(network);
      if (!net) throw fail(`Network not found: no network with matching name '${network}'`);
      if (!net.active) throw fail(`Requested operation is not valid: network '${network}' is not active`);
    }
    this.#boot(dom);
    const paused = p.flags.has("paused");
    dom.state = paused ? "paused" : "running";
    dom.reason = paused ? "user" : "booted";
    const after = this.#afterStart.get(dom.name);
    if (after) {
      this.#afterStart.delete(dom.name);
      dom.state = after.state;
      dom.reason = after.reason;
    }
    return "";
  }

  #requireActive(dom: FakeDomain, header: string): void {
    if (!dom.live) throw new Fail(header, "Requested operation is not valid: domain is not running");
  }

  shutdown(p: Parsed): string {
    const dom = this.getDomain(p.positional[0]);
    this.#requireActive(dom, `Failed to shutdown domain '${dom.name}'`);
    if (this.acpi === "obey" && dom.state === "running") this.#halt(dom, "shut off", "shutdown");
    return "";
  }

  destroy(p: Parsed): string {
    const dom = this.getDomain(p.positional[0]);
    this.#requireActive(dom, `Failed to destroy domain '${dom.name}'`);
    this.#halt(dom, "shut off", "destroyed");
    return "";
  }

  suspend(p: Parsed): string {
    const dom = this.getDomain(p.positional[0]);
    this.#requireActive(dom, `Failed to suspend domain '${dom.name}'`);
    if (dom.state !== "paused") {
      dom.state = "paused";
      dom.reason = "user";
    }
    return "";
  }

  resume(p: Parsed): string {
    const dom = this.getDomain(p.positional[0]);
    this.#requireActive(dom, `Failed to resume domain '${dom.name}'`);
    if (dom.state === "pmsuspended") {
      throw new Fail(
        `Failed to resume domain '${dom.name}'`,
        "Requested operation is not valid: domain is pmsuspended",
      );
    }
    if (dom.state === "paused") {
      dom.state = "running";
      dom.reason = "unpaused";
    }
    return "";
  }

  reboot(p: Parsed): string {
    const dom = this.getDomain(p.positional[0]);
    if (dom.state !== "running") {
      throw new Fail(
        `Failed to reboot domain '${dom.name}'`,
        "Requested operation is not valid: domain is not running",
      );
    }
    return "";
  }

  undefine(p: Parsed): string {
    const dom = this.getDomain(p.positional[0]);
    if (!dom.persistent) {
      throw new Fail(
        `Failed to undefine domain '${dom.name}'`,
        "Requested operation is not valid: cannot undefine transient domain",
      );
    }
    if (dom.live) dom.persistent = false;
    else this.domains.delete(dom.name);
    return "";
  }

  /** setmem, as QEMU without a guest balloon driver answers it: the target is taken, the guest keeps its memory. */
  setMem(p: Parsed): string {
    const dom = this.getDomain(p.positional[0]);
    const m = /^(\d+)([KMG]?)(iB)?$/i.exec(p.positional[1]);
    if (!m) {
      throw new Fail(`Numeric value '${p.positional[1]}' for <size> option is malformed or out of range`);
    }
    const kib = Number(m[1]) * 1024 ** "KMG".indexOf((m[2] || "K").toUpperCase());
    const live = p.flags.has("live") || !p.flags.has("config") && dom.live !== undefined;
    if (live) this.#requireActive(dom, `Failed to set memory of domain '${dom.name}'`);
    const defs = [...(live ? [dom.live!] : []), ...(p.flags.has("config") ? [dom.def] : [])];
    for (const def of defs) {
      if (kib > Number(childOf(def, "memory")!.text)) {
        throw new Fail("invalid argument: cannot set memory higher than max memory");
      }
    }
    if (live) dom.balloonMiB = kib / 1024;
    if (p.flags.has("config")) setChild(dom.def, textNode("currentMemory", String(kib), { unit: "KiB" }));
    return "\n";
  }

  /** setvcpus as QEMU 7.2 answers it under TCG: hot-plug within the maximum, no unplug. */
  setVcpus(p: Parsed): string {
    const dom = this.getDomain(p.positional[0]);
    const count = Number(p.positional[1]);
    const live = p.flags.has("live") || !p.flags.has("config") && dom.live !== undefined;
    if (live) this.#requireActive(dom, `Failed to set vcpus of domain '${dom.name}'`);
    const defs = [...(live ? [dom.live!] : []), ...(p.flags.has("config") ? [dom.def] : [])];
    for (const def of defs) {
      const vcpu = childOf(def, "vcpu")!;
      const max = Number(vcpu.text);
      if (count > max) {
        throw new Fail(
          `invalid argument: requested vcpus is greater than max allowable vcpus for the ${
            def === dom.def ? "persistent config" : "live domain"
          }: ${count} > ${max}`,
        );
      }
      if (def === dom.live && count < Number(attrOf(vcpu, "current") ?? max)) {
        throw new Fail(
          "internal error: unable to execute QEMU command 'device_del': acpi: device unplug request for not supported device type: qemu64-x86_64-cpu",
        );
      }
    }
    for (const def of defs) {
      const vcpu = childOf(def, "vcpu")!;
      const { current: _, ...attrs } = vcpu.attrs;
      vcpu.attrs = count < Number(vcpu.text) ? { ...attrs, current: String(count) } : attrs;
    }
    return "";
  }

  /** domif-setlink: the live interface of a running domain, the persistent one with --config. */
  domIfSetLink(p: Parsed): string {
    const dom = this.getDomain(p.positional[0]);
    const [iface, state] = [p.positional[1], p.positional[2]];
    if (state !== "up" && state !== "down") throw new Fail(`invalid link state '${state}'`);
    const def = p.flags.has("config") || !dom.live ? dom.def : dom.live;
    const nic = childrenOf(childOf(def, "devices"), "interface").find((n) =>
      attrOf(childOf(n, "mac"), "address") === iface.toLowerCase() ||
      attrOf(childOf(n, "target"), "dev") === iface
    );
    if (!nic) throw new Fail(`interface (dev: ${iface}) not found`);
    const link = childOf(nic, "link");
    if (link) link.attrs.state = state;
    else nic.children.push(node("link", { state }));
    return "Device updated successfully\n\n";
  }

  domIfAddr(p: Parsed): string {
    const dom = this.getDomain(p.positional[0]);
    if (!dom.live) {
      throw new Fail(
        "Failed to query for interfaces addresses",
        "Requested operation is not valid: domain is not running",
      );
    }
    const lines: string[] = [];
    for (const nic of childrenOf(childOf(dom.live, "devices"), "interface")) {
      const mac = attrOf(childOf(nic, "mac"), "address") ?? "";
      const network = attrOf(childOf(nic, "source"), "network");
      const dev = attrOf(childOf(nic, "target"), "dev") ?? "-";
      const leases = network ? this.networks.get(network)?.leases ?? [] : [];
      for (const l of leases.filter((l) => l.mac === mac)) {
        lines.push(` ${dev.padEnd(10)} ${mac}    ipv4         ${l.ip}/${l.prefix ?? 24}\n`);
      }
    }
    return lines.join("") + "\n";
  }

  domId(p: Parsed): string {
    const dom = this.getDomain(p.positional[0]);
    return dom.id === undefined ? "-\n\n" : `${dom.id}\n\n`;
  }

  /** QMP query-status only: QEMU's view of a running domain (a pause that is not the user's is internal-error). */
  qemuMonitorCommand(p: Parsed): string {
    const dom = this.getDomain(p.positional[0]);
    if (p.positional[1] !== `{"execute":"query-status"}`) throw new Fail("only query-status is modelled");
    if (dom.id === undefined) {
      throw new Fail("Requested operation is not valid: domain is not running");
    }
    const status = dom.state === "paused" ? (dom.reason === "user" ? "paused" : "internal-error") : "running";
    return JSON.stringify({
      return: { status, singlestep: false, running: status === "running" },
      id: "libvirt-1",
    }) +
      "\n";
  }

  /** Snapshots are not modelled: every domain has none. */
  snapshotList(p: Parsed): string {
    this.getDomain(p.positional[0]);
    return "\n";
  }

  version(): string {
    return `Compiled against library: libvirt ${LIBVIRT_VERSION}\nUsing library: libvirt ${LIBVIRT_VERSION}\n` +
      `Using API: QEMU ${LIBVIRT_VERSION}\nRunning hypervisor: QEMU ${QEMU_VERSION}\n` +
      `Running against daemon: ${LIBVIRT_VERSION}\n\n`;
  }

  domCapabilities(p: Parsed): string {
    const virttype = p.options.get("virttype") ?? (this.kvm ? "kvm" : "qemu");
    if (virttype === "kvm" && !this.kvm) {
      throw new Fail(
        "failed to get emulator capabilities",
        "invalid argument: KVM is not supported by '/usr/bin/qemu-system-x86_64' on this host",
      );
    }
    if (virttype !== "kvm" && virttype !== "qemu") {
      throw new Fail(
        "failed to get emulator capabilities",
        `invalid argument: unknown virttype: ${virttype}`,
      );
    }
    const machine = p.options.get("machine") ?? "pc";
    const canonical = MACHINE_ALIASES[machine] ?? machine;
    if (!Object.values(MACHINE_ALIASES).includes(canonical)) {
      throw new Fail(
        "failed to get emulator capabilities",
        `invalid argument: the machine '${machine}' is not supported by emulator '/usr/bin/qemu-system-x86_64'`,
      );
    }
    const values = (name: string, list: string[]) =>
      node("enum", { name }, ...list.map((v) => textNode("value", v)));
    const secure = this.ovmf && canonical.startsWith("pc-q35-");
    return formatXml(
      node(
        "domainCapabilities",
        {},
        textNode("path", "/usr/bin/qemu-system-x86_64"),
        textNode("domain", virttype),
        textNode("machine", canonical),
        textNode("arch", "x86_64"),
        node(
          "os",
          { supported: "yes" },
          values("firmware", this.ovmf ? ["efi"] : []),
          node(
            "loader",
            { supported: "yes" },
            values("type", ["rom", "pflash"]),
            values("secure", secure ? ["yes", "no"] : ["no"]),
          ),
        ),
        node(
          "cpu",
          {},
          node("mode", { name: "host-passthrough", supported: virttype === "kvm" ? "yes" : "no" }),
          node("mode", { name: "maximum", supported: "yes" }),
          node("mode", { name: "host-model", supported: virttype === "kvm" ? "yes" : "no" }),
          node(
            "mode",
            { name: "custom", supported: "yes" },
            textNode("model", "qemu64", { usable: "yes" }),
            textNode("model", "Skylake-Client", { usable: virttype === "kvm" ? "yes" : "no" }),
          ),
        ),
        node(
          "devices",
          {},
          node(
            "tpm",
            { supported: this.swtpm ? "yes" : "no" },
            values("model", ["tpm-tis", "tpm-crb"]),
            values("backendModel", this.swtpm ? ["passthrough", "emulator"] : ["passthrough"]),
          ),
        ),
      ),
    );
  }

  nodedevList(p: Parsed): string {
    const cap = p.options.get("cap");
    const usb = this.hostDevices.usb.map((_, i) => `usb_1_${i + 1}`);
    const pci = this.hostDevices.pci.map((a) => `pci_${a.replace(/[:.]/g, "_")}`);
    return [...(cap === "usb_device" ? usb : cap === "pci" ? pci : [...usb, ...pci]), ""].join("\n") + "\n";
  }

  nodedevDumpXml(p: Parsed): string {
    const name = p.positional[0];
    const usb = /^usb_1_(\d+)$/.exec(name);
    const id = usb ? this.hostDevices.usb[Number(usb[1]) - 1] : undefined;
    if (id !== undefined) {
      const [vendor, product] = id.split(":");
      return formatXml(
        node(
          "device",
          {},
          textNode("name", name),
          node(
            "capability",
            { type: "usb_device" },
            textNode("product", "", { id: product }),
            textNode("vendor", "", { id: vendor }),
          ),
        ),
      );
    }
    if (this.hostDevices.pci.some((a) => `pci_${a.replace(/[:.]/g, "_")}` === name)) {
      return formatXml(node("device", {}, textNode("name", name), node("capability", { type: "pci" })));
    }
    throw new Fail(
      `Could not find matching device '${name}'`,
      "Node device not found: no node device with matching name '" + name + "'",
    );
  }

  capabilities(): string {
    return formatXml(
      node(
        "capabilities",
        {},
        node("host", {}, node("cpu", {}, textNode("arch", "x86_64"))),
        node(
          "guest",
          {},
          textNode("os_type", "hvm"),
          node(
            "arch",
            { name: "x86_64" },
            ...Object.entries(MACHINE_ALIASES).flatMap(([alias, full]) => [
              textNode("machine", full),
              textNode("machine", alias, { canonical: full }),
            ]),
            node("domain", { type: "qemu" }),
            ...(this.kvm ? [node("domain", { type: "kvm" })] : []),
          ),
        ),
      ),
    );
  }
}

function parseArgs(command: string, spec: CommandSpec, args: string[]): Parsed {
  const parsed: Parsed = { positional: [], flags: new Set(), options: new Map() };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith("--")) {
      const [key, inline] = a.slice(2).split(/=(.*)/s, 2);
      if (spec.flags?.includes(key)) {
        parsed.flags.add(key);
      } else if (spec.options?.includes(key)) {
        const value = inline ?? args[++i];
        if (value === undefined) throw new Fail(`expected syntax: --${key} <string>`);
        parsed.options.set(key, value);
      } else if (spec.args.includes(key)) {
        const value = inline ?? args[++i];
        if (value === undefined) throw new Fail(`expected syntax: --${key} <string>`);
        parsed.positional.push(value);
      } else {
        throw new Fail(`command '${command}' doesn't support option --${key}`);
      }
    } else {
      parsed.positional.push(a);
    }
  }
  if (parsed.positional.length > spec.args.length) {
    throw new Fail(`unexpected data '${parsed.positional[spec.args.length]}'`);
  }
  if (parsed.positional.length < spec.args.length) {
    throw new Fail(`command '${command}' requires <${spec.args[parsed.positional.length]}> option`);
  }
  if (spec.options?.includes("pool") && command.startsWith("vol-") && !parsed.options.has("pool")) {
    // virsh would look the volume up by key or path; lv always passes --pool, so the fake requires it.
    throw new Fail(`FakeVirsh: ${command} without --pool is not supported`);
  }
  return parsed;
}

const COMMANDS: Record<string, CommandSpec> = {
  "version": { flags: ["daemon"], args: [], run: FakeVirsh.prototype.version },
  "capabilities": { args: [], run: FakeVirsh.prototype.capabilities },
  "domcapabilities": {
    options: ["virttype", "emulatorbin", "arch", "machine"],
    args: [],
    run: FakeVirsh.prototype.domCapabilities,
  },
  "nodedev-list": { options: ["cap"], flags: ["tree"], args: [], run: FakeVirsh.prototype.nodedevList },
  "nodedev-dumpxml": { args: ["device"], run: FakeVirsh.prototype.nodedevDumpXml },
  "pool-dumpxml": { flags: ["inactive"], args: ["pool"], run: FakeVirsh.prototype.poolDumpXml },
  "pool-info": { flags: ["bytes"], args: ["pool"], run: FakeVirsh.prototype.poolInfo },
  "pool-define": { args: ["file"], run: FakeVirsh.prototype.poolDefine },
  "pool-build": { flags: ["overwrite", "no-overwrite"], args: ["pool"], run: FakeVirsh.prototype.poolBuild },
  "pool-start": { flags: ["build"], args: ["pool"], run: FakeVirsh.prototype.poolStart },
  "pool-autostart": { flags: ["disable"], args: ["pool"], run: FakeVirsh.prototype.poolAutostart },
  "pool-refresh": { args: ["pool"], run: FakeVirsh.prototype.poolRefresh },
  "vol-dumpxml": { options: ["pool"], args: ["vol"], run: FakeVirsh.prototype.volDumpXml },
  "vol-list": { options: ["pool"], flags: ["details"], args: [], run: FakeVirsh.prototype.volList },
  "vol-path": { options: ["pool"], args: ["vol"], run: FakeVirsh.prototype.volPath },
  "vol-info": {
    options: ["pool"],
    flags: ["bytes", "physical"],
    args: ["vol"],
    run: FakeVirsh.prototype.volInfo,
  },
  "vol-create": {
    options: ["pool"],
    flags: ["prealloc-metadata"],
    args: ["file"],
    run: FakeVirsh.prototype.volCreate,
  },
  "vol-upload": {
    options: ["pool", "offset", "length"],
    flags: ["sparse"],
    args: ["vol", "file"],
    run: FakeVirsh.prototype.volUpload,
  },
  "vol-download": {
    options: ["pool", "offset", "length"],
    flags: ["sparse"],
    args: ["vol", "file"],
    run: FakeVirsh.prototype.volDownload,
  },
  "vol-delete": {
    options: ["pool"],
    flags: ["delete-snapshots"],
    args: ["vol"],
    run: FakeVirsh.prototype.volDelete,
  },
  "vol-resize": {
    options: ["pool"],
    flags: ["shrink", "allocate", "delta"],
    args: ["vol", "capacity"],
    run: FakeVirsh.prototype.volResize,
  },
  "net-dumpxml": { flags: ["inactive"], args: ["network"], run: FakeVirsh.prototype.netDumpXml },
  "net-info": { args: ["network"], run: FakeVirsh.prototype.netInfo },
  "net-define": { flags: ["validate"], args: ["file"], run: FakeVirsh.prototype.netDefine },
  "net-start": { args: ["network"], run: FakeVirsh.prototype.netStart },
  "net-autostart": { flags: ["disable"], args: ["network"], run: FakeVirsh.prototype.netAutostart },
  "net-destroy": { args: ["network"], run: FakeVirsh.prototype.netDestroy },
  "net-undefine": { args: ["network"], run: FakeVirsh.prototype.netUndefine },
  "net-update": {
    flags: ["config", "live", "current"],
    options: ["parent-index"],
    args: ["network", "command", "section", "xml"],
    run: FakeVirsh.prototype.netUpdate,
  },
  "net-dhcp-leases": { options: ["mac"], args: ["network"], run: FakeVirsh.prototype.netDhcpLeases },
  "dumpxml": {
    flags: ["inactive", "security-info", "update-cpu", "migratable"],
    args: ["domain"],
    run: FakeVirsh.prototype.dumpXml,
  },
  "define": { flags: ["validate"], args: ["file"], run: FakeVirsh.prototype.define },
  "domstate": { flags: ["reason"], args: ["domain"], run: FakeVirsh.prototype.domState },
  "start": {
    flags: ["paused", "autodestroy", "bypass-cache", "force-boot"],
    args: ["domain"],
    run: FakeVirsh.prototype.start,
  },
  "shutdown": { options: ["mode"], args: ["domain"], run: FakeVirsh.prototype.shutdown },
  "destroy": { flags: ["graceful"], args: ["domain"], run: FakeVirsh.prototype.destroy },
  "suspend": { args: ["domain"], run: FakeVirsh.prototype.suspend },
  "resume": { args: ["domain"], run: FakeVirsh.prototype.resume },
  "reboot": { options: ["mode"], args: ["domain"], run: FakeVirsh.prototype.reboot },
  "undefine": {
    flags: [
      "managed-save",
      "snapshots-metadata",
      "checkpoints-metadata",
      "nvram",
      "keep-nvram",
      "tpm",
      "keep-tpm",
      "remove-all-storage",
      "wipe-storage",
      "delete-storage-volume-snapshots",
    ],
    options: ["storage"],
    args: ["domain"],
    run: FakeVirsh.prototype.undefine,
  },
  "domid": { args: ["domain"], run: FakeVirsh.prototype.domId },
  "setmem": {
    flags: ["config", "live", "current"],
    args: ["domain", "size"],
    run: FakeVirsh.prototype.setMem,
  },
  "setvcpus": {
    flags: ["config", "live", "current", "maximum", "guest", "hotpluggable"],
    args: ["domain", "count"],
    run: FakeVirsh.prototype.setVcpus,
  },
  "domif-setlink": {
    flags: ["config"],
    args: ["domain", "interface", "state"],
    run: FakeVirsh.prototype.domIfSetLink,
  },
  "qemu-monitor-command": {
    flags: ["pretty", "hmp"],
    args: ["domain", "command"],
    run: FakeVirsh.prototype.qemuMonitorCommand,
  },
  "snapshot-list": {
    flags: ["name", "topological", "tree", "parent", "roots", "leaves", "current", "internal", "external"],
    args: ["domain"],
    run: FakeVirsh.prototype.snapshotList,
  },
  "domifaddr": {
    options: ["source", "interface"],
    flags: ["full"],
    args: ["domain"],
    run: FakeVirsh.prototype.domIfAddr,
  },
};
