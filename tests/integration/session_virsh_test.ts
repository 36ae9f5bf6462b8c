/**
 * SessionVirsh against the lab's real libvirtd: the virsh commands lv runs give what a process per command
 * gives (output, errors for missing objects and duplicates), lv's controllers see the same libvirt through
 * it, and a session survives what happens to libvirtd and to itself: libvirtd killed and restarted, stopped
 * (hung), and the session's own virsh killed in the middle of a command.
 */
import assert from "node:assert/strict";
import { openRuntime } from "../../src/cli/runtime.ts";
import { controllerContext } from "../../src/controller/controller_context.ts";
import { RECONCILERS } from "../../src/controller/reconcilers.ts";
import { Manager } from "../../src/controller/manager.ts";
import { KINDS } from "../../src/api/types.ts";
import { sessionLine, SessionVirsh } from "../../src/libvirt/session_virsh.ts";
import { ProcessVirsh, VirshError, type VirshResult, type VirshRunner } from "../../src/libvirt/virsh.ts";
import { explainSshFailure, prepareTransport } from "../../src/config/ssh_transport.ts";
import { Lv, mutating, requireLab, run, waitFor } from "./helpers.ts";
import { startRemoteHost } from "./remote_host.ts";

const URI = "qemu:///system";

const POOL_DIR = "/var/lib/libvirt/images/sv-pool";
const POOL_XML = `<pool type='dir'>
  <name>sv-pool</name>
  <uuid>3c0a7f44-2b0e-4f4e-9a55-5a1b2c3d4e01</uuid>
  <target><path>${POOL_DIR}</path></target>
</pool>
`;
const VOL_XML = `<volume>
  <name>sv-vol</name>
  <capacity unit='bytes'>1048576</capacity>
  <target><format type='qcow2'/></target>
</volume>
`;
const NET_XML = (uuid: string) =>
  `<network>
  <name>sv-net</name>
  <uuid>${uuid}</uuid>
  <forward mode='nat'/>
  <bridge name='lvsv0' stp='on' delay='0'/>
  <mac address='52:54:00:5e:00:01'/>
  <ip address='10.99.0.1' prefix='24'>
    <dhcp><range start='10.99.0.2' end='10.99.0.254'/></dhcp>
  </ip>
</network>
`;
const DOM_XML = `<domain type='qemu'>
  <name>sv-dom</name>
  <uuid>3c0a7f44-2b0e-4f4e-9a55-5a1b2c3d4e03</uuid>
  <description>it's "quoted"; # not a comment \\ backslash</description>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type><boot dev='network'/></os>
  <devices>
    <interface type='network'>
      <mac address='52:54:00:5e:00:02'/>
      <source network='sv-net'/>
      <model type='virtio'/>
    </interface>
  </devices>
</domain>
`;
const HOST = `<host mac='52:54:00:5e:00:03' name="o'neil host" ip='10.99.0.50'/>`;

/** lv's virsh commands (src/libvirt/libvirt.ts, src/cli/snapshot.ts), with duplicates and missing objects. */
const SCRIPT: { args: string[]; stdin?: string }[] = [
  { args: ["version", "--daemon"] },
  { args: ["pool-dumpxml", "sv-pool"] },
  { args: ["pool-info", "sv-pool"] },
  { args: ["pool-define", "/dev/stdin"], stdin: POOL_XML },
  { args: ["pool-define", "/dev/stdin"], stdin: POOL_XML.replace("4e01", "4eff") },
  { args: ["pool-define", "/dev/stdin"], stdin: "<pool type='dir'><name>broken" },
  { args: ["pool-build", "sv-pool"] },
  { args: ["pool-start", "sv-pool"] },
  { args: ["pool-start", "sv-pool"] },
  { args: ["pool-autostart", "sv-pool"] },
  { args: ["pool-info", "sv-pool"] },
  { args: ["pool-refresh", "sv-pool"] },
  { args: ["vol-list", "--pool", "sv-pool"] },
  { args: ["vol-dumpxml", "--pool", "sv-pool", "sv-vol"] },
  { args: ["vol-create", "--pool", "sv-pool", "/dev/stdin"], stdin: VOL_XML },
  { args: ["vol-create", "--pool", "sv-pool", "/dev/stdin"], stdin: VOL_XML },
  { args: ["vol-dumpxml", "--pool", "sv-pool", "sv-vol"] },
  { args: ["vol-resize", "--pool", "sv-pool", "sv-vol", "2097152"] },
  { args: ["vol-list", "--pool", "sv-pool"] },
  { args: ["vol-list", "--pool", "nosuch-pool"] },
  { args: ["net-dumpxml", "--inactive", "sv-net"] },
  { args: ["net-info", "sv-net"] },
  { args: ["net-define", "/dev/stdin"], stdin: NET_XML("3c0a7f44-2b0e-4f4e-9a55-5a1b2c3d4e02") },
  { args: ["net-define", "/dev/stdin"], stdin: NET_XML("3c0a7f44-2b0e-4f4e-9a55-5a1b2c3d4eff") },
  { args: ["net-start", "sv-net"] },
  { args: ["net-start", "sv-net"] },
  { args: ["net-autostart", "sv-net"] },
  { args: ["net-autostart", "sv-net", "--disable"] },
  { args: ["net-info", "sv-net"] },
  { args: ["net-dumpxml", "--inactive", "sv-net"] },
  { args: ["net-update", "sv-net", "add-last", "ip-dhcp-host", HOST, "--config", "--live"] },
  { args: ["net-update", "sv-net", "add-last", "ip-dhcp-host", HOST, "--config", "--live"] },
  { args: ["net-update", "sv-net", "delete", "ip-dhcp-host", "<host mac='52:54:00:5e:00:99'/>", "--config"] },
  { args: ["net-dumpxml", "sv-net"] },
  { args: ["net-dhcp-leases", "sv-net"] },
  { args: ["net-dhcp-leases", "nosuch-net"] },
  { args: ["dumpxml", "--inactive", "sv-dom"] },
  { args: ["domstate", "--reason", "sv-dom"] },
  { args: ["define", "/dev/stdin"], stdin: DOM_XML },
  { args: ["define", "/dev/stdin"], stdin: DOM_XML.replace("<vcpu>1</vcpu>", "<vcpu>x</vcpu>") },
  { args: ["define", "/dev/stdin"], stdin: DOM_XML.replace("4e03", "4eff") },
  { args: ["dumpxml", "--inactive", "sv-dom"] },
  { args: ["domstate", "--reason", "sv-dom"] },
  { args: ["domid", "sv-dom"] },
  { args: ["start", "sv-dom", "--paused"] },
  { args: ["start", "sv-dom"] },
  { args: ["domstate", "--reason", "sv-dom"] },
  { args: ["domid", "sv-dom"] },
  { args: ["dumpxml", "sv-dom"] },
  { args: ["qemu-monitor-command", "sv-dom", '{"execute":"query-status"}'] },
  { args: ["domifaddr", "sv-dom", "--source", "lease"] },
  { args: ["domifaddr", "sv-dom", "--source", "arp"] },
  { args: ["domifaddr", "sv-dom", "--source", "agent"] },
  { args: ["snapshot-list", "sv-dom", "--name", "--topological"] },
  { args: ["resume", "sv-dom"] },
  { args: ["suspend", "sv-dom"] },
  { args: ["reboot", "nosuch-dom"] },
  { args: ["list", "--all", "--name"] },
  { args: ["destroy", "sv-dom"] },
  { args: ["destroy", "sv-dom"] },
  { args: ["shutdown", "sv-dom"] },
  {
    args: [
      "undefine",
      "sv-dom",
      "--managed-save",
      "--snapshots-metadata",
      "--checkpoints-metadata",
      "--nvram",
    ],
  },
  {
    args: [
      "undefine",
      "sv-dom",
      "--managed-save",
      "--snapshots-metadata",
      "--checkpoints-metadata",
      "--nvram",
    ],
  },
  { args: ["net-destroy", "sv-net"] },
  { args: ["net-destroy", "sv-net"] },
  { args: ["net-undefine", "sv-net"] },
  { args: ["net-undefine", "sv-net"] },
  { args: ["vol-delete", "--pool", "sv-pool", "sv-vol"] },
  { args: ["vol-delete", "--pool", "sv-pool", "sv-vol"] },
  { args: ["pool-destroy", "sv-pool"] },
  { args: ["pool-delete", "sv-pool"] },
  { args: ["pool-undefine", "sv-pool"] },
  { args: ["pool-undefine", "sv-pool"] },
];

/** What changes from one run of SCRIPT to the next whichever runner runs it (ids, times, disk usage). */
function normalize(text: string): string {
  return text
    .replace(/(<domain type='qemu') id='\d+'/g, "$1 id='N'")
    .replace(/^\d+\n$/, "N\n") // domid
    .replace(/"id":"libvirt-\d+"/g, '"id":"libvirt-N"')
    .replace(/<(atime|mtime|ctime)>[\d.]+<\/\1>/g, "<$1>T</$1>")
    .replace(/^(Allocation|Available|Capacity):\s+.*$/gm, "$1: X")
    .replace(/<(allocation|available|capacity) unit='bytes'>\d+</g, "<$1 unit='bytes'>X<")
    .replace(/vnet\d+/g, "vnetN")
    .replace(/ portid='[0-9a-f-]+'/g, " portid='P'");
}

async function runScript(virsh: VirshRunner, also?: VirshRunner): Promise<VirshResult[]> {
  const out: VirshResult[] = [];
  for (const step of SCRIPT) {
    const r = await virsh.run(step.args, { stdin: step.stdin });
    // Read-only commands again through the other runner, at the same moment: exactly the same.
    if (also && mutating([step.args]).length === 0) {
      assert.deepEqual(await also.run(step.args, { stdin: step.stdin }), r, step.args.join(" "));
    }
    out.push({ code: r.code, stdout: normalize(r.stdout), stderr: normalize(r.stderr) });
  }
  return out;
}

async function cleanup(): Promise<void> {
  const p = new ProcessVirsh(URI);
  for (
    const args of [
      ["destroy", "sv-dom"],
      ["undefine", "sv-dom", "--nvram"],
      ["net-destroy", "sv-net"],
      ["net-undefine", "sv-net"],
      ["vol-delete", "--pool", "sv-pool", "sv-vol"],
      ["pool-destroy", "sv-pool"],
      ["pool-delete", "sv-pool"],
      ["pool-undefine", "sv-pool"],
    ]
  ) await p.run(args);
}

Deno.test("SessionVirsh and ProcessVirsh give the same results for lv's virsh commands on a real libvirtd", async () => {
  requireLab();
  await cleanup();
  const processRun = await runScript(new ProcessVirsh(URI));
  await cleanup();
  const session = new SessionVirsh(URI);
  try {
    const sessionRun = await runScript(session, new ProcessVirsh(URI));
    for (let i = 0; i < SCRIPT.length; i++) {
      assert.deepEqual(sessionRun[i], processRun[i], `step ${i}: virsh ${SCRIPT[i].args.join(" ")}`);
    }
    // The script does exercise failures and successes of each kind.
    const failed = processRun.filter((r) => r.code !== 0).length;
    assert.ok(failed >= 20 && failed < SCRIPT.length - 20, `${failed} of ${SCRIPT.length} failed`);
    assert.equal(session.pids.length, 1, "one session ran them all");
  } finally {
    await session.close();
    await cleanup();
  }
});

Deno.test("lv's controllers observe the same libvirt through SessionVirsh: a pass over examples/basic.yaml changes nothing", async () => {
  requireLab();
  const lv = new Lv();
  try {
    await lv.ok(["apply", "-f", "examples/basic.yaml", "--timeout=120s"]);
    lv.virshCalls();
    Deno.env.set("LV_VIRSH_LOG", lv.virshLog);
    const virsh = new SessionVirsh(URI);
    Deno.env.delete("LV_VIRSH_LOG");
    const rt = await openRuntime({ home: lv.home, virsh, output: { out() {}, err() {} } });
    try {
      let objects = 0;
      for (const kind of KINDS) objects += (await rt.store.list(kind)).length;
      const manager = new Manager(controllerContext(rt, { quiet: true }), RECONCILERS, { workers: 4 });
      await manager.start();
      await waitFor(
        () => Promise.resolve(manager.reconciles >= objects),
        "one pass over every object",
        60_000,
      );
      await manager.stop();
      for (const kind of KINDS) {
        for (const o of await rt.store.list(kind)) {
          const ready = o.status.conditions?.find((c) => c.type === "Ready");
          assert.equal(ready?.status, "True", `${kind}/${o.metadata.name}: ${JSON.stringify(ready)}`);
        }
      }
      const calls = lv.virshCalls();
      assert.ok(calls.length >= objects, `${calls.length} virsh commands`);
      assert.deepEqual(mutating(calls), []);
      assert.ok(virsh.pids.length >= 1 && virsh.pids.length <= 4);
    } finally {
      await virsh.close();
      await rt.close();
    }
  } finally {
    await lv.run(["delete", "-f", "examples/basic.yaml", "--ignore-not-found", "--timeout=60s"]);
    lv.cleanup();
  }
});

const PID_FILE = () => `${Deno.env.get("LV_LAB_DIR")}/libvirtd.pid`;
const libvirtdPid = () => Number(Deno.readTextFileSync(PID_FILE()).trim());

async function libvirtdUp(): Promise<boolean> {
  return (await run("virsh", ["-c", URI, "version"])).code === 0;
}

function gone(pid: number): boolean {
  try {
    return /^State:\s+Z/m.test(Deno.readTextFileSync(`/proc/${pid}/status`));
  } catch {
    return true;
  }
}

/** Starts the lab's libvirtd again (by its PID file, as tests/integration/libvirtd_restart_test.ts does). */
async function ensureLibvirtd(): Promise<void> {
  if (!(await libvirtdUp())) {
    const r = await run("libvirtd", ["-d", "-p", PID_FILE()]);
    assert.equal(r.code, 0, r.stderr);
  }
  await waitFor(libvirtdUp, "libvirtd is up", 60_000);
}

Deno.test("SessionVirsh when libvirtd goes away and comes back: errors a process would give, then a new session", async (t) => {
  requireLab();
  const session = new SessionVirsh(URI);
  const process = new ProcessVirsh(URI);
  try {
    await t.step("libvirtd killed while the session is idle", async () => {
      assert.equal((await session.run(["list", "--name"])).code, 0);
      const [first] = session.pids;
      const daemon = libvirtdPid();
      Deno.kill(daemon, "SIGTERM");
      await waitFor(() => Promise.resolve(gone(daemon)), "libvirtd is gone", 30_000);
      // virsh says "Disconnected from ..." at once: the session ends without waiting for a command.
      await waitFor(() => Promise.resolve(!session.pids.includes(first)), "the session ends", 10_000);
      const a = await session.run(["list", "--name"]);
      const b = await process.run(["list", "--name"]);
      assert.deepEqual(a, b);
      assert.equal(a.code, 1);
      assert.match(a.stderr, /^error: failed to connect to the hypervisor\n/);
    });
    await t.step("libvirtd back: the next command works in a new session", async () => {
      await ensureLibvirtd();
      const r = await session.run(["list", "--name"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(session.pids.length, 1);
    });
    await t.step("libvirtd restarted between two commands: the second works", async () => {
      const [before] = session.pids;
      const daemon = libvirtdPid();
      Deno.kill(daemon, "SIGTERM");
      await waitFor(() => Promise.resolve(gone(daemon)), "libvirtd is gone", 30_000);
      await ensureLibvirtd();
      const r = await session.run(["list", "--name"]);
      assert.deepEqual(r, await process.run(["list", "--name"]));
      assert.equal(r.code, 0, r.stderr);
      assert.ok(!session.pids.includes(before));
    });
    await t.step(
      "libvirtd killed during a command: that command fails as unreachable, the next one works",
      async () => {
        await session.run(["list"]);
        const daemon = libvirtdPid();
        Deno.kill(daemon, "SIGSTOP");
        // The command is in the session (its virsh waits for libvirtd's answer), then libvirtd dies.
        const { pending } = await inFlight(session, ["list", "--all"]);
        Deno.kill(daemon, "SIGKILL");
        const r = await pending;
        assert.equal(r.code, 1);
        assert.ok(new VirshError(["list"], r).unreachable, r.stderr);
        await waitFor(() => Promise.resolve(gone(daemon)), "libvirtd is gone", 30_000);
        await ensureLibvirtd();
        const again = await session.run(["list", "--name"]);
        assert.equal(again.code, 0, again.stderr);
      },
    );
  } finally {
    await ensureLibvirtd();
    await session.close();
  }
});

Deno.test("SessionVirsh when libvirtd hangs or the session's virsh is killed mid-command", async (t) => {
  requireLab();
  const session = new SessionVirsh(URI, URI, undefined, { timeoutMs: 3000 });
  const daemon = libvirtdPid();
  try {
    await t.step(
      "libvirtd stopped: the command times out as unreachable; the session is killed",
      async () => {
        assert.equal((await session.run(["list"])).code, 0);
        const [pid] = session.pids;
        Deno.kill(daemon, "SIGSTOP");
        const t0 = Date.now();
        const r = await session.run(["domstate", "nosuch"]);
        const took = Date.now() - t0;
        Deno.kill(daemon, "SIGCONT");
        assert.ok(took >= 2900 && took < 15_000, `${took} ms`);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /gave no answer within 3 s and was killed/);
        assert.ok(new VirshError(["list"], r).unreachable, r.stderr);
        await waitFor(() => Promise.resolve(gone(pid)), `virsh ${pid} is gone`, 10_000);
        const again = await session.run(["domstate", "nosuch"]);
        assert.deepEqual(again, await new ProcessVirsh(URI).run(["domstate", "nosuch"]));
      },
    );
    await t.step(
      "the session's virsh killed while it runs a command: unreachable, then a new session",
      async () => {
        const [pid] = session.pids;
        Deno.kill(daemon, "SIGSTOP");
        const { pending } = await inFlight(session, ["list", "--all"]);
        Deno.kill(pid, "SIGKILL");
        const r = await pending;
        Deno.kill(daemon, "SIGCONT");
        assert.equal(r.code, 1);
        assert.match(r.stderr, /virsh session \(pid \d+\) ended during "list": it was killed \(SIGKILL\)/);
        assert.ok(new VirshError(["list"], r).unreachable, r.stderr);
        const again = await session.run(["list", "--all", "--name"]);
        assert.equal(again.code, 0, again.stderr);
        assert.notEqual(session.pids[0], pid);
      },
    );
  } finally {
    try {
      Deno.kill(daemon, "SIGCONT");
    } catch { /* gone */ }
    await session.close();
  }
});

/** PIDs of the processes whose parent is `pid`. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) out.push(Number(e.name));
    } catch { /* gone */ }
  }
  return out;
}

Deno.test("SessionVirsh over qemu+ssh (lv's ssh wrapper): a process's results, lv's explanations, no ssh left after close()", async (t) => {
  requireLab();
  const host = await startRemoteHost();
  const home = await Deno.makeTempDir({ prefix: "lv-session-ssh-" });
  try {
    const runners = (port: number) => {
      const uri = `qemu+ssh://root@${host.address}:${port}/system?keyfile=${host.keyFile}`;
      const { connectUri, jump } = prepareTransport(home, { uri });
      const explain = (stderr: string) => explainSshFailure(stderr, jump!);
      return {
        session: new SessionVirsh(uri, connectUri, explain),
        process: new ProcessVirsh(uri, connectUri, explain),
      };
    };
    await t.step("commands and errors as through a process each", async () => {
      const { session, process } = runners(host.port);
      try {
        for (
          const step of [
            { args: ["list", "--all", "--name"] },
            { args: ["dumpxml", "nosuch"] },
            { args: ["define", "/dev/stdin"], stdin: DOM_XML.replace("<vcpu>1</vcpu>", "<vcpu>x</vcpu>") },
            { args: ["net-info", "nosuch"] },
            { args: ["echo", "--shell", "--", "it's", 'a "b" \\ ; #c', ""] },
            { args: ["version", "--daemon"] },
          ]
        ) {
          const a = await session.run(step.args, { stdin: step.stdin });
          assert.deepEqual(a, await process.run(step.args, { stdin: step.stdin }), step.args.join(" "));
        }
        assert.equal(session.pids.length, 1);
        const [pid] = session.pids;
        const helpers = childrenOf(pid);
        assert.ok(helpers.length >= 1, "virsh runs ssh");
        await session.close();
        await waitFor(
          () => Promise.resolve([pid, ...helpers].every(gone)),
          "virsh and its ssh are gone",
          10_000,
        );
      } finally {
        await session.close();
      }
    });
    await t.step("a host without libvirtd: the same error and lv's explanation", async () => {
      const { session, process } = runners(host.bareHostPort);
      try {
        await process.run(["list"]); // ssh pins the host key the first time and says so
        const a = await session.run(["list"]);
        assert.deepEqual(a, await process.run(["list"]));
        assert.equal(a.code, 1);
        assert.match(a.stderr, /error: libvirtd is not running on /);
        assert.ok(new VirshError(["list"], a).unreachable);
        assert.deepEqual(session.pids, []);
      } finally {
        await session.close();
      }
    });
  } finally {
    await host.stop();
    await Deno.remove(home, { recursive: true });
  }
});

/** Bytes a process has read so far (/proc/PID/io rchar): with libvirtd stopped, only its stdin. */
function readBytes(pid: number): number {
  return Number(/^rchar: (\d+)/m.exec(Deno.readTextFileSync(`/proc/${pid}/io`))![1]);
}

/**
 * Sends `args` to the session while libvirtd is stopped and resolves once its virsh has read the whole
 * command line (it reads no further before the command is done): the command then waits for libvirtd.
 * Returns the pending result (wrapped: an async function would wait for it).
 */
async function inFlight(session: SessionVirsh, args: string[]): Promise<{ pending: Promise<VirshResult> }> {
  const [pid] = session.pids;
  const before = readBytes(pid);
  const pending = session.run(args);
  const line = sessionLine(args).length + 1;
  await waitFor(() => Promise.resolve(readBytes(pid) - before >= line), "virsh has read the command", 10_000);
  return { pending };
}
