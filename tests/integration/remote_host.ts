/**
 * A second machine for remote-hypervisor tests, made of namespaces: the lab's network namespace (where
 * libvirtd, its bridges and the guests are) becomes the "hypervisor" with an sshd of its own on a veth
 * address, and a new network namespace is the "workstation" lv runs in. The workstation reaches the
 * hypervisor's sshd and nothing else: guests on the hypervisor's private networks only through it.
 */
import { run, waitFor } from "./helpers.ts";

export interface RemoteHost {
  /** The hypervisor's address as the workstation sees it. */
  address: string;
  port: number;
  /** A private key root@address accepts. */
  keyFile: string;
  /** root's password on the hypervisor (the lab's private copy of /etc/shadow). */
  password: string;
  /** Another sshd on the same address, on a host without libvirtd (no socket under /run/libvirt). */
  bareHostPort: number;
  /** The workstation's network namespace: run lv with `ip netns exec <netns>`. */
  netns: string;
  /** Stops what lv left running in the workstation (ssh connection masters), by PID. */
  stopWorkstationProcesses(): Promise<void>;
  /** Restarts sshd with a new host key (a reinstalled host, or a man in the middle). */
  changeHostKey(): Promise<void>;
  stop(): Promise<void>;
}

async function sh(cmd: string, ...args: string[]): Promise<string> {
  const r = await run(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

async function stop(pid: number): Promise<void> {
  try {
    Deno.kill(pid, "SIGTERM");
  } catch { /* gone */ }
  await waitFor(
    async () => {
      try {
        await Deno.stat(`/proc/${pid}`);
        return false;
      } catch {
        return true;
      }
    },
    `sshd ${pid} stopped`,
    10_000,
  );
}

export async function startRemoteHost(): Promise<RemoteHost> {
  const dir = Deno.makeTempDirSync({ prefix: "lv-remote-" });
  const netns = `lvws-${Deno.pid}`;
  const [hvIf, wsIf] = [`lvhv${Deno.pid % 100000}`, `lvws${Deno.pid % 100000}`];
  const address = "10.251.0.1", port = 2222, password = "correct horse 'battery' $staple";
  await sh("ip", "netns", "add", netns);
  await sh("ip", "link", "add", hvIf, "type", "veth", "peer", "name", wsIf);
  await sh("ip", "link", "set", wsIf, "netns", netns);
  await sh("ip", "addr", "add", `${address}/30`, "dev", hvIf);
  await sh("ip", "link", "set", hvIf, "up");
  await sh("ip", "-n", netns, "addr", "add", "10.251.0.2/30", "dev", wsIf);
  await sh("ip", "-n", netns, "link", "set", wsIf, "up");
  await sh("ip", "-n", netns, "link", "set", "lo", "up");

  await sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", `${dir}/client_key`);
  Deno.copyFileSync(`${dir}/client_key.pub`, `${dir}/authorized_keys`);
  // root gets a password in a copy of /etc/shadow mounted over it in the lab's private mount namespace.
  const hash = (await run("openssl", ["passwd", "-6", "-stdin"], { stdin: password })).stdout.trim();
  if (!hash.startsWith("$6$")) throw new Error("openssl passwd -6 gave no hash");
  const shadow = Deno.readTextFileSync("/etc/shadow").replace(/^root:[^:]*:/m, () => `root:${hash}:`);
  Deno.writeTextFileSync(`${dir}/shadow`, shadow, { mode: 0o600 });
  await sh("mount", "--bind", `${dir}/shadow`, "/etc/shadow");
  Deno.mkdirSync("/run/sshd", { recursive: true });

  const config = (p: number, key: string, pidFile: string) =>
    [
      `Port ${p}`,
      `ListenAddress ${address}`,
      `HostKey ${key}`,
      `AuthorizedKeysFile ${dir}/authorized_keys`,
      "PermitRootLogin yes",
      "PasswordAuthentication yes",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      "StrictModes no",
      "AllowTcpForwarding yes",
      `PidFile ${pidFile}`,
      "",
    ].join("\n");
  const pidOf = async (file: string) => {
    await waitFor(
      async () => {
        try {
          return (await Deno.readTextFile(file)).trim() !== "";
        } catch {
          return false;
        }
      },
      `sshd wrote ${file}`,
      10_000,
    );
    return Number(Deno.readTextFileSync(file).trim());
  };
  // The host without libvirtd: sshd in a mount namespace where /run/libvirt is empty.
  const bareHostPort = 2223;
  await sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", `${dir}/bare_key`);
  Deno.writeTextFileSync(`${dir}/bare_config`, config(bareHostPort, `${dir}/bare_key`, `${dir}/bare.pid`));
  await sh(
    "unshare",
    "-m",
    "--propagation",
    "private",
    "sh",
    "-c",
    `mount -t tmpfs lv-no-libvirt /run/libvirt && exec /usr/sbin/sshd -f ${dir}/bare_config -E ${dir}/bare.log`,
  );
  const barePid = await pidOf(`${dir}/bare.pid`);

  let pid = 0;
  const start = async () => {
    try {
      Deno.removeSync(`${dir}/host_key`);
      Deno.removeSync(`${dir}/host_key.pub`);
    } catch { /* first start */ }
    await sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", `${dir}/host_key`);
    Deno.writeTextFileSync(`${dir}/sshd_config`, config(port, `${dir}/host_key`, `${dir}/sshd.pid`));
    await sh("/usr/sbin/sshd", "-f", `${dir}/sshd_config`, "-E", `${dir}/sshd.log`);
    pid = await pidOf(`${dir}/sshd.pid`);
  };
  const stopSshd = async () => {
    if (!pid) return;
    await stop(pid);
    try {
      Deno.removeSync(`${dir}/sshd.pid`);
    } catch { /* sshd removed it */ }
    pid = 0;
  };
  // ssh connection masters lv leaves behind (ControlPersist) run in the workstation namespace.
  const stopWorkstationProcesses = async () => {
    for (const p of (await run("ip", ["netns", "pids", netns])).stdout.split("\n").filter((l) => l)) {
      try {
        Deno.kill(Number(p), "SIGTERM");
      } catch { /* gone */ }
    }
  };
  await start();
  return {
    address,
    port,
    keyFile: `${dir}/client_key`,
    password,
    netns,
    changeHostKey: async () => {
      await stopSshd();
      await start();
    },
    bareHostPort,
    stopWorkstationProcesses,
    stop: async () => {
      await stopSshd();
      await stop(barePid);
      await stopWorkstationProcesses();
      await run("umount", ["/etc/shadow"]);
      await run("ip", ["link", "del", hvIf]);
      await run("ip", ["netns", "del", netns]);
      Deno.removeSync(dir, { recursive: true });
    },
  };
}
