/**
 * The vagrant item of bench/run.ts (`bench/run.sh --only=vagrant`, not in the default set: it needs Debian's
 * vagrant and vagrant-libvirt, and boots 4 guests a run): the test box brought up, reached (`ssh ... true`),
 * halted, started again and destroyed by vagrant + vagrant-libvirt and by lv, the same box, memory (1 GiB),
 * cpus (1), driver (qemu, qemu64) and libvirtd, one tool after the other in each run (the order alternating
 * between runs), and the ratio lv / vagrant per step. Each tool's first up in a fresh lab includes uploading
 * the box image into the pool; later ups reuse it, for both. After each up (untimed), the domain's QEMU
 * process tells when it started and the guest (over plain ssh) when its sshd became active: that boot
 * (firmware, bootloader, kernel, the guest's services) is the same work under either tool, and what is left
 * of the up is the tool's own time (before QEMU: its start, the domain's creation; after sshd: its waits,
 * logins and first-boot work); the ratio of the own times says what a faster guest boot (KVM) would leave of
 * the up's ratio. Figures only.
 */
import { guestActiveTimes } from "./boot.ts";
import { exec, type Proc, procStat } from "./proc.ts";

export interface VagrantBenchDeps {
  runs: number;
  row(r: { item: string; what: string; unit: "s" | "x"; samples: number[]; target?: number }): void;
  log(text: string): void;
  details: Record<string, unknown>;
  /** The test box directory (debian12.box, vagrant_key). */
  boxDir: string;
  /** A directory of this run's own. */
  work: string;
  /** lv with a home of its own. */
  lv(args: string[], options?: { timeoutMs?: number }): Promise<Proc>;
}

const ITEM = "10 vagrant";
const STEP_TIMEOUT_MS = 15 * 60_000;
const STEPS = ["up", "ssh true", "halt", "up again", "destroy"] as const;
type Step = typeof STEPS[number];
/** The steps that boot the guest. */
const BOOTS: readonly Step[] = ["up", "up again"];

/** HostName, User and IdentityFile of the first host in an OpenSSH config block (`vagrant ssh-config`, lv's). */
function sshTarget(config: string): { ip: string; user: string; key: string } | undefined {
  const field = (name: string) => new RegExp(`^\\s*${name}\\s+"?([^"\\n]+?)"?\\s*$`, "im").exec(config)?.[1];
  const [ip, user, key] = [field("HostName"), field("User"), field("IdentityFile")];
  return ip && user && key ? { ip, user, key } : undefined;
}

/**
 * When the one running domain's QEMU started, in seconds since t0 (performance.now()): its pid file in the
 * lab's libvirt and the process's start in /proc (10 ms ticks). Undefined unless exactly one domain runs.
 */
function qemuStartS(t0: number): number | undefined {
  const dir = "/run/libvirt/qemu";
  // A running domain has NAME.xml (its live state) beside NAME.pid; driver.pid is libvirtd's own.
  const names = [...Deno.readDirSync(dir)].map((e) => e.name);
  const running = names.filter((n) => n.endsWith(".xml") && names.includes(n.replace(/\.xml$/, ".pid")));
  if (running.length !== 1) return undefined;
  const pid = Deno.readTextFileSync(`${dir}/${running[0].replace(/\.xml$/, ".pid")}`).trim();
  const startTicks = Number(procStat(pid)[19]);
  const uptimeS = Number(Deno.readTextFileSync("/proc/uptime").split(" ")[0]);
  return (performance.now() - t0) / 1000 - (uptimeS - startTicks / 100);
}

function vagrantfile(): string {
  return `# lv's benchmark: the test box as vagrant-libvirt brings it up (bench/vagrant.ts)
Vagrant.configure("2") do |config|
  config.vm.box = "lv-bench"
  config.vm.box_check_update = false
  config.vm.hostname = "bench-vm"
  config.vm.synced_folder ".", "/vagrant", disabled: true
  config.vm.provider :libvirt do |libvirt|
    libvirt.uri = "qemu:///system"
    libvirt.driver = "qemu"
    libvirt.memory = 1024
    libvirt.cpus = 1
    libvirt.cpu_mode = "custom"
    libvirt.cpu_model = "qemu64"
    libvirt.cpu_fallback = "allow"
    libvirt.graphics_type = "none"
    libvirt.video_type = "none"
  end
end
`;
}

function manifest(boxFile: string): string {
  const api = "apiVersion: lv.dev/v1alpha1";
  return [
    `${api}\nkind: Box\nmetadata:\n  name: lv-bench\nspec:\n  source: ${boxFile}\n`,
    `${api}\nkind: Network\nmetadata:\n  name: bench-net\nspec:\n  mode: nat\n  ipv4:\n    address: 10.79.0.1\n    prefix: 24\n  dhcp:\n    enabled: true\n`,
    `${api}\nkind: Domain\nmetadata:\n  name: bench-vm\nspec:\n  box: lv-bench\n  driver: qemu\n  memory: 1024\n  cpus: 1\n  interfaces:\n    - network: bench-net\n`,
  ].join("---\n");
}

async function timedOk(what: string, run: () => Promise<Proc>): Promise<number> {
  const p = await run();
  if (p.code !== 0) throw new Error(`${what} exited ${p.code}\n${p.stdout}\n${p.stderr}`);
  return p.ms / 1000;
}

export async function itemVagrant(deps: VagrantBenchDeps): Promise<void> {
  const dir = `${deps.work}/vagrant`;
  Deno.mkdirSync(dir, { recursive: true });
  const env = {
    VAGRANT_HOME: `${dir}/home`,
    VAGRANT_CWD: dir,
    VAGRANT_CHECKPOINT_DISABLE: "1",
    VAGRANT_BOX_UPDATE_CHECK_DISABLE: "1",
    VAGRANT_DEFAULT_PROVIDER: "libvirt",
  };
  const vagrant = (args: string[]) => exec("vagrant", args, { env, cwd: dir, timeoutMs: STEP_TIMEOUT_MS });
  const version = await vagrant(["--version"]);
  const plugins = await vagrant(["plugin", "list"]);
  deps.details.vagrant = { version: version.stdout.trim(), plugins: plugins.stdout.trim() };
  Deno.writeTextFileSync(`${dir}/Vagrantfile`, vagrantfile());
  const boxFile = `${deps.boxDir}/debian12.box`;
  await timedOk("vagrant box add", () => vagrant(["box", "add", "--name", "lv-bench", boxFile]));
  const yaml = `${deps.work}/vagrant-lv.yaml`;
  Deno.writeTextFileSync(yaml, manifest(boxFile));
  const lvOk = (args: string[]) => deps.lv(args, { timeoutMs: STEP_TIMEOUT_MS });
  const vagrantSteps: Record<Step, () => Promise<Proc>> = {
    "up": () => vagrant(["up", "--provider=libvirt"]),
    "ssh true": () => vagrant(["ssh", "-c", "true"]),
    "halt": () => vagrant(["halt"]),
    "up again": () => vagrant(["up", "--provider=libvirt"]),
    "destroy": () => vagrant(["destroy", "-f"]),
  };
  const lvSteps: Record<Step, () => Promise<Proc>> = {
    "up": () => lvOk(["apply", "-f", yaml, "--timeout=15m"]),
    "ssh true": () => lvOk(["ssh", "bench-vm", "--", "true"]),
    "halt": () => lvOk(["halt", "bench-vm", "--timeout=15m"]),
    "up again": () => lvOk(["up", "bench-vm", "--timeout=15m"]),
    "destroy": () => lvOk(["destroy", "-f", "bench-vm", "--timeout=15m"]),
  };
  const sshConfig = {
    vagrant: () => vagrant(["ssh-config"]),
    lv: () => lvOk(["ssh-config", "bench-vm"]),
  };
  const times = { vagrant: new Map<Step, number[]>(), lv: new Map<Step, number[]>() };
  const boots = { vagrant: new Map<Step, number[]>(), lv: new Map<Step, number[]>() };
  const push = (m: Map<Step, number[]>, step: Step, x: number) => m.set(step, [...(m.get(step) ?? []), x]);
  const cycle = async (tool: "vagrant" | "lv") => {
    const steps = tool === "vagrant" ? vagrantSteps : lvSteps;
    for (const step of STEPS) {
      const t0 = performance.now();
      const s = await timedOk(`${tool} ${step}`, steps[step]);
      push(times[tool], step, s);
      let boot = "";
      if (BOOTS.includes(step)) {
        const b = await guestBoot(await sshConfig[tool](), t0);
        push(boots[tool], step, b ?? NaN);
        boot = b === undefined
          ? " (the guest's boot not known)"
          : `, of which the guest's boot (QEMU started → sshd active) ${b.toFixed(1)} s`;
      }
      deps.log(`vagrant item: ${tool} ${step}: ${s.toFixed(1)} s${boot}`);
    }
  };
  /** QEMU started → the guest's sshd active, in seconds, for the domain that runs now. */
  const guestBoot = async (config: Proc, t0: number): Promise<number | undefined> => {
    const started = qemuStartS(t0);
    const target = sshTarget(config.stdout);
    if (started === undefined || !target) {
      return deps.log(`vagrant item: no QEMU or no ssh target in ${JSON.stringify(config.stdout)}`),
        undefined;
    }
    const g = await guestActiveTimes(target.ip, target.key, t0, ["ssh.service"], target.user);
    if ("error" in g) return deps.log(`vagrant item: ${g.error}`), undefined;
    return g.activeS[0] - started;
  };
  for (let r = 0; r < deps.runs; r++) {
    const order = r % 2 === 0 ? ["vagrant", "lv"] as const : ["lv", "vagrant"] as const;
    for (const tool of order) {
      try {
        await cycle(tool);
      } catch (e) {
        // Leave nothing running for the other tool's cycle.
        if (tool === "vagrant") await vagrant(["destroy", "-f"]);
        else await deps.lv(["destroy", "-f", "bench-vm", "--timeout=5m"]);
        throw e;
      }
    }
  }
  for (const step of STEPS) {
    const v = times.vagrant.get(step)!, l = times.lv.get(step)!;
    deps.row({ item: ITEM, what: `vagrant ${step}`, unit: "s", samples: v });
    deps.row({ item: ITEM, what: `lv ${step}`, unit: "s", samples: l });
    deps.row({
      item: ITEM,
      what: `lv / vagrant, ${step} (pairwise)`,
      unit: "x",
      samples: l.map((x, i) => x / v[i]),
      target: 0.5,
    });
  }
  for (const step of BOOTS) {
    const own = (tool: "vagrant" | "lv") =>
      times[tool].get(step)!.map((x, i) => x - boots[tool].get(step)![i]);
    const [v, l] = [own("vagrant"), own("lv")];
    const known = v.map((_, i) => i).filter((i) => !Number.isNaN(v[i]) && !Number.isNaN(l[i]));
    if (known.length === 0) continue;
    for (const [tool, own] of [["vagrant", v], ["lv", l]] as const) {
      deps.row({
        item: ITEM,
        what: `${tool} ${step} less the guest's boot`,
        unit: "s",
        samples: known.map((i) => own[i]),
      });
    }
    deps.row({
      item: ITEM,
      what: `lv / vagrant, ${step} less the guest's boot`,
      unit: "x",
      samples: known.map((i) => l[i] / v[i]),
    });
  }
  deps.details.vagrantSteps = {
    vagrant: Object.fromEntries(times.vagrant),
    lv: Object.fromEntries(times.lv),
    guestBootS: { vagrant: Object.fromEntries(boots.vagrant), lv: Object.fromEntries(boots.lv) },
  };
}
