/**
 * A virsh process per command (ProcessVirsh) against long-lived virsh sessions (SessionVirsh) on the lab's
 * libvirtd: an observation pass of lv's controllers over N converged domains (bench/observe.ts, in a process
 * of its own each time, the two runners alternating), and single commands back to back. With --remote, the
 * same again over qemu+ssh to an sshd on this machine (tests/integration/remote_host.ts), through lv's ssh
 * wrapper with its ControlMaster, as lv runs remote commands.
 *
 *   scripts/lab.sh -- deno run -A bench/session.ts [--n=50] [--runs=5] [--remote] [--remote-runs=3]
 *
 * Prints a table (medians, min..max) and writes bench/out/session-<time>.json.
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { prepareTransport } from "../src/config/ssh_transport.ts";
import { ProcessVirsh, type VirshRunner } from "../src/libvirt/virsh.ts";
import { SessionVirsh } from "../src/libvirt/session_virsh.ts";
import { startRemoteHost } from "../tests/integration/remote_host.ts";
import * as M from "./manifests.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    n: { type: "string", default: "50" },
    runs: { type: "string", default: "5" },
    remote: { type: "boolean", default: false },
    "remote-runs": { type: "string", default: "3" },
  },
});
const N = Number(flags.n), RUNS = Number(flags.runs), REMOTE_RUNS = Number(flags["remote-runs"]);
if (!Deno.env.get("LV_LAB")) {
  console.error("bench/session.ts needs the lab's libvirtd: scripts/lab.sh -- deno run -A bench/session.ts");
  Deno.exit(2);
}

const dec = new TextDecoder();
async function exec(cmd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const out = await new Deno.Command(cmd, { args, env, cwd: ROOT, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")}: ${dec.decode(out.stderr)}`);
  return dec.decode(out.stdout);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface Row {
  what: string;
  unit: string;
  samples: number[];
}
const rows: Row[] = [];
const row = (what: string, unit: string, samples: number[]) => {
  rows.push({ what, unit, samples });
  const f = (x: number) => unit === "ms" ? x.toFixed(1) : unit === "x" ? x.toFixed(2) : String(x);
  console.error(
    `${what.padEnd(62)} ${f(median(samples)).padStart(9)} ${unit.padEnd(3)} ${f(Math.min(...samples))}..${
      f(Math.max(...samples))
    }`,
  );
};

const home = await Deno.makeTempDir({ prefix: "lv-bench-session-" });
const manifest = `${home}/domains.yaml`;
await Deno.writeTextFile(
  manifest,
  M.join(Array.from({ length: N }, (_, i) => M.disklessDoc(`sb-${i}`, "Stopped"))),
);
const lv = (args: string[], env: Record<string, string> = {}) =>
  exec(Deno.execPath(), ["run", "-A", `${ROOT}mod.ts`, ...args], { LV_HOME: home, ...env });

/** Observation passes, the two runners alternating; each pass in a new process (no warm session). */
async function passes(label: string, runs: number, env: Record<string, string>): Promise<void> {
  const out: Record<string, { ms: number[]; calls: number[]; sessions: number[] }> = {
    process: { ms: [], calls: [], sessions: [] },
    session: { ms: [], calls: [], sessions: [] },
  };
  for (let i = 0; i < runs; i++) {
    for (const mode of i % 2 === 0 ? ["process", "session"] : ["session", "process"]) {
      const r = JSON.parse(
        await exec(Deno.execPath(), ["run", "-A", `${ROOT}bench/observe.ts`, mode], {
          LV_HOME: home,
          ...env,
        }),
      );
      if (r.ready !== r.objects || r.objects !== N) {
        throw new Error(`observe.ts ${mode}: ${r.ready} of ${r.objects} Ready (expected ${N})`);
      }
      out[mode].ms.push(r.ms);
      out[mode].calls.push(r.calls);
      out[mode].sessions.push(r.sessions);
    }
  }
  row(`${label}: observation pass, ${N} domains, process per command`, "ms", out.process.ms);
  row(`${label}: observation pass, ${N} domains, sessions`, "ms", out.session.ms);
  row(`${label}:   virsh commands in a pass`, "", out.session.calls);
  row(`${label}:   sessions used (4 workers)`, "", out.session.sessions);
  row(`${label}:   process / session (pairwise)`, "x", out.process.ms.map((p, i) => p / out.session.ms[i]));
}

/** `count` commands back to back through a runner: ms per command. */
async function perCommand(virsh: VirshRunner, count: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const r = await virsh.run(["domstate", "--reason", `sb-${i % N}`]);
    if (r.code !== 0) throw new Error(r.stderr);
  }
  return (performance.now() - t0) / count;
}

async function single(label: string, uri: string, count: number, runs: number): Promise<void> {
  const { connectUri } = prepareTransport(home, { uri });
  const p: number[] = [], s: number[] = [], first: number[] = [];
  for (let i = 0; i < runs; i++) {
    p.push(await perCommand(new ProcessVirsh(uri, connectUri), count));
    const session = new SessionVirsh(uri, connectUri);
    try {
      first.push(await perCommand(session, 1)); // includes starting the session
      s.push(await perCommand(session, count));
    } finally {
      await session.close();
    }
  }
  row(`${label}: domstate, process per command`, "ms", p);
  row(`${label}: domstate, in a running session`, "ms", s);
  row(`${label}: first command of a new session (starts it)`, "ms", first);
}

const results: Record<string, unknown> = { n: N, runs: RUNS, started: new Date().toISOString() };
try {
  await lv(["apply", "-f", manifest, "--timeout=5m"]);
  await single("local", "qemu:///system", 100, RUNS);
  await passes("local", RUNS, {});
  if (flags.remote) {
    const host = await startRemoteHost();
    try {
      const uri = `qemu+ssh://root@${host.address}:${host.port}/system?keyfile=${host.keyFile}`;
      await single("qemu+ssh", uri, 20, REMOTE_RUNS);
      await passes("qemu+ssh", REMOTE_RUNS, { LV_CONNECT: uri });
    } finally {
      await host.stop();
    }
  }
} finally {
  await lv(["delete", "-f", manifest, "--timeout=5m"]).catch((e) => console.error(String(e)));
  await Deno.remove(home, { recursive: true });
}
results.rows = rows.map((r) => ({ ...r, median: median(r.samples) }));
await Deno.mkdir(`${ROOT}bench/out`, { recursive: true });
const file = `${ROOT}bench/out/session-${new Date().toISOString().replace(/[:.]/g, "-")}.json`;
await Deno.writeTextFile(file, JSON.stringify(results, null, 2) + "\n");
console.log(rows.map((r) => `${r.what}\t${median(r.samples)}\t${r.unit}`).join("\n"));
console.error(`wrote ${file}`);
