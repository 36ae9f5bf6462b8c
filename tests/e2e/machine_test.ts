/**
 * examples/machine.yaml end to end: a real Debian guest from the test box, booted under TCG in the lab,
 * reached over SSH; hostname, static IP, provisioning, rsync, forwarded ports (the supervised forwarder and
 * lv port-forward), lv cp, lifecycle verbs, snapshots, delete.
 */
import assert from "node:assert/strict";
import { banner, listening } from "../integration/tcp_probe.ts";
import {
  Lv,
  mutating,
  requireLab,
  ROOT,
  run,
  testBoxDir,
  virsh,
  virshNames,
  waitFor,
} from "../integration/helpers.ts";

const MACHINE = "examples/machine.yaml";
/** examples/machine.yaml's forwarded port: the guest's sshd on 127.0.0.1:2222. */
const FORWARDED = 2222;

/** The pid of test-vm's forwarder (its record under LV_HOME), if one runs. */
function forwarderPid(home: string): number | undefined {
  for (const e of Deno.readDirSync(`${home}/forwarders`)) {
    if (!e.name.endsWith(".json")) continue;
    const pid = JSON.parse(Deno.readTextFileSync(`${home}/forwarders/${e.name}`)).pid as number;
    try {
      Deno.statSync(`/proc/${pid}`);
      return pid;
    } catch { /* gone */ }
  }
  return undefined;
}

Deno.test("examples/machine.yaml: a real VM from a real box, end to end", async (t) => {
  requireLab();
  testBoxDir();
  const lv = new Lv();
  const before = {
    domains: await virshNames("domains"),
    networks: await virshNames("networks"),
    volumes: await virshNames("volumes"),
  };
  const times: Record<string, number> = {};
  const timed = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    try {
      return await fn();
    } finally {
      times[what] = (Date.now() - started) / 1000;
    }
  };
  const sshOut = async (cmd: string) => (await lv.ok(["ssh", "test-vm", "--", cmd])).stdout;
  try {
    await t.step("apply returns when SSH answers and provisioning is done, showing progress", async () => {
      const r = await timed("apply to ready", () => lv.ok(["apply", "-f", MACHINE, "--timeout=8m"]));
      assert.equal(r.stdout, "box/debian12 created\nnetwork/test-net created\ndomain/test-vm created\n");
      assert.match(r.stderr, /domain\/test-vm: SshReady: SSH answers on 10\.20\.30\.40/);
      assert.match(r.stderr, /domain\/test-vm: provision\[0\]: provisioner ran 1 time\(s\)/);
      assert.match(
        r.stderr,
        /domain\/test-vm: provision\[1\]: unprivileged provisioner ran as vagrant: hello one two/,
      );
    });

    await t.step("get domains shows state, static IP and box", async () => {
      const table = (await lv.ok(["get", "domains"])).stdout;
      assert.match(table, /^test-vm\s+Running\s+10\.20\.30\.40\s+debian12\s+True\s+\S+$/m);
    });

    await t.step("inside the guest: hostname, static IP, provisioner marker, synced folder", async () => {
      assert.equal((await sshOut("hostname")).trim(), "test-vm");
      assert.match(await sshOut("ip -4 -o addr show"), /inet 10\.20\.30\.40\/24/);
      assert.equal((await sshOut("cat /etc/lv-provisioned")).trim(), "provisioned by lv on test-vm");
      assert.equal(
        await sshOut("cat /vagrant/hello.txt"),
        Deno.readTextFileSync(new URL("../../examples/machine-files/hello.txt", import.meta.url)),
      );
      assert.equal(
        (await sshOut("test -e /vagrant/notes.tmp && echo there || echo excluded")).trim(),
        "excluded",
      );
      assert.equal((await sshOut("cat ~/lv-last-boot")).trim(), "greeting=hello args=one two");
      assert.equal((await sshOut("stat -c %U ~/lv-last-boot")).trim(), "vagrant");
    });

    await t.step("lv rsync copies the folder again", async () => {
      await sshOut("rm /vagrant/hello.txt");
      await lv.ok(["rsync", "test-vm", "--timeout=2m"]);
      assert.match(await sshOut("cat /vagrant/hello.txt"), /Hello from the host/);
    });

    await t.step(
      "the forwarded port reaches the guest's sshd, after apply returned, with no controller",
      async () => {
        assert.match(await banner(FORWARDED), /^SSH-2\.0-OpenSSH/);
        const wide = (await lv.ok(["get", "domains", "-o", "wide"])).stdout;
        assert.match(wide, /\s127\.0\.0\.1:2222->22\/tcp\s/);
        const dom = JSON.parse((await lv.ok(["get", "domain", "test-vm", "-o", "json"])).stdout);
        const forwarded = dom.status.conditions.find((c: { type: string }) => c.type === "PortsForwarded");
        assert.equal(forwarded?.status, "True", JSON.stringify(forwarded));
      },
    );

    await t.step(
      "a forwarder killed with kill -9 is started again by the next lv command, and reported",
      async () => {
        const pid = forwarderPid(lv.home)!;
        Deno.kill(pid, "SIGKILL");
        await waitFor(
          () => listening(FORWARDED).then((l) => !l),
          "the killed forwarder's port is closed",
          10_000,
        );
        const r = await lv.ok(["get", "domains"]);
        assert.match(r.stderr, new RegExp(`ForwarderRestarted: port forwarder pid ${pid} was gone`));
        assert.notEqual(forwarderPid(lv.home), pid);
        assert.match(await banner(FORWARDED), /^SSH-2\.0-OpenSSH/);
        const events = (await lv.ok(["describe", "domain", "test-vm"])).stdout;
        assert.match(events, /ForwarderRestarted/);
      },
    );

    await t.step("lv port-forward forwards until Ctrl-C and leaves nothing", async () => {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", `${ROOT}mod.ts`, "port-forward", "test-vm", "2223:22"],
        env: { LV_HOME: lv.home },
        cwd: ROOT,
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      const first = await out.read();
      assert.equal(first.value, "Forwarding from 127.0.0.1:2223->22/tcp\n");
      assert.match(await banner(2223), /^SSH-2\.0-OpenSSH/);
      child.kill("SIGINT");
      const status = await child.status;
      await out.cancel(); // the piped stdout (locked by the reader)
      const stderr = await new Response(child.stderr).text();
      assert.equal(status.code, 0, stderr);
      assert.equal(await listening(2223), false);
    });

    await t.step("lv cp copies a directory into the guest and a file out of it", async () => {
      await lv.ok(["cp", "-r", "examples/machine-files", "test-vm:/tmp"]);
      assert.equal(
        await sshOut("cat /tmp/machine-files/hello.txt"),
        Deno.readTextFileSync(new URL("../../examples/machine-files/hello.txt", import.meta.url)),
      );
      const dir = Deno.makeTempDirSync();
      try {
        await lv.ok(["cp", "test-vm:/etc/hostname", dir]);
        assert.equal(Deno.readTextFileSync(`${dir}/hostname`), "test-vm\n");
        const refused = await lv.run(["cp", "test-vm:/tmp/machine-files", dir]);
        assert.equal(refused.code, 1);
        assert.match(refused.stderr, /\/tmp\/machine-files is a directory \(use -r\)/);
      } finally {
        Deno.removeSync(dir, { recursive: true });
      }
    });

    await t.step("lv ssh passes the command's exit code through, and its input as ssh does", async () => {
      assert.equal((await lv.run(["ssh", "test-vm", "--", "exit 3"])).code, 3);
      // Input not a terminal: no pseudo-terminal, the input streamed to the command (lost before).
      const r = await lv.ok(["ssh", "test-vm", "--", "cat; test -t 0 || echo no-tty"], { stdin: "héllo\n" });
      assert.equal(r.stdout, "héllo\nno-tty\n");
      // No command: the login shell reads its commands from the input, without a terminal: no echo of the
      // input, no prompt (the box's motd first, as plain ssh shows it).
      const shell = (await lv.ok(["ssh", "test-vm"], { stdin: "echo from-stdin\n" })).stdout;
      assert.ok(shell.endsWith("\nfrom-stdin\n") && !shell.includes("echo from-stdin"), shell);
    });

    await t.step("ssh-config makes plain OpenSSH work, with the pinned host key", async () => {
      const config = `${lv.home}/ssh_config`;
      Deno.writeTextFileSync(config, (await lv.ok(["ssh-config", "test-vm"])).stdout);
      const r = await run("ssh", ["-F", config, "test-vm", "hostname"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), "test-vm");
      // insertKey: the guest now takes a key of its own (0600 under LV_HOME), no longer the box's.
      const identity = Deno.readTextFileSync(config).match(/IdentityFile (\S+)/)![1];
      assert.ok(identity.startsWith(`${lv.home}/keys/`), identity);
      assert.equal(Deno.statSync(identity).mode! & 0o777, 0o600);
      const login = async (key: string) =>
        (await run("ssh", [
          ...["-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no"],
          ...["-o", "UserKnownHostsFile=/dev/null", "-i", key, "vagrant@10.20.30.40", "true"],
        ])).code;
      assert.equal(await login(identity), 0, "lv's key logs in");
      assert.notEqual(
        await login(`${Deno.env.get("LV_TEST_BOX_DIR")}/vagrant_key`),
        0,
        "the box's key no longer does",
      );
    });

    await t.step("a second apply of the unchanged file reports unchanged and touches nothing", async () => {
      lv.virshCalls();
      const r = await lv.ok(["apply", "-f", MACHINE]);
      assert.equal(
        r.stdout,
        "box/debian12 unchanged\nnetwork/test-net unchanged\ndomain/test-vm unchanged\n",
      );
      assert.deepEqual(mutating(lv.virshCalls()), []);
    });

    await t.step("lv provision runs the provisioners again, streaming their output", async () => {
      const r = await lv.ok(["provision", "test-vm", "--timeout=3m"]);
      assert.match(r.stderr, /provisioner ran 2 time\(s\)/);
      assert.equal((await sshOut("wc -l < /var/log/lv-provision-runs")).trim(), "2");
    });

    await t.step("halt and up change virsh domstate; the guest answers again", async () => {
      await timed("halt", () => lv.ok(["halt", "test-vm", "--timeout=3m"]));
      assert.equal((await virsh("domstate", "test-vm")).trim(), "shut off");
      assert.equal(await listening(FORWARDED), false, "halt stops the forwarder");
      assert.equal(forwarderPid(lv.home), undefined);
      const up = await timed("up", () => lv.ok(["up", "test-vm", "--timeout=6m"]));
      assert.equal((await virsh("domstate", "test-vm")).trim(), "running");
      // run: always runs at every boot, run: once does not
      assert.match(up.stderr, /provision\[1\]: unprivileged provisioner ran as vagrant/);
      assert.doesNotMatch(up.stderr, /provision\[0\]/);
      assert.equal((await sshOut("hostname")).trim(), "test-vm");
      assert.match(await banner(FORWARDED), /^SSH-2\.0-OpenSSH/, "up starts it again");
    });

    await t.step("suspend and resume", async () => {
      await lv.ok(["suspend", "test-vm", "--timeout=1m"]);
      assert.equal((await virsh("domstate", "test-vm")).trim(), "paused");
      await lv.ok(["resume", "test-vm", "--timeout=1m"]);
      assert.equal((await virsh("domstate", "test-vm")).trim(), "running");
    });

    await t.step("a snapshot revert restores a file deleted after the snapshot", async () => {
      await lv.ok(["snapshot", "save", "test-vm", "before"]);
      assert.equal((await lv.ok(["snapshot", "list", "test-vm"])).stdout, "before\n");
      assert.match((await lv.ok(["describe", "domain", "test-vm"])).stdout, /Snapshots:\n\s+before\n/);
      await sshOut("sudo rm /etc/lv-provisioned; sync");
      assert.notEqual((await lv.run(["ssh", "test-vm", "--", "test -e /etc/lv-provisioned"])).code, 0);
      await lv.ok(["snapshot", "revert", "test-vm", "before"]);
      await waitFor(
        async () => (await lv.run(["ssh", "test-vm", "--", "test -e /etc/lv-provisioned"])).code === 0,
        "the reverted guest has /etc/lv-provisioned again",
        120_000,
      );
      await lv.ok(["snapshot", "delete", "test-vm", "before"]);
      assert.equal((await lv.ok(["snapshot", "list", "test-vm"])).stdout, "");
    });

    await t.step("reload restarts the domain (new domain id) and the guest comes back", async () => {
      const id = (await virsh("domid", "test-vm")).trim();
      const forwarder = forwarderPid(lv.home);
      await timed("reload", () => lv.ok(["reload", "test-vm", "--timeout=6m"]));
      assert.notEqual((await virsh("domid", "test-vm")).trim(), id);
      assert.equal((await sshOut("hostname")).trim(), "test-vm");
      // The same forwarder, its tunnel opened again to the rebooted guest.
      assert.match(await banner(FORWARDED), /^SSH-2\.0-OpenSSH/);
      assert.equal(forwarderPid(lv.home), forwarder);
    });

    await t.step("a failing provisioner fails the condition with its exit code and last output", async () => {
      const dir = Deno.makeTempDirSync();
      const variant = `${dir}/machine.yaml`;
      Deno.writeTextFileSync(
        variant,
        Deno.readTextFileSync(new URL("../../examples/machine.yaml", import.meta.url))
          .replace("source: machine-files", `source: ${ROOT}examples/machine-files`)
          .replace("path: provision.sh", `path: ${ROOT}examples/provision.sh`)
          .replace(
            "  syncedFolders:",
            `    - type: shell\n      inline: "echo about to fail; exit 7"\n  syncedFolders:`,
          ),
      );
      assert.match((await lv.ok(["apply", "-f", variant])).stdout, /domain\/test-vm configured/);
      const r = await lv.run(["provision", "test-vm", "--timeout=3m"]);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /domain\/test-vm: Ready=False ProvisionFailed: provision\[2\] exited with code 7; last output:\nabout to fail/,
      );
      assert.match((await lv.ok(["get", "domains"])).stdout, /^test-vm\s+Failed\s/m);
      // Back to the example: Ready again, nothing re-run.
      await lv.ok(["apply", "-f", MACHINE, "--timeout=2m"]);
      assert.match((await lv.ok(["get", "domains"])).stdout, /^test-vm\s+Running\s.*True/m);
    });

    await t.step("a changed guest host key is refused", async () => {
      await sshOut("sudo rm -f /etc/ssh/ssh_host_*; sudo ssh-keygen -A; sudo systemctl restart ssh");
      const r = await lv.run(["ssh", "test-vm", "--", "true"]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /host key of 10\.20\.30\.40 changed: expected SHA256:\S+, got SHA256:\S+/);
    });

    await t.step("delete leaves no domain, volume or network of lv's", async () => {
      await timed("delete", () => lv.ok(["delete", "-f", MACHINE, "--timeout=3m"]));
      assert.deepEqual(await virshNames("domains"), before.domains);
      assert.deepEqual(await virshNames("networks"), before.networks);
      assert.deepEqual(await virshNames("volumes"), before.volumes);
      assert.equal(await listening(FORWARDED), false);
      assert.deepEqual([...Deno.readDirSync(`${lv.home}/forwarders`)], [], "no forwarder record or log left");
    });
  } finally {
    console.log(
      `timings (s): ${Object.entries(times).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(", ")}`,
    );
    await lv.run(["delete", "-f", MACHINE, "--ignore-not-found", "--timeout=3m"]);
    lv.cleanup();
  }
});
