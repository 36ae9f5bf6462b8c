/** Running and timing processes for the benchmarks: wall time, peak RSS, stderr lines with their times. */

export interface Proc {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit, ms. */
  ms: number;
  /** Peak resident set size of the process (GNU time's %M), KiB; only with `rss`. */
  rssKiB?: number;
  /** CPU seconds (user + system) of the process and the children it waited for (virsh, ssh); only with `rss`. */
  cpuS?: number;
  /** stderr lines with the ms since spawn each one arrived at; only with `stamp`. */
  lines?: { ms: number; line: string }[];
}

export interface ExecOptions {
  env?: Record<string, string>;
  cwd?: string;
  stdin?: string;
  /** Measure peak RSS with /usr/bin/time (adds about 1 ms). */
  rss?: boolean;
  /** Record when each stderr line arrives. */
  stamp?: boolean;
  /** Kill the process (by its PID) after this long. */
  timeoutMs?: number;
}

const dec = new TextDecoder();

async function collect(
  stream: ReadableStream<Uint8Array>,
  t0: number,
  stamps?: { ms: number; line: string }[],
): Promise<string> {
  let text = "", partial = "";
  for await (const chunk of stream) {
    const s = dec.decode(chunk, { stream: true });
    text += s;
    if (stamps) {
      const parts = (partial + s).split("\n");
      partial = parts.pop()!;
      const ms = performance.now() - t0;
      for (const line of parts) stamps.push({ ms, line });
    }
  }
  if (stamps && partial) stamps.push({ ms: performance.now() - t0, line: partial });
  return text;
}

let rssSeq = 0;

/** Runs a command (argv, no shell) and times it. */
export async function exec(cmd: string, args: string[], options: ExecOptions = {}): Promise<Proc> {
  let argv = [cmd, ...args];
  let rssFile: string | undefined;
  if (options.rss) {
    rssFile = `${Deno.makeTempDirSync({ prefix: "lv-bench-rss-" })}/${rssSeq++}`;
    argv = ["/usr/bin/time", "-f", "%M %U %S", "-o", rssFile, ...argv];
  }
  const t0 = performance.now();
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    env: options.env,
    cwd: options.cwd,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timer: ReturnType<typeof setTimeout> | undefined;
  if (options.timeoutMs) {
    timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
    }, options.timeoutMs);
  }
  if (options.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(options.stdin));
    await w.close();
  }
  const lines = options.stamp ? [] as { ms: number; line: string }[] : undefined;
  const [stdout, stderr, status] = await Promise.all([
    collect(child.stdout, t0),
    collect(child.stderr, t0, lines),
    child.status,
  ]);
  const ms = performance.now() - t0;
  clearTimeout(timer);
  let rssKiB: number | undefined, cpuS: number | undefined;
  if (rssFile) {
    const text = Deno.readTextFileSync(rssFile).trim().split("\n");
    const [m, u, sys] = text[text.length - 1].split(" ").map(Number);
    rssKiB = m;
    cpuS = u + sys;
    Deno.removeSync(rssFile.replace(/\/[^/]*$/, ""), { recursive: true });
  }
  return { code: status.code, stdout, stderr, ms, rssKiB, cpuS, lines };
}

/** Like exec, but throws with the output when the exit code is not 0. */
export async function execOk(cmd: string, args: string[], options: ExecOptions = {}): Promise<Proc> {
  const p = await exec(cmd, args, options);
  if (p.code !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} exited ${p.code}\n${p.stdout}\n${p.stderr}`);
  }
  return p;
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The 1-minute load average. */
export function loadavg(): number {
  return Number(Deno.readTextFileSync("/proc/loadavg").split(" ")[0]);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * The fields of /proc/PID/stat from field 3 (state) on: fields[0] is field 3, so field N is fields[N - 3]
 * (utime 14, stime 15, cutime 16, cstime 17, starttime 22; times in clock ticks, 100 a second here).
 */
export function procStat(pid: number | string): string[] {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** CPU seconds libvirtd (the lab's, from LV_LAB_DIR/libvirtd.pid) has used so far; NaN when unknown. */
export function libvirtdCpuS(): number {
  try {
    const pid = Deno.readTextFileSync(`${Deno.env.get("LV_LAB_DIR")}/libvirtd.pid`).trim();
    const fields = procStat(pid);
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** CPU seconds used by this process's children that have exited and been waited for (cutime + cstime). */
export function childrenCpuS(): number {
  const fields = procStat("self");
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

/** Plain OpenSSH's options for a test guest: this key only, no host key checks or prompts. */
export function sshOptions(key: string, connectTimeoutS: number): string[] {
  return [
    "-i",
    key,
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "BatchMode=yes",
    "-o",
    `ConnectTimeout=${connectTimeoutS}`,
    "-o",
    "LogLevel=ERROR",
  ];
}
