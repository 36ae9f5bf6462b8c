/**
 * Helpers for the crash, concurrency and leak tests: lv children that can be killed with everything they run,
 * the virsh log they write, what virsh lists, and a fingerprint of examples/basic.yaml once converged.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { parseDomainXml } from "../../src/libvirt/xml/domain_xml.ts";
import { parseNetworkXml } from "../../src/libvirt/xml/network_xml.ts";
import { parseVolumeXml } from "../../src/libvirt/xml/volume_xml.ts";
import { type Lv, ROOT, virsh, virshNames, waitFor } from "./helpers.ts";

export const BASIC = "examples/basic.yaml";
/** The libvirt objects examples/basic.yaml makes. */
export const BASIC_OBJECTS = {
  domains: ["web"],
  networks: ["basic-net"],
  volumes: ["box-tiny", "web", "web-data"],
};
/** What `lv get boxes,volumes,networks,domains -o name` prints once basic.yaml is applied. */
export const BASIC_NAMES = "box/tiny\nvolume/web\nvolume/web-data\nnetwork/basic-net\ndomain/web\n";
export const GET_ALL = ["get", "boxes,volumes,networks,domains"];

const dec = new TextDecoder();

export interface Lists {
  domains: string[];
  networks: string[];
  volumes: string[];
}

/**
 * What virsh lists: every domain, every network, and the volumes of the default pool, refreshed first so a
 * file left in the pool's directory behind libvirt's back shows too.
 */
export async function lists(): Promise<Lists> {
  await virsh("pool-refresh", "default").catch(() => {});
  return {
    domains: await virshNames("domains"),
    networks: await virshNames("networks"),
    volumes: await virshNames("volumes"),
  };
}

/** virsh's lists are back to `before`, and lv's store (the home of `lv`) is empty. */
export async function assertClean(lv: Lv, before: Lists): Promise<void> {
  assert.deepEqual(await lists(), before, "virsh lists are back to what they were before");
  assert.equal((await lv.ok([...GET_ALL, "-o", "name"])).stdout, "", "the store is empty");
}

/** Lists plus what they must contain more: `before` with `extra` added, sorted. */
export function plus(before: Lists, extra: Lists): Lists {
  const add = (a: string[], b: string[]) => [...new Set([...a, ...b])].sort();
  return {
    domains: add(before.domains, extra.domains),
    networks: add(before.networks, extra.networks),
    volumes: add(before.volumes, extra.volumes),
  };
}

/** virsh argv lines lv wrote to a LV_VIRSH_LOG file (complete lines only); [] when there is none. */
export function readVirshLog(path: string): string[][] {
  let text = "";
  try {
    text = Deno.readTextFileSync(path);
  } catch { /* not written yet */ }
  const lines = text.split("\n");
  lines.pop(); // an incomplete last line, or "" after the final newline
  return lines.filter((l) => l).map((l) => JSON.parse(l));
}

/** A running lv process, leader of its own process group. */
export interface LvChild {
  pid: number;
  /** Resolves with the exit status and output once it ended. */
  output: Promise<{ code: number; signal: Deno.Signal | null; stdout: string; stderr: string }>;
  /** Writes `text` to its stdin and closes it (only when spawned with stdin: true). */
  feed(text: string): Promise<void>;
  /** SIGKILL to the whole group: lv and the virsh command it is running. */
  killGroup(): void;
  /** SIGKILL to lv alone: the virsh command it is running carries on, orphaned. */
  killLv(): void;
}

/**
 * Starts `lv ARGS` with lv's LV_HOME and `virshLog` as LV_VIRSH_LOG, in a session and process group of its own
 * (setsid execs lv, so the PID is lv's and the group id is that PID).
 */
export function spawnLv(
  lv: Lv,
  args: string[],
  options: { virshLog?: string; stdin?: boolean; cwd?: string; env?: Record<string, string> } = {},
): LvChild {
  const child = new Deno.Command("setsid", {
    args: [Deno.execPath(), "run", "-A", `${ROOT}mod.ts`, ...args],
    env: { ...lv.env, ...options.env, LV_HOME: lv.home, LV_VIRSH_LOG: options.virshLog ?? lv.virshLog },
    cwd: options.cwd ?? ROOT,
    stdin: options.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output().then((o) => ({
    code: o.code,
    signal: o.signal,
    stdout: dec.decode(o.stdout),
    stderr: dec.decode(o.stderr),
  }));
  return {
    pid: child.pid,
    output,
    async feed(text: string) {
      const w = child.stdin.getWriter();
      await w.write(new TextEncoder().encode(text));
      await w.close();
    },
    killGroup: () => Deno.kill(-child.pid, "SIGKILL"),
    killLv: () => Deno.kill(child.pid, "SIGKILL"),
  };
}

/** A point in lv's run, recognised from the virsh commands it has started so far. */
export interface Stage {
  name: string;
  /** True once lv started the command that marks the stage (calls: the virsh log so far). */
  reached(calls: string[][]): boolean;
}

/** The stage is reached when lv started its `n`th (1-based) virsh command named `command`. */
export function nth(command: string, n = 1): (calls: string[][]) => boolean {
  return (calls) => calls.filter((c) => c[0] === command).length >= n;
}

/**
 * Polls lv's virsh log every 2 ms until `stage` is reached; returns the log as it was then. Fails when lv
 * exits first or after timeoutMs.
 */
export async function waitForStage(
  child: LvChild,
  virshLog: string,
  stage: Stage,
  timeoutMs = 60_000,
): Promise<string[][]> {
  let ended = false;
  child.output.then(() => ended = true);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const calls = readVirshLog(virshLog);
    if (stage.reached(calls)) return calls;
    if (ended) {
      const out = await child.output;
      throw new Error(
        `lv ended (exit ${out.code}) before stage "${stage.name}"; virsh calls: ${
          JSON.stringify(calls)
        }\n${out.stderr}`,
      );
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`lv did not reach stage "${stage.name}" within ${timeoutMs / 1000}s`);
}

/** A 16 MiB raw image whose every byte matters (examples/tiny.img is all zeros: a blank volume equals it). */
export function patternedImage(path: string, bytes = 16 << 20): string {
  const data = new Uint8Array(bytes);
  let x = 0x9e3779b9;
  for (let i = 0; i < bytes; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    data[i] = x & 0xff;
    data[i + 1] = (x >>> 8) & 0xff;
    data[i + 2] = (x >>> 16) & 0xff;
    data[i + 3] = (x >>> 24) & 0xff;
  }
  data.set(new TextEncoder().encode("lv-crash-test-image"), 0); // no image format's magic
  Deno.writeFileSync(path, data);
  return createHash("sha256").update(data).digest("hex");
}

/**
 * examples/basic.yaml, unchanged, in `dir` beside a patterned tiny.img. Returns the manifest's path and the
 * image's sha256.
 */
export function basicWithPatternedBox(dir: string): { manifest: string; sha256: string } {
  const sha256 = patternedImage(`${dir}/tiny.img`);
  const manifest = `${dir}/basic.yaml`;
  Deno.copyFileSync(`${ROOT}${BASIC}`, manifest);
  return { manifest, sha256 };
}

/** sha256 of a volume's content, downloaded with virsh vol-download. */
export async function volumeSha256(name: string): Promise<string> {
  const file = Deno.makeTempFileSync({ prefix: "lv-vol-" });
  try {
    await virsh("vol-download", "--pool", "default", name, file);
    const hash = createHash("sha256");
    using f = Deno.openSync(file);
    const buf = new Uint8Array(1 << 20);
    while (true) {
      const n = f.readSync(buf);
      if (n === null) break;
      hash.update(buf.subarray(0, n));
    }
    return hash.digest("hex");
  } finally {
    Deno.removeSync(file);
  }
}

interface StoreObject {
  kind: string;
  metadata: { name: string; uid: string; generation: number; deletionTimestamp?: string };
  status: {
    observedGeneration?: number;
    phase?: string;
    conditions?: { type: string; status: string; reason: string }[];
    pendingVolume?: string;
    volume?: string;
    path?: string;
  };
}

/** Every object in lv's store, by "kind/name". */
export async function storeObjects(lv: Lv): Promise<Map<string, StoreObject>> {
  const r = await lv.ok([...GET_ALL, "-o", "json"]);
  const parsed = JSON.parse(r.stdout);
  const items: StoreObject[] = Array.isArray(parsed.items) ? parsed.items : [parsed];
  return new Map(items.map((o) => [`${o.kind.toLowerCase()}/${o.metadata.name}`, o]));
}

/**
 * examples/basic.yaml as libvirt and lv's store show it once converged, with everything that differs between
 * two correct runs (uids, MACs, uuids, paths' randomness) left out or checked on the spot. Two converged runs
 * give deep-equal fingerprints; `boxSha256` is the box volume's content.
 */
export async function basicFingerprint(lv: Lv, options: { before: Lists }): Promise<Record<string, unknown>> {
  const objects = await storeObjects(lv);
  const store: Record<string, unknown> = {};
  for (const [key, obj] of objects) {
    assert.equal(obj.metadata.deletionTimestamp, undefined, `${key} is being deleted`);
    assert.equal(obj.status.pendingVolume, undefined, `${key} still records a pending volume`);
    const ready = obj.status.conditions?.find((c) => c.type === "Ready");
    store[key] = {
      phase: obj.status.phase,
      ready: ready?.status,
      reason: ready?.reason,
      observed: (obj.status.observedGeneration ?? 0) >= obj.metadata.generation,
      volume: obj.status.volume,
    };
  }
  const volumes: Record<string, unknown> = {};
  const pathToVolume = new Map<string, string>();
  const xmls = new Map<string, ReturnType<typeof parseVolumeXml>>();
  for (const name of BASIC_OBJECTS.volumes) {
    const v = parseVolumeXml(await virsh("vol-dumpxml", "--pool", "default", name));
    xmls.set(name, v);
    pathToVolume.set(v.path, name);
  }
  for (const [name, v] of xmls) {
    volumes[name] = {
      format: v.format,
      capacity: v.capacity,
      backing: v.backingStore ? pathToVolume.get(v.backingStore.path) ?? v.backingStore.path : null,
    };
    const owner = objects.get(name === "box-tiny" ? "box/tiny" : `volume/${name}`);
    assert.equal(owner?.status.path, v.path, `the store's path of volume ${name}`);
  }
  const net = parseNetworkXml(await virsh("net-dumpxml", "--inactive", "basic-net"));
  const netInfo = await virsh("net-info", "basic-net");
  assert.equal(net.owner?.uid, objects.get("network/basic-net")?.metadata.uid, "network owner uid");
  const dom = parseDomainXml(await virsh("dumpxml", "--inactive", "web"));
  assert.equal(dom.owner?.uid, objects.get("domain/web")?.metadata.uid, "domain owner uid");
  const poolInfo = await virsh("pool-info", "default");
  return {
    pool: {
      running: /State:\s+running/.test(poolInfo),
      autostart: /Autostart:\s+yes/.test(poolInfo),
    },
    lists: await lists(),
    expectedLists: plus(options.before, BASIC_OBJECTS),
    names: (await lv.ok([...GET_ALL, "-o", "name"])).stdout,
    store,
    volumes,
    boxSha256: await volumeSha256("box-tiny"),
    network: {
      mode: net.mode,
      ipv4: net.ipv4,
      range: net.dhcp.range,
      active: /Active:\s+yes/.test(netInfo),
      autostart: /Autostart:\s+yes/.test(netInfo),
    },
    domain: {
      state: (await virsh("domstate", "web")).trim(),
      type: dom.type,
      memoryMiB: dom.memoryMiB,
      vcpus: dom.vcpus,
      disks: dom.disks.map((d) => [d.device, pathToVolume.get(d.path) ?? d.path]),
      interfaces: dom.interfaces.map((i) => [i.type, i.network]),
    },
  };
}

/**
 * Removes what basic.yaml makes in libvirt, by name, when a failed test left it: so one failing step does not
 * fail the next ones. Only ever run inside the lab (its libvirtd is the test's own).
 */
export async function scrubBasic(): Promise<void> {
  await virsh("destroy", "web").catch(() => {});
  await virsh("undefine", "web", "--nvram").catch(() => {});
  await virsh("net-destroy", "basic-net").catch(() => {});
  await virsh("net-undefine", "basic-net").catch(() => {});
  for (const v of [...BASIC_OBJECTS.volumes, "extra-data"]) {
    await virsh("vol-delete", "--pool", "default", v).catch(() => {});
  }
}

/** The mutating virsh commands in `calls`, counted by command name (pool set-up left out). */
export function mutationCounts(
  calls: string[][],
  mutating: (c: string[][]) => string[][],
): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of mutating(calls)) {
    if (c[0].startsWith("pool-")) continue;
    counts[c[0]] = (counts[c[0]] ?? 0) + 1;
  }
  return counts;
}

/** Reads a child's stderr until `pattern` shows; the rest keeps being read into `text`. */
export function watchStream(
  stream: ReadableStream<Uint8Array>,
): { text: () => string; until: (pattern: RegExp, what: string, timeoutMs?: number) => Promise<void> } {
  let text = "";
  (async () => {
    for await (const chunk of stream) text += dec.decode(chunk, { stream: true });
  })().catch(() => {});
  return {
    text: () => text,
    until: (pattern, what, timeoutMs = 30_000) =>
      waitFor(() => Promise.resolve(pattern.test(text)), what, timeoutMs),
  };
}

/** `lv controller ARGS` with lv's home and environment, its stderr followed as it comes. */
export function spawnController(lv: Lv, args: string[], virshLog = lv.virshLog) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}mod.ts`, "controller", ...args],
    env: { ...lv.env, LV_HOME: lv.home, LV_VIRSH_LOG: virshLog },
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  return { child, err: watchStream(child.stderr) };
}
