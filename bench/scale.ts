/**
 * Item 9 of bench/run.ts: how lv's cost grows with the number of defined domains (N = 10, 100, 500 diskless,
 * stopped, `communicator: none`): `lv get domains` against `virsh list --all` for the same domains (pair by
 * pair), a no-op `lv apply`, one `lv controller` resync pass (time and virsh commands), the controller's CPU
 * while idle between passes and its RSS, and the store file's size. Figures only.
 */
import { exec, median, type Proc, procStat, sleep } from "./proc.ts";

export interface ScaleBenchDeps {
  runs: number;
  sizes: number[];
  row(
    r: {
      item: string;
      what: string;
      unit: "s" | "ms" | "x" | "MiB" | "%" | "";
      samples: number[];
      target?: number;
    },
  ): void;
  log(text: string): void;
  details: Record<string, unknown>;
  /** A fresh lv home: runs lv there; the virsh commands it ran since the last call; the child for a long run. */
  lv(tag: string): {
    home: string;
    ok(args: string[], options?: { timeoutMs?: number }): Promise<Proc>;
    virshCalls(): string[][];
    spawn(args: string[], env: Record<string, string>): Deno.ChildProcess;
  };
  /** A manifest of n stopped diskless domains named PREFIX-0... */
  manifest(prefix: string, n: number): string;
  uri: string;
}

const ITEM = "9 scale";
const IDLE_MS = 10_000;
/** The resync interval: long enough that the idle window after the first pass (12 s at 500) stays quiet. */
const RESYNC_MS = 30_000;
const TICKS = 100; // clock ticks a second (getconf CLK_TCK)

function cpuTicks(pid: number): number {
  const f = procStat(pid);
  return Number(f[11]) + Number(f[12]);
}

function rssMiB(pid: number): number {
  const m = Deno.readTextFileSync(`/proc/${pid}/status`).match(/^VmRSS:\s+(\d+) kB/m);
  return m ? Number(m[1]) / 1024 : NaN;
}

/** The size of a SQLite store (file, WAL and shared memory) in MiB. */
function storeMiB(home: string): number {
  let bytes = 0;
  for (const suffix of ["", "-wal", "-shm"]) {
    try {
      bytes += Deno.statSync(`${home}/store.db${suffix}`).size;
    } catch { /* absent */ }
  }
  return bytes / 2 ** 20;
}

interface PassFigures {
  firstPassMs: number;
  resyncPassMs: number;
  resyncVirsh: number;
  idleCpuPercent: number;
  rssMiB: number;
}

/**
 * `lv controller --resync=RESYNC` over n converged domains: the pass at start, then IDLE_MS idle (CPU
 * measured from /proc), then the resync pass (from the first to the n-th "reconciled" line, plus the first
 * one's own time) and the virsh commands it ran.
 */
async function controllerPasses(
  lv: ReturnType<ScaleBenchDeps["lv"]>,
  prefix: string,
  n: number,
): Promise<PassFigures> {
  const resyncMs = RESYNC_MS;
  lv.virshCalls();
  const t0 = performance.now();
  const child = lv.spawn(["controller", `--resync=${resyncMs / 1000}s`], { LV_DEBUG: "1" });
  const re = new RegExp(`Domain/default/${prefix}-\\d+ reconciled in (\\d+) ms`);
  const passes: { first: number; firstOwnMs: number; last: number; count: number }[] = [];
  const reader = (async () => {
    const dec = new TextDecoder();
    let partial = "";
    for await (const chunk of child.stderr) {
      const parts = (partial + dec.decode(chunk, { stream: true })).split("\n");
      partial = parts.pop()!;
      for (const line of parts) {
        const m = line.match(re);
        if (!m) continue;
        const now = performance.now() - t0;
        let pass = passes[passes.length - 1];
        if (!pass || pass.count >= n) {
          pass = { first: now, firstOwnMs: Number(m[1]), last: now, count: 0 };
          passes.push(pass);
        }
        pass.count++;
        pass.last = now;
      }
    }
  })();
  const waitFor = async (done: () => boolean, ms: number, what: string) => {
    const deadline = Date.now() + ms;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`lv controller: ${what} not seen in ${ms / 1000} s`);
      await sleep(20);
    }
  };
  try {
    await waitFor(() => passes[0]?.count >= n, 600_000, `the first pass over ${n} domains`);
    const firstPassMs = passes[0].last;
    await sleep(1000);
    lv.virshCalls();
    // CPU over the quiet seconds only: a second counts while no reconcile of the resync pass has started.
    let ticks = 0, quietMs = 0;
    for (let t = 0; t < IDLE_MS && passes.length === 1; t += 1000) {
      const [c0, i0] = [cpuTicks(child.pid), performance.now()];
      await sleep(1000);
      if (passes.length > 1) break;
      ticks += cpuTicks(child.pid) - c0;
      quietMs += performance.now() - i0;
    }
    const idleCpuPercent = quietMs > 0 ? ticks / TICKS / (quietMs / 1000) * 100 : NaN;
    const rss = rssMiB(child.pid);
    await waitFor(() => passes[1]?.count >= n, resyncMs + 600_000, `the resync pass over ${n} domains`);
    const p = passes[1];
    return {
      firstPassMs,
      resyncPassMs: p.last - p.first + p.firstOwnMs,
      resyncVirsh: lv.virshCalls().length,
      idleCpuPercent,
      rssMiB: rss,
    };
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await reader;
  }
}

async function oneSize(deps: ScaleBenchDeps, n: number): Promise<void> {
  const prefix = `z${n}`;
  const lv = deps.lv(`scale${n}`);
  const file = deps.manifest(prefix, n);
  const created = await lv.ok(["apply", "-f", file, "--timeout=30m"], { timeoutMs: 40 * 60_000 });
  deps.log(
    `scale: ${n} domains applied in ${(created.ms / 1000).toFixed(1)} s (${lv.virshCalls().length} virsh)`,
  );
  const get: number[] = [], list: number[] = [], ratio: number[] = [], noop: number[] = [];
  for (let r = -1; r < deps.runs; r++) {
    const lvFirst = r % 2 === 0;
    const one = () => lv.ok(["get", "domains"]);
    const other = () => exec("virsh", ["-c", deps.uri, "list", "--all"]);
    const a = lvFirst ? await one() : await other();
    const b = lvFirst ? await other() : await one();
    const [g, v] = lvFirst ? [a, b] : [b, a];
    const rows = g.stdout.trim().split("\n").length - 1;
    if (rows !== n) throw new Error(`lv get domains: ${rows} rows, expected ${n}`);
    const noopRun = await lv.ok(["apply", "-f", file]);
    const unchanged = noopRun.stdout.split("\n").filter((l) => l.endsWith(" unchanged")).length;
    if (unchanged !== n) throw new Error(`no-op apply: ${unchanged} unchanged of ${n}:\n${noopRun.stdout}`);
    if (r < 0) continue;
    get.push(g.ms);
    list.push(v.ms);
    ratio.push(g.ms / v.ms);
    noop.push(noopRun.ms / 1000);
  }
  const imports = await boxBeside(deps, lv);
  const pass = await controllerPasses(lv, prefix, n);
  const size = storeMiB(lv.home);
  deps.details[`scale${n}`] = { createS: created.ms / 1000, ...pass, storeMiB: size };
  const label = `${n} domains`;
  deps.row({ item: ITEM, what: `lv get domains, ${label}`, unit: "ms", samples: get });
  deps.row({ item: ITEM, what: `virsh list --all, ${label}`, unit: "ms", samples: list });
  deps.row({
    item: ITEM,
    what: `lv get / virsh list (pairwise), ${label}`,
    unit: "x",
    samples: ratio,
    target: n === 500 ? 1 : undefined,
  });
  deps.row({
    item: ITEM,
    what: `lv apply, ${label} unchanged`,
    unit: "s",
    samples: noop,
    target: n === 500 ? 1 : undefined,
  });
  deps.row({
    item: ITEM,
    what: `lv controller: first pass, ${label}`,
    unit: "s",
    samples: [pass.firstPassMs / 1000],
  });
  deps.row({
    item: ITEM,
    what: `lv controller: resync pass, ${label}`,
    unit: "s",
    samples: [pass.resyncPassMs / 1000],
  });
  deps.row({ item: ITEM, what: `  virsh commands in that pass`, unit: "", samples: [pass.resyncVirsh] });
  deps.row({
    item: ITEM,
    what: `lv controller: idle CPU between passes, ${label}`,
    unit: "%",
    samples: [pass.idleCpuPercent],
    target: n === 500 ? 1 : undefined,
  });
  deps.row({ item: ITEM, what: `lv controller: RSS, ${label}`, unit: "MiB", samples: [pass.rssMiB] });
  deps.row({ item: ITEM, what: `store file, ${label}`, unit: "MiB", samples: [size] });
  deps.row({ item: ITEM, what: `lv apply of a tiny Box beside ${label}`, unit: "s", samples: imports });
  deps.log(`scale ${n}: get ${median(get).toFixed(0)} ms vs virsh list ${median(list).toFixed(0)} ms`);
  await lv.ok(["delete", "-f", file, "--timeout=30m"], { timeoutMs: 40 * 60_000 });
}

/**
 * A Box (examples/tiny.img) applied and deleted beside the domains, deps.runs times: the seconds each apply
 * took. The apply drives every controller; the awaited Box is queued first, not after the domains.
 */
async function boxBeside(deps: ScaleBenchDeps, lv: ReturnType<ScaleBenchDeps["lv"]>): Promise<number[]> {
  const file = `${lv.home}/tiny-box.yaml`;
  const image = new URL("../examples/tiny.img", import.meta.url).pathname;
  Deno.writeTextFileSync(
    file,
    `apiVersion: lv.dev/v1alpha1\nkind: Box\nmetadata:\n  name: tiny\nspec:\n  source: ${image}\n`,
  );
  const seconds: number[] = [];
  for (let r = 0; r < deps.runs; r++) {
    seconds.push((await lv.ok(["apply", "-f", file, "--timeout=5m"])).ms / 1000);
    await lv.ok(["delete", "-f", file, "--timeout=5m"]);
  }
  return seconds;
}

export async function itemScale(deps: ScaleBenchDeps): Promise<void> {
  for (const n of deps.sizes) await oneSize(deps, n);
}
