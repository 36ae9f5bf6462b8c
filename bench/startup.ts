/**
 * Item 8 of bench/run.ts: lv's start against Deno's own (an empty script), pair by pair: `lv --version` (no
 * store, no libvirt), `lv version` (asks libvirtd over its socket: src/libvirt/daemon_version.ts), `lv help`,
 * and `lv get domains` on an empty store and on one of 100 domains, from the checkout (`deno run -A mod.ts`)
 * and as setup.sh installs lv. Each pair runs back to back, the order alternating; the ratio of each pair is
 * kept and their median reported.
 * Figures only.
 */
import { exec, median, type Proc } from "./proc.ts";

export interface StartupBenchDeps {
  runs: number;
  row(r: { item: string; what: string; unit: "ms" | "x"; samples: number[]; target?: number }): void;
  /** The project root (cwd of every run, so Deno finds deno.json as `deno task lv` does). */
  root: string;
  /** An empty file to run with Deno. */
  emptyScript: string;
  /** The libvirt URI `lv version` asks (for `virsh version` by hand beside it). */
  uri: string;
  /** Runs lv with a home of its own (the "100" home holds 100 stopped diskless domains). */
  lv(home: "empty" | "100", args: string[]): Promise<Proc>;
  /** The same through setup.sh's install (scripts/bundle.sh's chunks and launcher), measured as well. */
  installed?(home: "empty" | "100", args: string[]): Promise<Proc>;
}

const ITEM = "8 startup";
/** Issue 18: lv get domains and lv version within 1.5x Deno's empty-script start. */
const TARGET = 1.5;

const COMMANDS: { what: string; home: "empty" | "100"; args: string[]; target?: number }[] = [
  { what: "lv --version", home: "empty", args: ["--version"] },
  { what: "lv version (asks libvirtd)", home: "empty", args: ["version"], target: TARGET },
  { what: "lv help", home: "empty", args: ["help"] },
  { what: "lv get domains, none", home: "empty", args: ["get", "domains"], target: TARGET },
  { what: "lv get domains, 100", home: "100", args: ["get", "domains"] },
];

export async function itemStartup(deps: StartupBenchDeps): Promise<void> {
  const deno = () => exec(Deno.execPath(), ["run", "-A", deps.emptyScript], { cwd: deps.root, rss: true });
  const floor: number[] = [];
  const floorCpu: number[] = [];
  const forms = [
    { form: "", lv: deps.lv },
    ...(deps.installed ? [{ form: " (installed)", lv: deps.installed }] : []),
  ];
  for (const { form, lv: run, c } of forms.flatMap((f) => COMMANDS.map((c) => ({ ...f, c })))) {
    const wall: number[] = [], ratio: number[] = [], cpuRatio: number[] = [];
    for (let r = -1; r < deps.runs; r++) { // r = -1: warm-up
      const lvFirst = r % 2 === 0;
      const a = lvFirst ? await run(c.home, c.args) : await deno();
      const b = lvFirst ? await deno() : await run(c.home, c.args);
      const [lv, d] = lvFirst ? [a, b] : [b, a];
      if (lv.code !== 0) throw new Error(`lv ${c.args.join(" ")} exited ${lv.code}: ${lv.stderr}`);
      if (r < 0) continue;
      wall.push(lv.ms);
      ratio.push(lv.ms / d.ms);
      if (lv.cpuS !== undefined && d.cpuS) cpuRatio.push(lv.cpuS / d.cpuS);
      floor.push(d.ms);
      if (d.cpuS !== undefined) floorCpu.push(d.cpuS * 1000);
    }
    deps.row({ item: ITEM, what: `${c.what}${form}`, unit: "ms", samples: wall });
    deps.row({
      item: ITEM,
      what: `  / deno empty script, wall (pairwise)`,
      unit: "x",
      samples: ratio,
      target: c.target,
    });
    if (cpuRatio.length > 0) {
      deps.row({ item: ITEM, what: `  / deno empty script, CPU (pairwise)`, unit: "x", samples: cpuRatio });
    }
  }
  deps.row({ item: ITEM, what: "floor: deno run of an empty file (all pairs)", unit: "ms", samples: floor });
  // Beside `virsh version`, what lv version replaces (a virsh process; lv asks the daemon over its socket).
  const hand: number[] = [], ratio: number[] = [];
  for (let r = -1; r < deps.runs; r++) {
    const virsh = await exec("virsh", ["-c", deps.uri, "version"]);
    const lv = await deps.lv("empty", ["version"]);
    if (r < 0) continue;
    hand.push(virsh.ms);
    ratio.push(lv.ms / virsh.ms);
  }
  deps.row({ item: ITEM, what: "by hand: virsh version", unit: "ms", samples: hand });
  deps.row({ item: ITEM, what: "lv version / virsh version (pairwise)", unit: "x", samples: ratio });
  if (median(floorCpu) > 0) {
    deps.row({ item: ITEM, what: "floor: its CPU (10 ms resolution)", unit: "ms", samples: floorCpu });
  }
}
