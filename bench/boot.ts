/**
 * Item 8 of bench/run.ts, "timeline": where a boot's time goes, and lv's overhead over the guest's own boot.
 *
 * Per run: (1) a first boot, `lv apply` of a Domain (Box and Network Ready before), with a timeline: the
 * Defined and Started events, the kernel's start and the guest's sshd started (from the serial log lv keeps,
 * $LV_HOME/logs/NAME-serial0.log, read every 50 ms: each line's arrival time, and the kernel's own [ t ]
 * stamps), sshd active and the first login it accepted (the guest's systemd and journal, asked afterwards),
 * the DHCP lease (net-dhcp-leases every 0.5 s by the bench), the first TCP connection to port 22 established
 * (this namespace's /proc/net/tcp every 20 ms), SshReady, KeyInserted, Hostname, and Ready (apply returns);
 * (2) the floor: the same halted domain started with `virsh start` and polled with plain ssh every 0.2 s
 * until a command runs; (3) `lv up` of the same halted domain to Ready, with the same timeline. Floor and up
 * alternate which goes first; the ratio up/floor is taken pair by pair. Figures only: median and range of the
 * runs, JSON in the report's details.timeline.
 */
import { exec, type Proc, sleep, sshOptions } from "./proc.ts";
import * as M from "./manifests.ts";

export interface TimelineDeps {
  runs: number;
  row(r: { item: string; what: string; unit: "s" | "x"; samples: number[]; target?: number }): void;
  log(text: string): void;
  /** An lv with a home of its own. */
  lv(tag: string): {
    home: string;
    ok(args: string[], options?: { stamp?: boolean; timeoutMs?: number }): Promise<Proc>;
    run(args: string[], options?: { timeoutMs?: number }): Promise<Proc>;
  };
  virsh(args: string[]): Promise<Proc>;
  writeFile(name: string, text: string): string;
  /** The test box directory (debian12.box, vagrant_key). */
  boxDir: string;
}

const ITEM = "11 timeline";
const NAME = "bench-tl";
const NET = "bench-tl-net";

const SSH_OPTS = (key: string) => sshOptions(key, 2);

/** Seconds since t0 at which things happened (undefined: not seen). */
type Marks = Record<string, number | undefined>;

/** Reads the serial log's new lines every 50 ms, noting when each arrived; stop() returns the marks. */
function watchSerial(file: string, t0: number): { stop(): Promise<Marks> } {
  let offset = 0;
  try {
    offset = Deno.statSync(file).size;
  } catch { /* not yet written */ }
  let stopped = false;
  let partial = "";
  const lines: { s: number; line: string }[] = [];
  const loop = (async () => {
    while (!stopped) {
      try {
        const f = Deno.openSync(file);
        f.seekSync(offset, Deno.SeekMode.Start);
        const buf = new Uint8Array(65536);
        let n: number | null;
        while ((n = f.readSync(buf)) !== null && n > 0) {
          offset += n;
          const parts = (partial + new TextDecoder().decode(buf.subarray(0, n))).split("\n");
          partial = parts.pop()!;
          const at = (performance.now() - t0) / 1000;
          for (const line of parts) lines.push({ s: at, line });
        }
        f.close();
      } catch { /* not yet written */ }
      await sleep(50);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      const first = (re: RegExp) => lines.find((l) => re.test(l.line))?.s;
      // The kernel's start in the run's clock: the earliest arrival minus the kernel's own stamp.
      const kernel = lines.map((l) => {
        const m = /^\[\s*(\d+\.\d+)\]/.exec(l.line);
        return m ? l.s - Number(m[1]) : Infinity;
      });
      const kernelStart = Math.min(...kernel);
      return {
        serialFirstS: lines[0]?.s,
        kernelStartS: Number.isFinite(kernelStart) ? kernelStart : undefined,
        sshdStartedS: first(/Started .*(ssh\.service|OpenBSD Secure Shell)/),
        loginPromptS: first(/login:/),
      };
    },
  };
}

/**
 * Asks `seen()` every `everyMs` until it says yes; stop() returns the mark `name`: when it first did, in
 * seconds since t0 (undefined: not seen by then).
 */
function watchUntil(
  name: string,
  t0: number,
  everyMs: number,
  seen: () => boolean | Promise<boolean>,
): { stop(): Promise<Marks> } {
  let stopped = false;
  let at: number | undefined;
  const loop = (async () => {
    while (!stopped && at === undefined) {
      if (await seen()) at = (performance.now() - t0) / 1000;
      else await sleep(everyMs);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { [name]: at };
    },
  };
}

/** The network's leases for `mac` every 0.5 s until seen: the mark leaseS. */
function watchLease(deps: TimelineDeps, mac: string | undefined, t0: number): { stop(): Promise<Marks> } {
  if (!mac) return { stop: () => Promise.resolve({}) };
  return watchUntil("leaseS", t0, 500, async () => {
    const out = (await deps.virsh(["net-dhcp-leases", NET, "--mac", mac]).catch(() => undefined))?.stdout;
    return !!out && /ipv4/.test(out);
  });
}

/**
 * When the guest's kernel started, each unit became active and sshd first accepted a login of this boot (its
 * journal), in seconds since t0, asked over SSH after the timed part. The guest's monotonic clock is anchored
 * by its uptime at the moment that line reached this side (written to stderr first, which `exec` stamps): an
 * SSH command spends its first second or two in the handshake, so the command's midpoint would place the
 * guest's clock that much too early. Undefined when SSH fails (with ssh's words).
 */
export async function guestActiveTimes(
  ip: string,
  key: string,
  t0: number,
  units: string[],
  user = "vagrant",
): Promise<{ kernelS: number; activeS: number[]; acceptedS?: number } | { error: string }> {
  const spawned = performance.now();
  const r = await exec("ssh", [
    ...sshOptions(key, 5),
    `${user}@${ip}`,
    `cat /proc/uptime >&2; systemctl show ${units.join(" ")} -p ActiveEnterTimestampMonotonic; ` +
    `sudo -n journalctl -b -t sshd -o short-monotonic --no-pager | grep -m 1 'Accepted publickey' || true`,
  ], { timeoutMs: 30_000, stamp: true });
  if (r.code !== 0) return { error: `ssh ${user}@${ip} exited ${r.code}: ${r.stderr.trim()}` };
  const line = r.lines?.find((l) => /^\d+\.\d+ \d+\.\d+$/.test(l.line));
  if (!line) return { error: `ssh ${user}@${ip}: no uptime in ${JSON.stringify(r.stderr)}` };
  const kernelS = (spawned + line.ms - t0) / 1000 - Number(line.line.split(" ")[0]);
  const mono = [...r.stdout.matchAll(/ActiveEnterTimestampMonotonic=(\d+)/g)].map((m) => Number(m[1]) / 1e6);
  const accepted = /^\[\s*(\d+\.\d+)\]/m.exec(r.stdout);
  return {
    kernelS,
    activeS: mono.map((m) => kernelS + m),
    acceptedS: accepted ? kernelS + Number(accepted[1]) : undefined,
  };
}

/** When the guest's sshd became active and first accepted a login, in the run's clock. */
async function sshdActive(ip: string, key: string, t0: number): Promise<Marks> {
  const g = await guestActiveTimes(ip, key, t0, ["ssh.service"]);
  return "error" in g
    ? {}
    : { guestKernelS: g.kernelS, sshdActiveS: g.activeS[0], sshAcceptedS: g.acceptedS };
}

/**
 * This network namespace's TCP table every 20 ms until a connection to a port 22 is established that was not
 * there at the start: the mark tcpS, when the guest's sshd took the connection that logs in (lv's, or ssh's).
 */
function watchTcp(t0: number): { stop(): Promise<Marks> } {
  const established = () =>
    Deno.readTextFileSync("/proc/net/tcp").split("\n").slice(1)
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f[2]?.endsWith(":0016") && f[3] === "01")
      .map((f) => f[1]);
  const before = new Set(established());
  return watchUntil("tcpS", t0, 20, () => established().some((local) => !before.has(local)));
}

/** Where the domain is and the key to log in with, once lv has brought it up. */
type GuestLogin = () => Promise<{ ip: string; key: string }>;

/** An lv run with the timeline around it (the lease watched when `mac` is new to the network). */
async function timedLv(
  deps: TimelineDeps,
  lv: ReturnType<TimelineDeps["lv"]>,
  args: string[],
  guest: { mac?: string; login: GuestLogin },
): Promise<Marks & { ms: number }> {
  const t0 = performance.now();
  const serial = watchSerial(`${lv.home}/logs/${NAME}-serial0.log`, t0);
  const lease = watchLease(deps, guest.mac, t0);
  const tcp = watchTcp(t0);
  const p = await lv.ok(args, { stamp: true, timeoutMs: 10 * 60_000 });
  const event = (reason: string) => {
    const at = p.lines?.find((l) => l.line.startsWith(`domain/${NAME}: ${reason}:`))?.ms;
    return at === undefined ? undefined : at / 1000;
  };
  const marks: Marks = {
    definedS: event("Defined"),
    startedS: event("Started"),
    sshReadyS: event("SshReady"),
    keyInsertedS: event("KeyInserted"),
    hostnameS: event("Hostname"),
    readyS: p.ms / 1000,
    ...await serial.stop(),
    ...await lease.stop(),
    ...await tcp.stop(),
  };
  const { ip, key } = await guest.login();
  return { ms: p.ms, ...marks, ...await sshdActive(ip, key, t0) };
}

/** The floor: `virsh start` of the halted domain, then plain ssh every 0.2 s until `true` runs. */
async function floor(deps: TimelineDeps, ip: string, key: string): Promise<Marks & { ms: number }> {
  const t0 = performance.now();
  const tcp = watchTcp(t0);
  await deps.virsh(["start", NAME]);
  const started = (performance.now() - t0) / 1000;
  const deadline = Date.now() + 8 * 60_000;
  let attempts = 0;
  while (true) {
    if (Date.now() > deadline) throw new Error(`floor: ssh to ${ip} never answered`);
    attempts++;
    const r = await exec("ssh", [...SSH_OPTS(key), `vagrant@${ip}`, "true"], { timeoutMs: 10_000 });
    if (r.code === 0) break;
    await sleep(200);
  }
  const ms = performance.now() - t0;
  const marks = { startedS: started, readyS: ms / 1000, attempts, ...await tcp.stop() };
  return { ms, ...marks, ...await sshdActive(ip, key, t0) };
}

/** Shuts the domain down (ACPI, by virsh) and waits until it is off. */
async function shutDown(deps: TimelineDeps): Promise<void> {
  await deps.virsh(["shutdown", NAME]).catch(() => undefined);
  const deadline = Date.now() + 3 * 60_000;
  while (!/shut off/.test((await deps.virsh(["domstate", NAME])).stdout)) {
    if (Date.now() > deadline) {
      await deps.virsh(["destroy", NAME]).catch(() => undefined);
      return;
    }
    await sleep(500);
  }
}

/** bench/manifests.ts's vmDoc with the interface's MAC given. */
function vmWithMac(mac: string): string {
  return M.vmDoc(NAME, "bench-box", NET).replace(
    `- network: ${NET}\n`,
    `- network: ${NET}\n      mac: "${mac}"\n`,
  );
}

export async function itemTimeline(deps: TimelineDeps): Promise<unknown> {
  const lv = deps.lv("timeline");
  const base = [M.boxDoc("bench-box", `${deps.boxDir}/debian12.box`), M.natNetworkDoc(NET, "10.79.0.1")];
  const baseYaml = deps.writeFile("timeline-base.yaml", M.join(base));
  await lv.ok(["apply", "-f", baseYaml, "--timeout=5m"]);
  const login: GuestLogin = async () => {
    const dom = JSON.parse((await lv.ok(["get", "domain", NAME, "-o", "json"])).stdout);
    return { ip: dom.status.ip, key: dom.status.sshKey ?? `${deps.boxDir}/vagrant_key` };
  };
  const runs: { first: Marks; floor: Marks; up: Marks; order: string }[] = [];
  for (let i = 0; i < deps.runs; i++) {
    // A MAC new to the network at each run: its lease is this boot's, not one dnsmasq kept from the last.
    const mac = `52:54:00:7b:${(Date.now() & 0xff).toString(16).padStart(2, "0")}:${
      (i & 0xff).toString(16).padStart(2, "0")
    }`;
    const vmYaml = deps.writeFile(`timeline-vm-${i}.yaml`, M.join([...base, vmWithMac(mac)]));
    deps.log(`timeline ${i}: first boot (lv apply)`);
    const first = await timedLv(deps, lv, ["apply", "-f", vmYaml, "--timeout=8m"], { mac, login });
    const { ip, key } = await login();
    await lv.ok(["halt", NAME, "--timeout=5m"]);
    let f: Marks & { ms: number }, u: Marks & { ms: number };
    const doFloor = async () => {
      deps.log(`timeline ${i}: floor (virsh start, ssh every 0.2 s)`);
      f = await floor(deps, ip, key);
      await shutDown(deps);
    };
    const doUp = async () => {
      deps.log(`timeline ${i}: lv up`);
      u = await timedLv(deps, lv, ["up", NAME, "--timeout=8m"], { login });
      await lv.ok(["halt", NAME, "--timeout=5m"]);
    };
    if (i % 2 === 0) {
      await doFloor();
      await doUp();
    } else {
      await doUp();
      await doFloor();
    }
    runs.push({ first, floor: f!, up: u!, order: i % 2 === 0 ? "floor,up" : "up,floor" });
    deps.log(`timeline ${i}: floor ${(f!.ms / 1000).toFixed(1)} s, lv up ${(u!.ms / 1000).toFixed(1)} s`);
    await lv.run(["delete", "domain", NAME, "--ignore-not-found", "--timeout=3m"]);
  }
  await lv.run(["delete", "-f", baseYaml, "--timeout=3m"]);
  report(deps, runs);
  return runs;
}

function report(deps: TimelineDeps, runs: { first: Marks; floor: Marks; up: Marks }[]): void {
  const col = (side: "first" | "floor" | "up", k: string) =>
    runs.map((r) => r[side][k]).filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  const diff = (side: "first" | "floor" | "up", a: string, b: string) =>
    runs.map((r) => (r[side][b] ?? NaN) - (r[side][a] ?? NaN)).filter((v) => Number.isFinite(v));
  const line = (what: string, samples: number[], unit: "s" | "x" = "s", target?: number) => {
    if (samples.length > 0) deps.row({ item: ITEM, what, unit, samples, target });
  };
  for (
    const [k, what] of [
      ["definedS", "first boot: Defined event"],
      ["startedS", "first boot: Started event"],
      ["kernelStartS", "first boot: kernel started (serial log)"],
      ["sshdStartedS", "first boot: sshd started (serial log)"],
      ["sshdActiveS", "first boot: sshd active (guest's systemd)"],
      ["leaseS", "first boot: DHCP lease seen (bench, every 0.5 s)"],
      ["sshReadyS", "first boot: SshReady event"],
      ["keyInsertedS", "first boot: KeyInserted event"],
      ["hostnameS", "first boot: Hostname event"],
      ["readyS", "first boot: Ready (lv apply returns)"],
    ]
  ) line(what, col("first", k));
  // sshd active -> SshReady split: lv's reaction (until sshd takes lv's connection), the guest's handshake
  // (until its sshd logs the login accepted) and lv's side after it (until the event is written).
  line("first boot: sshd active -> SshReady", diff("first", "sshdActiveS", "sshReadyS"), "s", 1);
  line("first boot: sshd active -> TCP connection taken", diff("first", "sshdActiveS", "tcpS"));
  line("first boot: TCP connection -> login accepted (guest)", diff("first", "tcpS", "sshAcceptedS"));
  line("first boot: login accepted -> SshReady", diff("first", "sshAcceptedS", "sshReadyS"));
  line("first boot: SshReady -> Ready (guest steps)", diff("first", "sshReadyS", "readyS"));
  line("floor: virsh start + ssh every 0.2 s, to Ready", col("floor", "readyS"));
  line("floor: sshd active -> ssh true ran", diff("floor", "sshdActiveS", "readyS"));
  line("floor: sshd active -> TCP connection taken", diff("floor", "sshdActiveS", "tcpS"));
  line("floor: TCP connection -> login accepted (guest)", diff("floor", "tcpS", "sshAcceptedS"));
  line("lv up of the halted domain, to Ready", col("up", "readyS"));
  line("lv up: kernel started (serial log)", col("up", "kernelStartS"));
  line("lv up: sshd active -> login accepted", diff("up", "sshdActiveS", "sshAcceptedS"), "s", 1);
  line("lv up: sshd active -> TCP connection taken", diff("up", "sshdActiveS", "tcpS"));
  line("lv up: TCP connection -> login accepted (guest)", diff("up", "tcpS", "sshAcceptedS"));
  line("lv up: sshd active -> Ready", diff("up", "sshdActiveS", "readyS"));
  const ratio = runs.map((r) => (r.up.readyS ?? NaN) / (r.floor.readyS ?? NaN)).filter(Number.isFinite);
  line("lv up / floor (pairwise)", ratio, "x", 1.1);
}
