/**
 * The forwarder and lv cp's SFTP against a real OpenSSH sshd in the lab (no guest boot): this namespace's
 * sshd stands in for the guest's. A supervised forwarder process (lv port-forward --supervised) carries
 * connections to it, opens its tunnel again after sshd restarts (as after a guest reboot), is started again
 * after kill -9 and stops leaving nothing; the tunnel also goes through a jump host (a remote context's libvirt
 * host); files and directories go both ways over SFTP.
 */
import assert from "node:assert/strict";
import { banner, listening } from "./tcp_probe.ts";
import { join } from "node:path";
import {
  ensureForwarder,
  type ForwarderConfig,
  forwarderLog,
  stopForwarder,
} from "../../src/guest/forwarder/forwarder_supervisor.ts";
import { PortForwarder } from "../../src/guest/forwarder/port_forwarder.ts";
import { type ForwardTarget, sshTunnelOpener } from "../../src/guest/forwarder/ssh_tunnel.ts";
import { GuestConnection } from "../../src/guest/ssh_client.ts";
import { download, upload } from "../../src/guest/copy_files.ts";
import { sftpFiles } from "../../src/guest/sftp_files.ts";
import { exists, requireLab, ROOT, run, waitFor } from "./helpers.ts";
import { checkoutForwarders } from "../unit/forwarder_fixture.ts";
import { validateResource } from "../../src/api/validate.ts";
import { openStore, selectStoreUrl } from "../../src/cli/open_store.ts";
import { writeStatus } from "../../src/controller/object_ops.ts";

const SSHD_PORT = 2022;
const processes = checkoutForwarders();

interface Sshd {
  dir: string;
  target: ForwardTarget;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function sh(cmd: string, ...args: string[]): Promise<void> {
  const r = await run(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
}

/** Processes whose parent is `pid`, and theirs (sshd's per-connection processes), by PID. */
function descendants(pid: number): number[] {
  const children: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) children.push(Number(e.name));
    } catch { /* gone meanwhile */ }
  }
  return children.flatMap((c) => [c, ...descendants(c)]);
}

async function startSshd(): Promise<Sshd> {
  const dir = Deno.makeTempDirSync({ prefix: "lv-fwd-" });
  await sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", `${dir}/host_key`);
  await sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", `${dir}/client_key`);
  Deno.copyFileSync(`${dir}/client_key.pub`, `${dir}/authorized_keys`);
  Deno.mkdirSync("/run/sshd", { recursive: true });
  Deno.writeTextFileSync(
    `${dir}/sshd_config`,
    [
      `Port ${SSHD_PORT}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${dir}/host_key`,
      `AuthorizedKeysFile ${dir}/authorized_keys`,
      "PermitRootLogin prohibit-password",
      "PasswordAuthentication no",
      "UsePAM no",
      "StrictModes no",
      "AllowTcpForwarding yes",
      "Subsystem sftp internal-sftp",
      `PidFile ${dir}/sshd.pid`,
      "",
    ].join("\n"),
  );
  const pid = () => Number(Deno.readTextFileSync(`${dir}/sshd.pid`).trim());
  const start = async () => {
    await sh("/usr/sbin/sshd", "-f", `${dir}/sshd_config`, "-E", `${dir}/sshd.log`);
    await waitFor(() => Promise.resolve(exists(`${dir}/sshd.pid`)), "sshd wrote its pid file", 10_000);
  };
  // Its sessions go too, as when a guest reboots (a plain sshd restart keeps them).
  const stop = async () => {
    const p = pid();
    const all = [...descendants(p), p];
    for (const q of all) {
      try {
        Deno.kill(q, "SIGTERM");
      } catch { /* gone */ }
    }
    await waitFor(
      () => Promise.resolve(all.every((q) => !exists(`/proc/${q}`))),
      `sshd ${p} stopped`,
      10_000,
    );
    try {
      Deno.removeSync(`${dir}/sshd.pid`);
    } catch { /* sshd removed it */ }
  };
  await start();
  const [type, blob] = Deno.readTextFileSync(`${dir}/host_key.pub`).split(" ");
  return {
    dir,
    target: {
      host: "127.0.0.1",
      port: SSHD_PORT,
      user: "root",
      keyFile: `${dir}/client_key`,
      hostKey: `${type} ${blob}`,
    },
    async restart() {
      await stop();
      await start();
    },
    async stop() {
      await stop();
      Deno.removeSync(dir, { recursive: true });
    },
  };
}

Deno.test("a supervised forwarder reaches a real sshd, survives its restart, is revived after kill -9, stops clean", async () => {
  requireLab();
  const sshd = await startSshd();
  const home = Deno.makeTempDirSync({ prefix: "lv-fwd-home-" });
  const uid = `fwd-${crypto.randomUUID()}`;
  const config: ForwarderConfig = {
    uid,
    name: "web",
    namespace: "default",
    ports: [{ host: 2122, guest: SSHD_PORT, hostIp: "127.0.0.1", protocol: "tcp" }],
    target: sshd.target,
    logFile: forwarderLog(home, uid),
  };
  try {
    const started = await ensureForwarder(home, { uid, config }, processes);
    assert.equal(started.action, "started");
    const pid = (started as { pid: number }).pid;
    assert.match(await banner(2122), /^SSH-2\.0-OpenSSH/);

    await sshd.restart(); // the tunnel under the forwarder drops, as at a guest reboot
    assert.match(await banner(2122), /^SSH-2\.0-OpenSSH/);
    assert.equal(
      (await ensureForwarder(home, { uid, config }, processes)).action,
      "running",
      "the same process",
    );
    assert.match(Deno.readTextFileSync(config.logFile), /tunnel 1 closed[\s\S]*tunnel 2 open/);

    Deno.kill(pid, "SIGKILL");
    await waitFor(() => Promise.resolve(!processes.alive(pid, uid)), "the killed forwarder is dead", 10_000);
    const revived = await ensureForwarder(home, { uid, config }, processes);
    assert.equal(revived.action, "revived");
    assert.match(await banner(2122), /^SSH-2\.0-OpenSSH/);

    assert.equal(await stopForwarder(home, uid, processes), true);
    assert.equal(await listening(2122), false);
    assert.equal(processes.alive((revived as { pid: number }).pid, uid), false);
  } finally {
    await stopForwarder(home, uid, processes);
    Deno.removeSync(home, { recursive: true });
    await sshd.stop();
  }
});

Deno.test("the forwarder's tunnel goes through a jump host, as for a remote context", async () => {
  requireLab();
  const sshd = await startSshd();
  const forwarder = new PortForwarder(
    [{ host: 2123, guest: SSHD_PORT, hostIp: "127.0.0.1", protocol: "tcp" }],
    sshTunnelOpener({
      ...sshd.target,
      via: {
        host: "127.0.0.1",
        port: SSHD_PORT,
        user: "root",
        privateKeyFile: sshd.target.keyFile,
        knownHostsFile: `${sshd.dir}/known_hosts`,
        proxyCommand: "",
      },
    }),
  );
  forwarder.listen();
  const serving = forwarder.serve();
  try {
    assert.match(await banner(2123), /^SSH-2\.0-OpenSSH/);
    assert.match(
      Deno.readTextFileSync(`${sshd.dir}/sshd.log`),
      /Accepted publickey for root[\s\S]*Accepted publickey/,
    );
  } finally {
    forwarder.close();
    await serving;
    await sshd.stop();
  }
});

Deno.test("lv cp's copying over a real SFTP session, both ways", async () => {
  requireLab();
  const sshd = await startSshd();
  const local = Deno.makeTempDirSync({ prefix: "lv-cp-" });
  const conn = await GuestConnection.connect({
    ...sshd.target,
    privateKey: Deno.readTextFileSync(sshd.target.keyFile),
    pinnedHostKey: sshd.target.hostKey,
  });
  try {
    const sftp = await conn.sftp();
    const files = sftpFiles(sftp);
    Deno.mkdirSync(join(local, "app/sub"), { recursive: true });
    Deno.writeTextFileSync(join(local, "app/a"), "A");
    Deno.writeTextFileSync(join(local, "app/sub/b"), "B");
    Deno.chmodSync(join(local, "app/a"), 0o751);
    const remote = join(sshd.dir, "guest");
    Deno.mkdirSync(remote);
    await upload(files, join(local, "app"), remote, { recursive: true });
    assert.equal(Deno.readTextFileSync(join(remote, "app/sub/b")), "B");
    assert.equal(Deno.statSync(join(remote, "app/a")).mode! & 0o777, 0o751);
    Deno.mkdirSync(join(local, "back"));
    await download(files, join(remote, "app"), join(local, "back"), { recursive: true });
    assert.equal(Deno.readTextFileSync(join(local, "back/app/a")), "A");
    assert.equal(Deno.readTextFileSync(join(local, "back/app/sub/b")), "B");
    await download(files, join(remote, "app/a"), join(local, "one"));
    assert.equal(Deno.readTextFileSync(join(local, "one")), "A");
    assert.equal(await files.stat(join(remote, "nothing")), undefined);
    sftp.end();
  } finally {
    conn.close();
    Deno.removeSync(local, { recursive: true });
    await sshd.stop();
  }
});

Deno.test("lv port-forward NAME HOST:GUEST forwards until SIGINT, exits 0 and leaves the port free", async () => {
  requireLab();
  const sshd = await startSshd();
  const home = Deno.makeTempDirSync({ prefix: "lv-pf-home-" });
  const store = await openStore(selectStoreUrl({}, home));
  try {
    const { resource } = validateResource({
      apiVersion: "lv.dev/v1alpha1",
      kind: "Domain",
      metadata: { name: "web" },
      spec: { ssh: { user: "root", port: SSHD_PORT, privateKey: sshd.target.keyFile } },
    });
    const dom = await store.create(resource!);
    await writeStatus(store, dom, (s) => {
      Object.assign(s, {
        state: "running",
        guest: { address: "127.0.0.1" },
        sshHostKey: sshd.target.hostKey,
      });
    });
  } finally {
    await store.close();
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}mod.ts`, "port-forward", "web", `2124:${SSHD_PORT}`],
    env: { LV_HOME: home },
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    assert.equal((await out.read()).value, "Forwarding from 127.0.0.1:2124->2022/tcp\n");
    assert.match(await banner(2124), /^SSH-2\.0-OpenSSH/);
    child.kill("SIGINT");
    const status = await child.status;
    await out.cancel();
    const stderr = await new Response(child.stderr).text();
    assert.equal(status.code, 0, stderr);
    assert.equal(await listening(2124), false);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    Deno.removeSync(home, { recursive: true });
    await sshd.stop();
  }
});
