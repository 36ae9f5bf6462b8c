/**
 * Item 7 of bench/run.ts: the store on SQLite vs etcd (one member on loopback in the lab's namespace).
 * `lv get domains` with 1000 Domains in the store, a no-op `lv apply` of 100 converged Domains, and the watch
 * latency (a write through one handle until a watch on another handle sees it). Figures only.
 */
import { EtcdCluster } from "../tests/integration/etcd_cluster.ts";
import { EtcdStore } from "../src/store/etcd_store.ts";
import { SqliteStore } from "../src/store/sqlite_store.ts";
import type { Store } from "../src/store/store.ts";
import { volume } from "../tests/unit/store_suite.ts";
import { median, type Proc } from "./proc.ts";

export interface StoreBenchDeps {
  runs: number;
  row(r: { item: string; what: string; unit: "s" | "ms"; samples: number[] }): void;
  log(text: string): void;
  /** An lv with a home of its own and this environment. */
  lv(tag: string, env: Record<string, string>): {
    home: string;
    ok(args: string[], options?: { timeoutMs?: number; env?: Record<string, string> }): Promise<Proc>;
  };
  /** A manifest of n diskless domains (communicator none). */
  manifest(prefix: string, n: number, state: "Running" | "Stopped"): string;
}

const ITEM = "7 store";

/** A backend's name and the environment selecting it, for a test of its own (an etcd key prefix each). */
type Backend = [string, (tag: string) => Record<string, string>];

async function getDomains(deps: StoreBenchDeps, backends: Backend[]): Promise<void> {
  const file = deps.manifest("g", 1000, "Stopped");
  const homes = backends.map(([name, env]) => [name, deps.lv(`get-${name}`, env("get"))] as const);
  for (const [name, lv] of homes) {
    const p = await lv.ok(["apply", "-f", file, "--wait=false"], { timeoutMs: 20 * 60_000 });
    deps.log(`store: 1000 domains written to ${name} by apply --wait=false in ${(p.ms / 1000).toFixed(1)} s`);
  }
  const times = new Map<string, number[]>();
  for (let r = -1; r < deps.runs; r++) {
    for (const [name, lv] of homes) {
      const p = await lv.ok(["get", "domains"]);
      if (p.stdout.trim().split("\n").length !== 1001) throw new Error(`${name}: expected 1000 rows`);
      if (r >= 0) times.set(name, [...(times.get(name) ?? []), p.ms]);
    }
  }
  for (const [name] of homes) {
    deps.row({
      item: ITEM,
      what: `lv get domains, 1000 in the store, ${name}`,
      unit: "ms",
      samples: times.get(name)!,
    });
  }
}

async function noopApply(deps: StoreBenchDeps, backends: Backend[]): Promise<void> {
  const file = deps.manifest("n", 100, "Stopped");
  for (const [name, env] of backends) {
    const lv = deps.lv(`noop-${name}`, env("noop"));
    const created = await lv.ok(["apply", "-f", file, "--timeout=15m"], { timeoutMs: 20 * 60_000 });
    deps.log(`store: 100 domains converged on ${name} in ${(created.ms / 1000).toFixed(1)} s`);
    const samples: number[] = [];
    for (let r = 0; r < deps.runs; r++) {
      const p = await lv.ok(["apply", "-f", file]);
      if (p.stdout.split("\n").filter((l) => l.endsWith(" unchanged")).length !== 100) {
        throw new Error(`${name}: the no-op apply changed something:\n${p.stdout}`);
      }
      samples.push(p.ms / 1000);
    }
    deps.row({ item: ITEM, what: `lv apply, 100 unchanged domains, ${name}`, unit: "s", samples });
    await lv.ok(["delete", "-f", file, "--timeout=15m"], { timeoutMs: 20 * 60_000 });
  }
}

/** A write through `writer` until a watch on `watcher` reports it, `n` times. */
async function watchLatency(writer: Store, watcher: Store, n: number): Promise<number[]> {
  const seen = new Map<string, number>();
  const watch = watcher.watch(await watcher.head(), (changes) => {
    for (const c of changes) seen.set(`${c.name}/${c.resourceVersion}`, performance.now());
  });
  const latencies: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const obj = await writer.create(volume(`w${i}`));
      const key = `w${i}/${obj.metadata.resourceVersion}`;
      const deadline = t0 + 10_000;
      while (!seen.has(key)) {
        if (performance.now() > deadline) throw new Error(`watch did not report ${key} in 10 s`);
        await new Promise((r) => setTimeout(r, 1));
      }
      latencies.push(seen.get(key)! - t0);
    }
  } finally {
    await watch.close();
  }
  return latencies;
}

export async function itemStore(deps: StoreBenchDeps): Promise<void> {
  const etcd = await EtcdCluster.start(1);
  try {
    const backends: Backend[] = [["SQLite", () => ({})], [
      "etcd",
      (tag) => ({ LV_STORE: `${etcd.url()}/${tag}/` }),
    ]];
    await getDomains(deps, backends);
    await noopApply(deps, backends);
    const dir = await Deno.makeTempDir({ prefix: "lv-bench-watch-" });
    const pairs: [string, () => Promise<[Store, Store]>][] = [
      [
        "SQLite (watch polls every 100 ms)",
        () => Promise.resolve([new SqliteStore(`${dir}/s.db`), new SqliteStore(`${dir}/s.db`)]),
      ],
      ["etcd (watch stream)", async () => [
        await EtcdStore.open(etcd.endpoints(), { prefix: "/bench/" }),
        await EtcdStore.open(etcd.endpoints(), { prefix: "/bench/" }),
      ]],
    ];
    for (const [name, open] of pairs) {
      const [writer, watcher] = await open();
      try {
        const samples = await watchLatency(writer, watcher, Math.max(20, deps.runs * 5));
        deps.log(`store: watch latency on ${name}: median ${median(samples).toFixed(1)} ms`);
        deps.row({ item: ITEM, what: `watch latency, write to seen, ${name}`, unit: "ms", samples });
      } finally {
        writer.close();
        watcher.close();
      }
    }
    await Deno.remove(dir, { recursive: true });
  } finally {
    await etcd.stop();
  }
}
