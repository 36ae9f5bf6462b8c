/**
 * An unprivileged user for rootless tests, made inside the lab's private mount namespace only: copies of
 * /etc/passwd and /etc/group with the user added are bind-mounted over the real ones (nothing outside the
 * lab sees the user), with a home, an XDG_RUNTIME_DIR and a copy of Deno's npm cache, so `lv` runs as that
 * user with no root anywhere. The session libvirtd and virtlogd that
 * libvirt starts for the user are stopped by their PID files.
 */
import { Lv, run, waitFor } from "./helpers.ts";

/** The user's own libvirt. */
export const SESSION = "qemu:///session";

export interface RootlessUser {
  name: string;
  uid: number;
  home: string;
  /** The user's XDG_RUNTIME_DIR (libvirt's session socket is under it). */
  runtimeDir: string;
  /** An Lv whose commands run as the user (its LV_HOME is the user's). */
  lv: Lv;
  /** Runs a command as the user, with the user's environment. */
  run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

async function sh(cmd: string, ...args: string[]): Promise<string> {
  const r = await run(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

async function denoDir(): Promise<string> {
  return JSON.parse(await sh(Deno.execPath(), "info", "--json")).denoDir;
}

async function stopPidFile(file: string): Promise<void> {
  let pid: number;
  try {
    pid = Number((await Deno.readTextFile(file)).trim());
  } catch {
    return; // never started
  }
  try {
    Deno.kill(pid, "SIGTERM");
  } catch {
    return; // gone
  }
  await waitFor(
    async () => !(await Deno.stat(`/proc/${pid}`).catch(() => undefined)),
    `${file} stopped`,
    20_000,
  );
}

export async function rootlessUser(name = "lvrootless", uid = 64123): Promise<RootlessUser> {
  // Short: the session's sockets live under the home, and a UNIX socket path has at most 107 bytes.
  const base = await Deno.makeTempDir({ prefix: "lvr" });
  await Deno.chmod(base, 0o755);
  const home = `${base}/h`, runtimeDir = `${base}/run`, cache = `${base}/deno`;
  for (const d of [home, runtimeDir, cache]) await Deno.mkdir(d);
  await Deno.chmod(runtimeDir, 0o700);
  await Deno.writeTextFile(
    `${base}/passwd`,
    `${await Deno.readTextFile("/etc/passwd")}${name}:x:${uid}:${uid}:lv rootless test:${home}:/bin/sh\n`,
  );
  await Deno.writeTextFile(`${base}/group`, `${await Deno.readTextFile("/etc/group")}${name}:x:${uid}:\n`);
  const mounts: string[] = [];
  const bind = async (from: string, to: string) => {
    await sh("mount", "--bind", from, to);
    mounts.push(to);
  };
  await bind(`${base}/passwd`, "/etc/passwd");
  await bind(`${base}/group`, "/etc/group");
  // The npm packages lv imports, the user's own copy (some files in the cache are root's, mode 0600).
  await sh("cp", "-a", `${await denoDir()}/npm`, `${cache}/npm`);
  const lv = new Lv();
  await sh("chown", "-R", `${uid}:${uid}`, home, runtimeDir, cache, lv.home);
  const asUser = [
    "setpriv",
    `--reuid=${uid}`,
    `--regid=${uid}`,
    "--clear-groups",
    "env",
    `HOME=${home}`,
    `USER=${name}`,
    `XDG_RUNTIME_DIR=${runtimeDir}`,
    `DENO_DIR=${cache}`,
    `LV_CONNECT=${SESSION}`,
  ];
  lv.prefix = asUser;
  return {
    name,
    uid,
    home,
    runtimeDir,
    lv,
    run: (cmd, args) => run(asUser[0], [...asUser.slice(1), cmd, ...args]),
    async stop() {
      // Guests a failed test left running (lv delete stops them otherwise), then the session's daemons.
      const virsh = (...args: string[]) =>
        run(asUser[0], [...asUser.slice(1), "virsh", "-q", "-c", SESSION, ...args]);
      for (const dom of (await virsh("list", "--name")).stdout.split("\n").filter((l) => l.trim())) {
        await virsh("destroy", dom.trim());
      }
      for (const daemon of ["libvirtd", "virtlogd"]) await stopPidFile(`${runtimeDir}/libvirt/${daemon}.pid`);
      for (const m of mounts.reverse()) await sh("umount", m);
      lv.cleanup();
      await Deno.remove(base, { recursive: true });
    },
  };
}
