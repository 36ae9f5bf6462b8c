/**
 * lv's benchmarks (issue 5): lv against the virsh floor, and how its cost grows. Run inside scripts/lab.sh
 * (a private libvirtd in namespaces of its own); `deno task bench` builds the test box first and does that.
 *
 *   deno run -A bench/run.ts [--only=boot,status,noop,import,parallel,store,startup,scale,vagrant,timeline,real] [--runs=7] [--vm-runs=3]
 *                            [--import-data=512] [--real-parallel] [--scale=10,100,500] [--keep] [--out=DIR]
 *
 * Every figure is the median of several runs; every ratio is taken pair by pair (the two sides run back to
 * back, alternating which goes first) and the median of the pair ratios is reported. The table goes to stdout,
 * progress to stderr, everything measured to bench/out/bench-<time>.json and bench/out/latest.json (--out: another
 * directory; tests/integration/bench_test.ts runs one item so).
 */
import { parseArgs } from "node:util";
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import { sha256File } from "../src/box/box_source.ts";
import {
  childrenCpuS,
  exec,
  execOk,
  libvirtdCpuS,
  loadavg,
  median,
  type Proc,
  sleep,
  sshOptions,
} from "./proc.ts";
import * as M from "./manifests.ts";
import { itemStore } from "./store.ts";
import { itemStartup } from "./startup.ts";
import { itemScale } from "./scale.ts";
import { itemVagrant } from "./vagrant.ts";
import { guestActiveTimes, itemTimeline } from "./boot.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const MOD = `${ROOT}mod.ts`;
const URI = "qemu:///system";
const ITEMS = [
  "boot",
  "status",
  "noop",
  "import",
  "parallel",
  "store",
  "startup",
  "scale",
  "vagrant",
  "timeline",
  "real",
] as const;
/**
 * vagrant only when asked for (--only=vagrant): it needs vagrant-libvirt and boots 4 guests a run; real (3
 * real guests against 1, lv and by hand) when asked for or with --real-parallel.
 */
const DEFAULT_ITEMS = ITEMS.filter((i) => i !== "vagrant" && i !== "real");
type Item = typeof ITEMS[number];

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    only: { type: "string" },
    runs: { type: "string", default: "7" },
    "vm-runs": { type: "string", default: "3" },
    "import-data": { type: "string", default: "256" },
    "real-parallel": { type: "boolean", default: false },
    scale: { type: "string", default: "10,100,500" },
    keep: { type: "boolean", default: false },
    out: { type: "string", default: "bench/out" },
  },
});
const RUNS = Number(flags.runs);
const VM_RUNS = Number(flags["vm-runs"]);
const IMPORT_DATA_MIB = Number(flags["import-data"]);
const only = new Set<Item>(
  flags.only ? flags.only.split(",").map((s) => s.trim() as Item) : DEFAULT_ITEMS,
);
if (flags["real-parallel"]) only.add("real");
for (const i of only) {
  if (!ITEMS.includes(i)) throw new Error(`--only: unknown item ${i} (${ITEMS.join(",")})`);
}

if (!Deno.env.get("LV_LAB")) {
  console.error("bench/run.ts needs a private libvirtd: run it with `deno task bench` (scripts/lab.sh)");
  Deno.exit(2);
}

// ------------------------------------------------------------------ results

interface Row {
  item: string;
  what: string;
  unit: "s" | "ms" | "x" | "MiB" | "%" | "";
  /** Median of samples. */
  value: number;
  samples: number[];
  /** value must be <= target. */
  target?: number;
  note?: string;
}

const rows: Row[] = [];
const details: Record<string, unknown> = {};
const loads: Record<string, { start: number; end: number }> = {};
const errors: Record<string, string> = {};

function row(r: Omit<Row, "value"> & { value?: number }): void {
  rows.push({ ...r, value: r.value ?? median(r.samples) });
}

function log(text: string): void {
  const t = new Date().toISOString().slice(11, 19);
  console.error(`[${t} load ${loadavg().toFixed(2)}] ${text}`);
}

const s = (ms: number) => ms / 1000;
const fmt = (n: number, d = 2) => Number.isFinite(n) ? n.toFixed(d) : "-";

// ------------------------------------------------------------------ running things

const WORK = Deno.makeTempDirSync({ dir: "/var/tmp", prefix: "lv-bench-" });

async function virsh(args: string[], stdin?: string): Promise<Proc> {
  return await execOk("virsh", ["-q", "-c", URI, ...args], { stdin });
}

async function virshMaybe(args: string[]): Promise<Proc> {
  return await exec("virsh", ["-q", "-c", URI, ...args]);
}

/** An lv with a home (store, caches) of its own; every run records its virsh calls and its peak RSS. */
class Lv {
  readonly home: string;
  readonly virshLog: string;
  constructor(tag: string) {
    this.home = Deno.makeTempDirSync({ dir: WORK, prefix: `home-${tag}-` });
    this.virshLog = `${this.home}/virsh.log`;
  }

  async run(
    args: string[],
    options: { stamp?: boolean; timeoutMs?: number; env?: Record<string, string> } = {},
  ) {
    return await exec(Deno.execPath(), ["run", "-A", MOD, ...args], {
      env: { LV_HOME: this.home, LV_VIRSH_LOG: this.virshLog, ...options.env },
      cwd: ROOT,
      rss: true,
      stamp: options.stamp,
      timeoutMs: options.timeoutMs,
    });
  }

  async ok(
    args: string[],
    options: { stamp?: boolean; timeoutMs?: number; env?: Record<string, string> } = {},
  ): Promise<Proc> {
    const p = await this.run(args, options);
    if (p.code !== 0) throw new Error(`lv ${args.join(" ")} exited ${p.code}\n${p.stdout}\n${p.stderr}`);
    return p;
  }

  /** virsh argv lines lv ran since the last call. */
  virshCalls(): string[][] {
    let text = "";
    try {
      text = Deno.readTextFileSync(this.virshLog);
      Deno.removeSync(this.virshLog);
    } catch { /* none */ }
    return text.split("\n").filter((l) => l).map((l) => JSON.parse(l));
  }
}

/** "dumpxml×50 domstate×50" */
function breakdown(calls: string[][]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of calls) out[c[0]] = (out[c[0]] ?? 0) + 1;
  return out;
}

function writeFile(name: string, text: string): string {
  const path = `${WORK}/${name}`;
  Deno.writeTextFileSync(path, text);
  return path;
}

/** The pool "default" (lv creates it when missing; the by-hand runs need it too). */
async function ensureDefaultPool(): Promise<string> {
  if ((await virshMaybe(["pool-info", "default"])).code !== 0) {
    await virsh(["pool-define-as", "default", "dir", "--target", "/var/lib/libvirt/images"]);
    await virsh(["pool-build", "default"]);
    await virsh(["pool-autostart", "default"]);
  }
  if (!/State:\s+running/.test((await virsh(["pool-info", "default"])).stdout)) {
    await virsh(["pool-start", "default"]);
  }
  const xml = (await virsh(["pool-dumpxml", "default"])).stdout;
  return xml.match(/<path>([^<]+)<\/path>/)![1];
}

function randomMac(): string {
  const b = crypto.getRandomValues(new Uint8Array(3));
  return `52:54:01:${[...b].map((x) => x.toString(16).padStart(2, "0")).join(":")}`;
}

/** First stamp (ms since spawn) of a stderr line matching re. */
function stampOf(p: Proc, re: RegExp): number | undefined {
  return p.lines?.find((l) => re.test(l.line))?.ms;
}

async function timed<T>(item: string, fn: () => Promise<T>): Promise<T | undefined> {
  const start = loadavg();
  const t0 = performance.now();
  log(`${item}: start`);
  try {
    return await fn();
  } catch (e) {
    errors[item] = (e as Error).stack ?? String(e);
    log(`${item}: FAILED: ${(e as Error).message}`);
    return undefined;
  } finally {
    loads[item] = { start, end: loadavg() };
    log(`${item}: done in ${s(performance.now() - t0).toFixed(0)} s`);
  }
}

// ------------------------------------------------------------------ 1. boot: floor vs lv (and 6. memory)

function boxDir(): string {
  return Deno.env.get("LV_TEST_BOX_DIR") ?? "/var/cache/lv-test-box/current";
}

interface BootSetup {
  lv: Lv;
  vmYaml: string;
  baseYaml: string;
  poolPath: string;
  floorBoxPath: string;
  floorBoxBytes: number;
  key: string;
}

async function bootSetup(): Promise<BootSetup> {
  const dir = boxDir();
  const boxFile = `${dir}/debian12.box`;
  Deno.statSync(boxFile);
  const lv = new Lv("boot");
  const base = [M.boxDoc("bench-box", boxFile), M.natNetworkDoc("bench-net", "10.77.0.1")];
  const baseYaml = writeFile("boot-base.yaml", M.join(base));
  const vmYaml = writeFile("boot-vm.yaml", M.join([...base, M.vmDoc("bench-vm", "bench-box", "bench-net")]));
  // lv: the Box (a Vagrant .box, unpacked and uploaded) and the Network, Ready before any timed run.
  const setup = await lv.ok(["apply", "-f", baseYaml, "--timeout=5m"]);
  const poolPath = await ensureDefaultPool();
  // By hand: the same image uploaded to its own volume, and a NAT network of its own.
  await execOk("tar", ["-x", "-f", boxFile, "-C", WORK, "box.img"]);
  const info = JSON.parse((await execOk("qemu-img", ["info", "--output=json", `${WORK}/box.img`])).stdout);
  const t0 = performance.now();
  await virsh(["vol-create-as", "default", "floor-box", String(info["virtual-size"]), "--format", "qcow2"]);
  await virsh(["vol-upload", "--pool", "default", "floor-box", `${WORK}/box.img`]);
  const handUploadMs = performance.now() - t0;
  await virsh(["net-define", "/dev/stdin"], M.floorNetworkXml("floor-net", "10.78.0"));
  await virsh(["net-start", "floor-net"]);
  details.bootSetup = {
    lvApplyBoxAndNetworkS: s(setup.ms),
    handUploadBoxImgS: s(handUploadMs),
    boxImgBytes: Deno.statSync(`${WORK}/box.img`).size,
  };
  return {
    lv,
    vmYaml,
    baseYaml,
    poolPath,
    floorBoxPath: `${poolPath}/floor-box`,
    floorBoxBytes: info["virtual-size"],
    key: `${dir}/vagrant_key`,
  };
}

const SSH_OPTS = (key: string) => sshOptions(key, 5);

/** By hand: overlay, define, start, DHCP lease, first SSH command that succeeds. */
/** By hand: overlay, define, start, DHCP lease, first SSH command that succeeds. */
async function floorBoot(b: BootSetup, i: number): Promise<{ ms: number; phases: Record<string, number> }> {
  const name = `floor-vm-${i}`;
  const mac = randomMac();
  const deadline = Date.now() + 8 * 60_000;
  const [cpu0, daemon0] = [childrenCpuS(), libvirtdCpuS()];
  let processes = 3;
  const t0 = performance.now();
  await virsh([
    "vol-create-as",
    "default",
    name,
    String(b.floorBoxBytes),
    "--format",
    "qcow2",
    "--backing-vol",
    b.floorBoxPath,
    "--backing-vol-format",
    "qcow2",
  ]);
  const tVolume = performance.now() - t0;
  await virsh(
    ["define", "/dev/stdin"],
    M.floorDomainXml({ name, disk: `${b.poolPath}/${name}`, network: "floor-net", mac }),
  );
  await virsh(["start", name]);
  const tStarted = performance.now() - t0;
  let ip: string | undefined;
  while (!ip) {
    if (Date.now() > deadline) throw new Error(`${name}: no DHCP lease for ${mac}`);
    const out = (await virsh(["net-dhcp-leases", "floor-net", "--mac", mac])).stdout;
    processes++;
    ip = out.match(/ipv4\s+(\d+\.\d+\.\d+\.\d+)\//)?.[1];
    if (!ip) await sleep(250);
  }
  const tLease = performance.now() - t0;
  let attempts = 0;
  while (true) {
    if (Date.now() > deadline) throw new Error(`${name}: SSH to ${ip} never answered`);
    attempts++;
    processes++;
    const r = await exec("ssh", [...SSH_OPTS(b.key), `vagrant@${ip}`, "true"], { timeoutMs: 15_000 });
    if (r.code === 0) break;
    await sleep(250);
  }
  const tSsh = performance.now() - t0;
  const cpuS = childrenCpuS() - cpu0, daemonCpuS = libvirtdCpuS() - daemon0;
  const guest = await guestTimeline(ip, b.key, t0);
  return {
    ms: tSsh,
    phases: {
      ...guest,
      volumeS: s(tVolume),
      startedS: s(tStarted),
      leaseS: s(tLease),
      sshS: s(tSsh),
      sshAttempts: attempts,
      processes,
      cpuS,
      libvirtdCpuS: daemonCpuS,
    },
  };
}

/**
 * When, in the run's own clock (seconds since t0), the guest's kernel started and its sshd became active: asked
 * over SSH after the timed part (guest monotonic clock, anchored at the midpoint of the SSH command). Tells a
 * slower guest boot (CPU taken from the emulated guest) apart from a slower detection of a guest that is up.
 */
async function guestTimeline(ip: string, key: string, t0: number): Promise<Record<string, number>> {
  const g = await guestActiveTimes(ip, key, t0, ["ssh.service", "systemd-networkd.service"]);
  if ("error" in g) {
    log(`guest timeline: ${g.error}`);
    return {};
  }
  return { kernelStartS: g.kernelS, sshdActiveS: g.activeS[0], networkdActiveS: g.activeS[1] };
}

async function floorCleanup(i: number): Promise<void> {
  const name = `floor-vm-${i}`;
  await virshMaybe(["destroy", name]);
  await virshMaybe(["undefine", name]);
  await virshMaybe(["vol-delete", "--pool", "default", name]);
}

/** Rows of lv's store `changes` table after rv (what lv wrote): count per "Kind TYPE", and the last rv. */
function storeChanges(home: string, after = 0): { last: number; writes: Record<string, number> } {
  const db = new DatabaseSync(`${home}/store.db`, { readOnly: true });
  try {
    const rows = db.prepare(
      "select kind, type, count(*) as n, max(rv) as last from changes where rv > ? group by kind, type",
    )
      .all(after) as { kind: string; type: string; n: number; last: number }[];
    const writes: Record<string, number> = {};
    let last = after;
    for (const r of rows) {
      writes[`${r.kind} ${r.type}`] = r.n;
      last = Math.max(last, r.last);
    }
    return { last, writes };
  } finally {
    db.close();
  }
}

async function lvBoot(
  b: BootSetup,
): Promise<{ ms: number; rssKiB: number; phases: Record<string, unknown> }> {
  b.lv.virshCalls();
  const rv0 = storeChanges(b.lv.home).last;
  const daemon0 = libvirtdCpuS();
  const t0 = performance.now();
  const p = await b.lv.ok(["apply", "-f", b.vmYaml, "--timeout=8m"], { stamp: true, env: { LV_DEBUG: "1" } });
  // LV_DEBUG's "KIND/NS/NAME reconciled in N ms" lines: passes per kind.
  const reconciles: Record<string, number> = {};
  for (const { line } of p.lines ?? []) {
    const m = line.match(/\] (\w+)\/[^/\s]+\/\S+ (reconciled|failed)/);
    if (m) reconciles[m[1]] = (reconciles[m[1]] ?? 0) + 1;
  }
  const daemonCpuS = libvirtdCpuS() - daemon0;
  const dom = JSON.parse((await b.lv.ok(["get", "domain", "bench-vm", "-o", "json"])).stdout);
  // lv replaces the box's key by one of the domain's own (ssh.insertKey) when it has one.
  let key = `${b.lv.home}/keys/${dom.metadata.uid}`;
  try {
    Deno.statSync(key);
  } catch {
    key = b.key;
  }
  const guest = await guestTimeline(dom.status.ip, key, t0);
  const calls = b.lv.virshCalls();
  const at = (re: RegExp) => {
    const ms = stampOf(p, re);
    return ms === undefined ? undefined : s(ms);
  };
  return {
    ms: p.ms,
    rssKiB: p.rssKiB!,
    phases: {
      ...guest,
      definedS: at(/^domain\/bench-vm: Defined:/),
      startedS: at(/^domain\/bench-vm: Started:/),
      sshReadyS: at(/^domain\/bench-vm: SshReady:/),
      hostnameS: at(/^domain\/bench-vm: Hostname:/),
      keyInsertedS: at(/^domain\/bench-vm: KeyInserted:/),
      exitS: s(p.ms),
      cpuS: p.cpuS,
      libvirtdCpuS: daemonCpuS,
      virshCalls: calls.length,
      virsh: breakdown(calls),
      reconciles,
      storeWrites: storeChanges(b.lv.home, rv0).writes,
    },
  };
}

/** Runs `fn` with the boot set-up (lv's Box and Network, the by-hand box volume and network), then removes it. */
async function withBootSetup(fn: (b: BootSetup) => Promise<void>): Promise<void> {
  const b = await bootSetup();
  try {
    await fn(b);
  } finally {
    await virshMaybe(["net-destroy", "floor-net"]);
    await virshMaybe(["net-undefine", "floor-net"]);
    await virshMaybe(["vol-delete", "--pool", "default", "floor-box"]);
    await b.lv.run(["delete", "-f", b.baseYaml, "--timeout=3m"]);
  }
}

async function itemBoot(b: BootSetup): Promise<void> {
  const floor: number[] = [], lv: number[] = [], ratio: number[] = [], rss: number[] = [];
  const runs: unknown[] = [];
  for (let i = 0; i < VM_RUNS; i++) {
    const load = loadavg();
    let f: Awaited<ReturnType<typeof floorBoot>> | undefined;
    let l: Awaited<ReturnType<typeof lvBoot>> | undefined;
    const doFloor = async () => {
      log(`boot ${i}: floor`);
      try {
        f = await floorBoot(b, i);
      } finally {
        await floorCleanup(i);
      }
    };
    const doLv = async () => {
      log(`boot ${i}: lv apply`);
      try {
        l = await lvBoot(b);
      } finally {
        await b.lv.run(["delete", "domain", "bench-vm", "--ignore-not-found", "--timeout=3m"]);
      }
    };
    if (i % 2 === 0) {
      await doFloor();
      await doLv();
    } else {
      await doLv();
      await doFloor();
    }
    floor.push(s(f!.ms));
    lv.push(s(l!.ms));
    ratio.push(l!.ms / f!.ms);
    rss.push(l!.rssKiB / 1024);
    runs.push({ order: i % 2 === 0 ? "floor,lv" : "lv,floor", load, floor: f!.phases, lv: l!.phases });
    log(`boot ${i}: floor ${fmt(s(f!.ms), 1)} s, lv ${fmt(s(l!.ms), 1)} s, ratio ${fmt(l!.ms / f!.ms)}`);
  }
  details.boot = runs;
  row({ item: "1 boot", what: "floor: virsh by hand, to first SSH command", unit: "s", samples: floor });
  row({ item: "1 boot", what: "lv apply to Ready (SSH, key, hostname)", unit: "s", samples: lv });
  row({ item: "1 boot", what: "lv / floor (pairwise)", unit: "x", samples: ratio, target: 1.1 });
  const phase = (side: "floor" | "lv", k: string) =>
    (runs as Record<string, Record<string, number>>[]).map((r) => Number(r[side][k]));
  // The guest's own boot (QEMU started -> its sshd active) varies by ±20 % from boot to boot on this machine,
  // more than lv adds: lv's own time is what it adds around it, pair by pair.
  const [fStarted, fSshd] = [phase("floor", "startedS"), phase("floor", "sshdActiveS")];
  const [lStarted, lSshd] = [phase("lv", "startedS"), phase("lv", "sshdActiveS")];
  const own = lv.map((l, i) => (lStarted[i] - fStarted[i]) + (l - lSshd[i]) - (floor[i] - fSshd[i]));
  row({
    item: "1 boot",
    what: "  guest's own boot (started -> sshd active): by hand",
    unit: "s",
    samples: fSshd.map((a, i) => a - fStarted[i]),
  });
  row({ item: "1 boot", what: "  ... lv", unit: "s", samples: lSshd.map((a, i) => a - lStarted[i]) });
  row({
    item: "1 boot",
    what: "  lv's own time (later start, sshd active -> Ready past by hand's)",
    unit: "s",
    samples: own.filter(Number.isFinite),
  });
  row({
    item: "1 boot",
    what: "(by hand + lv's own time) / by hand: without the boot's noise",
    unit: "x",
    samples: own.map((o, i) => (floor[i] + o) / floor[i]).filter(Number.isFinite),
    target: 1.1,
  });
  row({
    item: "1 boot",
    what: "  by hand: processes started (virsh, ssh)",
    unit: "",
    samples: phase("floor", "processes"),
  });
  row({
    item: "1 boot",
    what: "  lv: virsh processes started",
    unit: "",
    samples: phase("lv", "virshCalls"),
  });
  row({
    item: "1 boot",
    what: "  by hand: CPU of those processes",
    unit: "s",
    samples: phase("floor", "cpuS"),
  });
  row({ item: "1 boot", what: "  lv: CPU of lv and its children", unit: "s", samples: phase("lv", "cpuS") });
  row({
    item: "1 boot",
    what: "  by hand: libvirtd CPU",
    unit: "s",
    samples: phase("floor", "libvirtdCpuS"),
  });
  row({ item: "1 boot", what: "  lv: libvirtd CPU", unit: "s", samples: phase("lv", "libvirtdCpuS") });
  row({
    item: "1 boot",
    what: "  by hand: DHCP lease",
    unit: "s",
    samples: phase("floor", "leaseS"),
  });
  row({ item: "1 boot", what: "  lv: Started event", unit: "s", samples: phase("lv", "startedS") });
  row({
    item: "1 boot",
    what: "  by hand: guest sshd active",
    unit: "s",
    samples: phase("floor", "sshdActiveS"),
  });
  row({ item: "1 boot", what: "  lv: guest sshd active", unit: "s", samples: phase("lv", "sshdActiveS") });
  row({ item: "1 boot", what: "  lv: SshReady event", unit: "s", samples: phase("lv", "sshReadyS") });
  row({ item: "6 memory", what: "peak RSS, lv apply of item 1", unit: "MiB", samples: rss });
}

/** How many real guests --real-parallel brings up at once (the issue's figure: 3). */
const REAL_N = 3;

/**
 * REAL_N real guests to Ready in one manifest vs 1, and the same by hand (REAL_N floor boots at once vs 1):
 * lv's N/1 over by hand's N/1. Once each; under TCG the 2 cores, not the tools, bound the N guests.
 */
async function realParallel(b: BootSetup): Promise<void> {
  const base = Deno.readTextFileSync(b.baseYaml);
  const names = Array.from({ length: REAL_N }, (_, j) => `bench-vm-${j}`);
  const many = writeFile(
    `real${REAL_N}.yaml`,
    M.join([base, ...names.map((name) => M.vmDoc(name, "bench-box", "bench-net"))]),
  );
  const floor = async (ids: number[]) => {
    const t0 = performance.now();
    try {
      await Promise.all(ids.map((i) => floorBoot(b, i)));
      return performance.now() - t0;
    } finally {
      await Promise.all(ids.map(floorCleanup));
    }
  };
  log("parallel (real guests): 1 by hand");
  const handOne = await floor([100]);
  log("parallel (real guests): 1 domain");
  const one = await lvBoot(b);
  await b.lv.run(["delete", "domain", "bench-vm", "--timeout=3m"]);
  log(`parallel (real guests): ${REAL_N} by hand`);
  const handMany = await floor(names.map((_, j) => 101 + j));
  log(`parallel (real guests): ${REAL_N} domains`);
  const p = await b.lv.ok(["apply", "-f", many, "--timeout=20m"], { stamp: true });
  b.lv.virshCalls();
  const ready = names.map((name) => stampOf(p, new RegExp(`^domain/${name}: (SshReady|Hostname):`)));
  await b.lv.run(["delete", "domain", ...names, "--timeout=5m"]);
  details.realParallel = {
    n: REAL_N,
    oneS: s(one.ms),
    manyS: s(p.ms),
    manySshReadyS: ready.map((m) => m && s(m)),
    handOneS: s(handOne),
    handManyS: s(handMany),
  };
  const lvRatio = p.ms / one.ms, handRatio = handMany / handOne;
  const what = (w: string) => ({ item: "5 parallel", what: w, unit: "s" as const });
  row({ ...what("real guests, lv: 1 domain to Ready (once)"), samples: [s(one.ms)] });
  row({ ...what(`real guests, lv: ${REAL_N} domains to Ready (once)`), samples: [s(p.ms)] });
  row({ ...what("real guests, by hand: 1 to a first SSH command (once)"), samples: [s(handOne)] });
  row({ ...what(`real guests, by hand: ${REAL_N} at once (once)`), samples: [s(handMany)] });
  row({ item: "5 parallel", what: `real guests: lv ${REAL_N}/1`, unit: "x", samples: [lvRatio] });
  row({ item: "5 parallel", what: `real guests: by hand ${REAL_N}/1`, unit: "x", samples: [handRatio] });
  row({
    item: "5 parallel",
    what: `real guests: lv's ${REAL_N}/1 over by hand's`,
    unit: "x",
    samples: [lvRatio / handRatio],
    target: 1.1,
  });
}

// ------------------------------------------------------------------ 2. status, 3. no-op reconcile

function disklessManifest(prefix: string, n: number, state: "Running" | "Stopped"): string {
  return writeFile(
    `${prefix}-${n}.yaml`,
    M.join(Array.from({ length: n }, (_, j) => M.disklessDoc(`${prefix}-${j}`, state))),
  );
}

async function samples(n: number, fn: () => Promise<Proc>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await fn()).ms);
  return out;
}

async function itemStatus(): Promise<void> {
  const deno = Deno.execPath();
  const empty = writeFile("empty.ts", "");
  // One store per size, all filled first, then measured round-robin so load drift hits every size alike.
  const sizes = [0, 1, 10, 100];
  const homes = new Map<number, Lv>();
  const created: Record<number, unknown> = {};
  for (const n of sizes) {
    const lv = new Lv(`status${n}`);
    homes.set(n, lv);
    if (n === 0) continue;
    const a = await lv.ok(["apply", "-f", disklessManifest(`s${n}`, n, "Stopped"), "--timeout=5m"]);
    const calls = lv.virshCalls();
    created[n] = { applyS: s(a.ms), virshCalls: calls.length, virsh: breakdown(calls) };
    log(`status: ${n} domains applied in ${fmt(s(a.ms), 1)} s (${calls.length} virsh)`);
  }
  details.statusApplyCreate = created;
  const probe = (format: string) =>
    exec(deno, ["run", "-A", `${ROOT}bench/probe_get.ts`, format], {
      env: { LV_HOME: homes.get(100)!.home },
    });
  const series = new Map<string, number[]>();
  const add = (key: string, p: Proc) => series.set(key, [...(series.get(key) ?? []), p.ms]);
  for (let r = -1; r < RUNS; r++) { // r = -1: warm-up, not kept
    const keep = (key: string, p: Proc) => r >= 0 && add(key, p);
    keep("deno", await exec(deno, ["run", "-A", empty]));
    keep("help", await homes.get(0)!.run(["help"]));
    for (const n of sizes) {
      const lv = homes.get(n)!;
      const t = await lv.ok(["get", "domains"]);
      const lines = t.stdout.trim() ? t.stdout.trim().split("\n").length : 0;
      if (lines !== (n ? n + 1 : 0)) throw new Error(`get domains: expected ${n} rows:\n${t.stdout}`);
      keep(`table${n}`, t);
      const j = await lv.ok(["get", "domains", "-o", "json"]);
      const count = n === 0 ? 0 : (JSON.parse(j.stdout).items ?? [1]).length;
      if (count !== n) throw new Error(`get domains -o json: expected ${n} items, got ${count}`);
      keep(`json${n}`, j);
    }
    keep("probeTable", await probe("table"));
    keep("probeJson", await probe("json"));
  }
  const startup: Record<string, number> = {};
  for (const [name, spec] of Object.entries(IMPORT_PROBES)) {
    const file = writeFile(`probe-${name.replace(/\W+/g, "-")}.ts`, spec);
    const run = () => exec(deno, ["run", "-A", "--config", `${ROOT}deno.json`, file], { cwd: ROOT });
    await run();
    startup[name] = median(await samples(RUNS, run));
  }
  details.startupMs = startup;
  const S = (k: string) => series.get(k)!;
  row({ item: "2 status", what: "floor: deno run of an empty file", unit: "ms", samples: S("deno") });
  row({ item: "2 status", what: "lv help (loads lv's whole module graph)", unit: "ms", samples: S("help") });
  for (const n of sizes) {
    const label = `${n} domain${n === 1 ? "" : "s"}`;
    row({
      item: "2 status",
      what: `lv get domains, ${label}`,
      unit: "ms",
      samples: S(`table${n}`),
      target: n === 100 ? 150 : undefined,
    });
    row({ item: "2 status", what: `lv get domains -o json, ${label}`, unit: "ms", samples: S(`json${n}`) });
  }
  // The bound for lazy imports: the store and a printer, nothing else (bench/probe_get.ts).
  row({
    item: "2 status",
    what: "probe: store + table printer only, 100",
    unit: "ms",
    samples: S("probeTable"),
  });
  row({ item: "2 status", what: "probe: store + JSON only, 100", unit: "ms", samples: S("probeJson") });
  for (const n of sizes) {
    if (n) await homes.get(n)!.run(["delete", "-f", disklessManifest(`s${n}`, n, "Stopped"), "--timeout=5m"]);
  }
}

async function itemNoop(): Promise<void> {
  const lv = new Lv("noop");
  const file = disklessManifest("n", 50, "Stopped");
  const a = await lv.ok(["apply", "-f", file, "--timeout=5m"]);
  details.noopApplyCreate = { applyS: s(a.ms), virshCalls: lv.virshCalls().length };
  await noop(lv, file);
  await inProcessPass(lv);
  await lv.run(["delete", "-f", file, "--timeout=5m"]);
}

/** Startup probes: a file importing one dependency, run with deno.json's import map. */
const IMPORT_PROBES: Record<string, string> = {
  "import npm:yaml": `import "yaml";`,
  "import npm:fast-xml-parser": `import "fast-xml-parser";`,
  "import npm:ssh2": `import "ssh2";`,
  "import node:sqlite": `import "node:sqlite";`,
  "import the three npm packages": `import "yaml"; import "fast-xml-parser"; import "ssh2";`,
};

async function noop(lv: Lv, file: string): Promise<void> {
  const times: number[] = [], counts: number[] = [], rss: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const p = await lv.ok(["apply", "-f", file]);
    const unchanged = p.stdout.trim().split("\n").filter((l) => / unchanged$/.test(l)).length;
    if (unchanged !== 50) throw new Error(`no-op apply: expected 50 unchanged:\n${p.stdout}`);
    times.push(s(p.ms));
    counts.push(lv.virshCalls().length);
    rss.push(p.rssKiB! / 1024);
  }
  row({ item: "3 no-op", what: "lv apply, 50 unchanged domains", unit: "s", samples: times, target: 1.5 });
  row({ item: "3 no-op", what: "virsh processes started by it", unit: "", samples: counts });
  row({ item: "6 memory", what: "peak RSS, lv apply of item 3", unit: "MiB", samples: rss });
  // What is left of the apply when it does not load the manifest: deno + lv + store open.
  const validate: number[] = [];
  for (let i = 0; i < RUNS; i++) validate.push((await lv.run(["apply", "-f", file, "--wait=false"])).ms);
  details.noopWaitFalseMs = median(validate);
  await observationPass(lv);
}

/**
 * One observation pass over 50 converged domains (what `lv controller` does at start and every resync), and
 * the same virsh commands replayed: a process each (sequential, and 4 at a time like lv's workers) vs one
 * persistent virsh session fed on stdin.
 */
async function observationPass(lv: Lv): Promise<void> {
  lv.virshCalls();
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MOD, "controller", "--resync=1h"],
    env: { LV_HOME: lv.home, LV_VIRSH_LOG: lv.virshLog, LV_DEBUG: "1" },
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let reconciled = 0, passMs = NaN;
  const dec = new TextDecoder();
  let partial = "";
  const reader = (async () => {
    for await (const chunk of child.stderr) {
      const parts = (partial + dec.decode(chunk, { stream: true })).split("\n");
      partial = parts.pop()!;
      for (const line of parts) {
        if (/Domain\/default\/n-\d+ reconciled in/.test(line) && ++reconciled === 50) {
          passMs = performance.now() - t0;
        }
      }
    }
  })();
  const deadline = Date.now() + 120_000;
  while (reconciled < 50 && Date.now() < deadline) await sleep(50);
  child.kill("SIGTERM");
  await child.status;
  await reader;
  const calls = lv.virshCalls();
  const reads = calls.filter((c) => READ_ONLY.test(c[0]));
  details.observationPass = { passS: s(passMs), virshCalls: calls.length, virsh: breakdown(calls) };
  row({
    item: "3 no-op",
    what: "observation pass, 50 domains (lv controller start)",
    unit: "s",
    samples: [s(passMs)],
  });
  row({ item: "3 no-op", what: "virsh processes in that pass", unit: "", samples: [calls.length] });
  // Replays.
  const seq: number[] = [], session: number[] = [];
  for (let i = 0; i < 3; i++) {
    let t = performance.now();
    for (const c of reads) await virsh(c);
    seq.push(performance.now() - t);
    t = performance.now();
    const p = await execOk("virsh", ["-q", "-c", URI], {
      stdin: reads.map((c) => c.map(shellWord).join(" ")).join("\n") + "\n",
    });
    session.push(performance.now() - t);
    if (p.stderr.trim()) throw new Error(`virsh session: ${p.stderr}`);
  }
  details.virshReplay = {
    commands: reads.length,
    processesSequentialMs: median(seq),
    oneSessionMs: median(session),
    perCommandProcessMs: median(seq) / reads.length,
    perCommandSessionMs: median(session) / reads.length,
  };
  const n = reads.length;
  row({ item: "3 no-op", what: `replay ${n} virsh: a process each, sequential`, unit: "ms", samples: seq });
  row({ item: "3 no-op", what: `replay ${n} virsh: one session on stdin`, unit: "ms", samples: session });
}

/**
 * The observation pass in one process (no deno startup): lv's ProcessVirsh vs the proposed persistent virsh
 * sessions (SessionVirsh, src/libvirt/session_virsh.ts), alternating, same store.
 */
async function inProcessPass(lv: Lv): Promise<void> {
  const out: Record<string, { ms: number[]; calls: number[] }> = {
    process: { ms: [], calls: [] },
    session: { ms: [], calls: [] },
  };
  for (let i = 0; i < 3; i++) {
    for (const mode of i % 2 === 0 ? ["process", "session"] : ["session", "process"]) {
      const p = await execOk(Deno.execPath(), ["run", "-A", `${ROOT}bench/observe.ts`, mode], {
        env: { LV_HOME: lv.home },
        cwd: ROOT,
      });
      const r = JSON.parse(p.stdout);
      if (r.ready !== r.objects) {
        throw new Error(`observe.ts ${mode}: ${r.ready} of ${r.objects} Ready after the pass`);
      }
      out[mode].ms.push(r.ms);
      out[mode].calls.push(r.calls);
    }
  }
  details.inProcessPass = out;
  const n = median(out.process.calls);
  row({
    item: "3 no-op",
    what: `in-process pass, 50 domains: virsh process per call (${n})`,
    unit: "ms",
    samples: out.process.ms,
  });
  row({
    item: "3 no-op",
    what: `in-process pass, 50 domains: one virsh session`,
    unit: "ms",
    samples: out.session.ms,
  });
}

const READ_ONLY =
  /^(version|capabilities|domcapabilities|pool-dumpxml|pool-info|vol-dumpxml|vol-list|net-dumpxml|net-info|net-dhcp-leases|dumpxml|domstate|domid|domifaddr|list|net-list|pool-list|snapshot-list|snapshot-dumpxml)$/;

function shellWord(w: string): string {
  return /^[\w./:=@-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

// ------------------------------------------------------------------ 4. box import

async function itemImport(): Promise<void> {
  await ensureDefaultPool();
  const sparse = `${WORK}/sparse-1g.qcow2`;
  await execOk("qemu-img", ["create", "-q", "-f", "qcow2", sparse, "1G"]);
  const filled = `${WORK}/filled-1g.qcow2`;
  await execOk("qemu-img", ["create", "-q", "-f", "qcow2", filled, "1G"]);
  await execOk("qemu-io", ["-f", "qcow2", "-c", `write -P 0x5a 0 ${IMPORT_DATA_MIB}M`, filled]);
  const lv = new Lv("import");
  const variants = [
    { tag: "sparse", file: sparse, runs: Math.max(3, Math.min(RUNS, 5)), label: "1 GiB sparse qcow2" },
    {
      tag: "filled",
      file: filled,
      runs: VM_RUNS,
      label: `1 GiB qcow2, ${IMPORT_DATA_MIB} MiB written`,
    },
  ];
  const components: Record<string, unknown> = {};
  for (const v of variants) {
    const bytes = Deno.statSync(v.file).size;
    await execOk("dd", [`if=${v.file}`, "of=/dev/null", "bs=1M"]); // page cache warm for both sides
    const hand: number[] = [], lvs: number[] = [], ratio: number[] = [], inside: number[] = [];
    for (let i = 0; i < v.runs; i++) {
      const name = `hand-${v.tag}-${i}`;
      const box = `imp-${v.tag}-${i}`;
      const yaml = writeFile(`${box}.yaml`, M.boxDoc(box, v.file));
      let h = 0, l: Proc | undefined;
      const doHand = async () => {
        const t0 = performance.now();
        await virsh(["vol-create-as", "default", name, "1073741824", "--format", "qcow2"]);
        await virsh(["vol-upload", "--pool", "default", name, v.file]);
        h = performance.now() - t0;
      };
      const doLv = async () => {
        lv.virshCalls();
        l = await lv.ok(["apply", "-f", yaml, "--timeout=5m"]);
      };
      if (i % 2 === 0) {
        await doHand();
        await doLv();
      } else {
        await doLv();
        await doHand();
      }
      const calls = lv.virshCalls();
      const up = l!.stderr.match(/ in (\d+(?:\.\d+)?)s\n/);
      if (up) inside.push(Number(up[1]));
      hand.push(s(h));
      lvs.push(s(l!.ms));
      ratio.push(l!.ms / h);
      components[`${v.tag}VirshCalls`] = calls.length;
      await virshMaybe(["vol-delete", "--pool", "default", name]);
      await lv.run(["delete", "box", box, "--timeout=2m"]);
    }
    // Where lv's extra time goes: the sha256 of the source and qemu-img info.
    const t0 = performance.now();
    await sha256File(v.file);
    const shaMs = performance.now() - t0;
    const native = await execOk("sha256sum", [v.file]);
    const info = await execOk("qemu-img", ["info", "--output=json", v.file]);
    components[v.tag] = {
      fileBytes: bytes,
      sha256InDenoMs: shaMs,
      sha256sumMs: native.ms,
      qemuImgInfoMs: info.ms,
      uploadReportedByLvS: median(inside),
    };
    row({
      item: "4 import",
      what: `by hand: vol-create-as + vol-upload, ${v.label}`,
      unit: "s",
      samples: hand,
    });
    row({ item: "4 import", what: `lv apply of a Box, ${v.label}`, unit: "s", samples: lvs });
    row({
      item: "4 import",
      what: `lv / by hand (pairwise), ${v.label}`,
      unit: "x",
      samples: ratio,
      target: 1.2,
    });
  }
  details.import = components;
}

// ------------------------------------------------------------------ 5. parallel bring-up

async function itemParallel(): Promise<void> {
  const lv = new Lv("parallel");
  const applyAndDelete = async (file: string) => {
    lv.virshCalls();
    const p = await lv.ok(["apply", "-f", file, "--timeout=3m"], { stamp: true });
    const calls = lv.virshCalls();
    await lv.ok(["delete", "-f", file, "--timeout=3m"]);
    return { p, calls };
  };
  // The floor: define + start by hand, the N at once (a virsh process each, concurrently).
  const byHand = async (n: number) => {
    const names = Array.from({ length: n }, (_, j) => `hand-p-${j}`);
    const t0 = performance.now();
    await Promise.all(names.map(async (name) => {
      await virsh(["define", "/dev/stdin"], M.disklessDomainXml(name));
      await virsh(["start", name]);
    }));
    const ms = performance.now() - t0;
    for (const name of names) {
      await virshMaybe(["destroy", name]);
      await virshMaybe(["undefine", name]);
    }
    return ms;
  };
  const one = disklessManifest("p", 1, "Running");
  const runs: unknown[] = [];
  for (const n of [5, 10]) {
    const many = disklessManifest("p", n, "Running");
    const t1: number[] = [], tn: number[] = [], ratio: number[] = [];
    const h1: number[] = [], hn: number[] = [], hratio: number[] = [], rel: number[] = [];
    for (let i = 0; i < Math.max(VM_RUNS, 3); i++) {
      let a, b, x = 0, y = 0;
      if (i % 2 === 0) {
        a = await applyAndDelete(one);
        b = await applyAndDelete(many);
        x = await byHand(1);
        y = await byHand(n);
      } else {
        y = await byHand(n);
        x = await byHand(1);
        b = await applyAndDelete(many);
        a = await applyAndDelete(one);
      }
      t1.push(s(a.p.ms));
      tn.push(s(b.p.ms));
      ratio.push(b.p.ms / a.p.ms);
      h1.push(s(x));
      hn.push(s(y));
      hratio.push(y / x);
      rel.push((b.p.ms / a.p.ms) / (y / x));
      runs.push({
        n,
        oneVirsh: a.calls.length,
        manyVirsh: b.calls.length,
        manyStartedS: b.p.lines?.filter((l) => /: Started:/.test(l.line)).map((l) => s(l.ms)),
      });
    }
    row({ item: "5 parallel", what: `lv: 1 diskless domain to Ready (Running)`, unit: "s", samples: t1 });
    row({ item: "5 parallel", what: `lv: ${n} diskless domains to Ready (Running)`, unit: "s", samples: tn });
    row({ item: "5 parallel", what: `lv: ${n} / 1 (pairwise)`, unit: "x", samples: ratio });
    row({ item: "5 parallel", what: "by hand: define + start 1", unit: "s", samples: h1 });
    row({ item: "5 parallel", what: `by hand: define + start ${n} concurrently`, unit: "s", samples: hn });
    row({ item: "5 parallel", what: `by hand: ${n} / 1 (pairwise)`, unit: "x", samples: hratio });
    row({
      item: "5 parallel",
      what: `lv's ${n}/1 over by hand's ${n}/1`,
      unit: "x",
      samples: rel,
      target: 1.1,
    });
  }
  details.parallel = runs;
}

// ------------------------------------------------------------------ main

const started = new Date();
const host = {
  nproc: navigator.hardwareConcurrency,
  kernel: Deno.osRelease(),
  deno: Deno.version.deno,
  libvirt: (await virsh(["version", "--daemon"])).stdout.trim().replace(/\s+/g, " "),
  loadAtStart: loadavg(),
};
log(`lv bench: ${[...only].join(", ")}; ${RUNS} runs (${VM_RUNS} for VMs); work dir ${WORK}`);
// Deno's code cache and the npm packages, warm before anything is timed.
await exec(Deno.execPath(), ["run", "-A", MOD, "help"], { cwd: ROOT });

if (only.has("startup")) {
  await timed("startup", async () => {
    const empty = new Lv("startup-empty");
    const hundred = new Lv("startup-100");
    const installed = `${WORK}/installed/lv`; // setup.sh's form of lv: its chunks and launcher
    await execOk(`${ROOT}scripts/bundle.sh`, [`${WORK}/installed`]);
    await hundred.ok(["apply", "-f", disklessManifest("st", 100, "Stopped"), "--timeout=5m"]);
    await itemStartup({
      runs: RUNS,
      row,
      root: ROOT,
      uri: URI,
      emptyScript: writeFile("startup-empty.ts", ""),
      lv: (home, args) => (home === "empty" ? empty : hundred).run(args),
      installed: (home, args) =>
        exec(installed, args, { env: { LV_HOME: (home === "empty" ? empty : hundred).home }, rss: true }),
    });
    await hundred.run(["delete", "-f", disklessManifest("st", 100, "Stopped"), "--timeout=5m"]);
  });
}
/** What every item module reports through. */
const REPORT = { row, log, details };
if (only.has("vagrant")) {
  await timed("vagrant", () =>
    itemVagrant({
      ...REPORT,
      runs: VM_RUNS,
      boxDir: boxDir(),
      work: WORK,
      lv: (() => {
        const lv = new Lv("vagrant");
        return (args: string[], o?: { timeoutMs?: number }) => lv.run(args, o);
      })(),
    }));
}
if (only.has("scale")) {
  await timed("scale", () =>
    itemScale({
      ...REPORT,
      runs: RUNS,
      sizes: flags.scale.split(",").map(Number),
      uri: URI,
      manifest: (prefix, n) => disklessManifest(prefix, n, "Stopped"),
      lv: (tag) => {
        const lv = new Lv(tag);
        return {
          home: lv.home,
          ok: (args, o) => lv.ok(args, o),
          virshCalls: () => lv.virshCalls(),
          spawn: (args, env) =>
            new Deno.Command(Deno.execPath(), {
              args: ["run", "-A", MOD, ...args],
              env: { LV_HOME: lv.home, LV_VIRSH_LOG: lv.virshLog, ...env },
              cwd: ROOT,
              stdin: "null",
              stdout: "null",
              stderr: "piped",
            }).spawn(),
        };
      },
    }));
}
if (only.has("status")) await timed("status", itemStatus);
if (only.has("noop")) await timed("noop", itemNoop);
if (only.has("import")) await timed("import", itemImport);
if (only.has("parallel")) await timed("parallel", itemParallel);
if (only.has("boot") || only.has("real")) {
  await timed("boot", () =>
    withBootSetup(async (b) => {
      if (only.has("boot")) await itemBoot(b);
      if (only.has("real")) await realParallel(b);
    }));
}
if (only.has("store")) {
  await timed("store", () =>
    itemStore({
      runs: RUNS,
      row,
      log,
      lv: (tag, env) => {
        const lv = new Lv(tag);
        return { home: lv.home, ok: (args, o = {}) => lv.ok(args, { ...o, env: { ...env, ...o.env } }) };
      },
      manifest: disklessManifest,
    }));
}

if (only.has("timeline")) {
  await timed("timeline", async () => {
    details.timeline = await itemTimeline({
      runs: VM_RUNS,
      row,
      log,
      lv: (tag) => new Lv(tag),
      virsh: (args) => virsh(args),
      writeFile,
      boxDir: boxDir(),
    });
  });
}

// ------------------------------------------------------------------ report

const ORDER = [
  "1 boot",
  "2 status",
  "3 no-op",
  "4 import",
  "5 parallel",
  "6 memory",
  "7 store",
  "8 startup",
  "9 scale",
  "10 vagrant",
  "11 timeline",
];
rows.sort((a, b) => ORDER.indexOf(a.item) - ORDER.indexOf(b.item));
const digits = (u: Row["unit"]) =>
  u === "s" ? 2 : u === "ms" ? 0 : u === "x" ? 2 : u === "MiB" || u === "%" ? 1 : 0;
const table = [["item", "measure", "median", "min..max", "n", "target", ""]];
for (const r of rows) {
  const d = digits(r.unit);
  const unit = r.unit ? ` ${r.unit}` : "";
  table.push([
    r.item,
    r.what,
    `${fmt(r.value, d)}${unit}`,
    r.samples.length > 1 ? `${fmt(Math.min(...r.samples), d)}..${fmt(Math.max(...r.samples), d)}` : "",
    String(r.samples.length),
    r.target !== undefined ? `<= ${r.target}${unit}` : "",
    r.target === undefined ? "" : r.value <= r.target ? "ok" : "MISSED",
  ]);
}
const widths = table[0].map((_, c) => Math.max(...table.map((r) => r[c].length)));
const text = table.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd()).join("\n");
console.log(text);
console.log(
  `\nload (1 min) per item, start -> end: ${
    Object.entries(loads).map(([k, v]) => `${k} ${v.start.toFixed(2)} -> ${v.end.toFixed(2)}`).join(", ")
  }; ${host.nproc} cores`,
);
for (const [item, e] of Object.entries(errors)) console.log(`\n${item} FAILED:\n${e}`);

const report = {
  started: started.toISOString(),
  finished: new Date().toISOString(),
  options: { only: [...only], runs: RUNS, vmRuns: VM_RUNS, importDataMiB: IMPORT_DATA_MIB },
  host,
  loads,
  rows,
  details,
  errors,
};
const outDir = flags.out.startsWith("/") ? flags.out : `${ROOT}${flags.out}`;
Deno.mkdirSync(outDir, { recursive: true });
const stamp = started.toISOString().replace(/[-:]/g, "").slice(0, 15);
const json = JSON.stringify(report, null, 2) + "\n";
Deno.writeTextFileSync(`${outDir}/bench-${stamp}.json`, json);
Deno.writeTextFileSync(`${outDir}/latest.json`, json);
console.log(`\nwritten: ${flags.out}/bench-${stamp}.json`);
if (!flags.keep) Deno.removeSync(WORK, { recursive: true });
else console.log(`kept: ${WORK}`);
Deno.exit(Object.keys(errors).length > 0 ? 1 : 0);
