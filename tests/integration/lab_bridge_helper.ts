/**
 * qemu-bridge-helper made usable by an unprivileged user, inside the lab's private mount namespace only
 * (nothing outside the lab changes): /etc/qemu/bridge.conf allowing one bridge (an overlay on /etc, with the
 * lab's /etc/libvirt bound again on top), a setuid-root copy of Debian's helper (Debian ships it without the
 * bit) bound over /usr/lib/qemu/qemu-bridge-helper, and a /dev/net/tun node of mode 0666 bound over this
 * machine's, which is 0600 (the helper drops to the calling user, keeping only CAP_NET_ADMIN, before it opens
 * /dev/net/tun; Debian's udev makes the node 0666). Call before rootlessUser(), whose binds sit on /etc.
 */
import { run } from "./helpers.ts";

export const HELPER = "/usr/lib/qemu/qemu-bridge-helper";

async function sh(cmd: string, ...args: string[]): Promise<void> {
  const r = await run(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
}

export interface LabBridgeHelper {
  /** Unmounts what it mounted (in reverse) and removes its files. */
  stop(): Promise<void>;
}

export async function labBridgeHelper(bridge: string): Promise<LabBridgeHelper> {
  const labEtc = Deno.env.get("LV_LAB_DIR");
  if (!labEtc) throw new Error("labBridgeHelper needs scripts/lab.sh (LV_LAB_DIR)");
  const base = await Deno.makeTempDir({ prefix: "lv-bridge-helper-" });
  await Deno.chmod(base, 0o755);
  const mounts: string[] = [];
  const mount = async (args: string[], at: string) => {
    await sh("mount", ...args, at);
    mounts.push(at);
  };
  try {
    await Deno.mkdir(`${base}/upper/qemu`, { recursive: true });
    await Deno.mkdir(`${base}/work`);
    await Deno.writeTextFile(`${base}/upper/qemu/bridge.conf`, `allow ${bridge}\n`);
    await mount([
      "-t",
      "overlay",
      "overlay",
      "-o",
      `lowerdir=/etc,upperdir=${base}/upper,workdir=${base}/work`,
    ], "/etc");
    await mount(["--bind", `${labEtc}/etc`], "/etc/libvirt");
    await Deno.copyFile(HELPER, `${base}/qemu-bridge-helper`);
    await Deno.chmod(`${base}/qemu-bridge-helper`, 0o4755);
    await mount(["--bind", `${base}/qemu-bridge-helper`], HELPER);
    await sh("mknod", "-m", "0666", `${base}/tun`, "c", "10", "200");
    await mount(["--bind", `${base}/tun`], "/dev/net/tun");
  } catch (e) {
    for (const m of mounts.reverse()) await run("umount", [m]);
    throw e;
  }
  return {
    async stop() {
      for (const m of mounts.reverse()) await sh("umount", m);
      await Deno.remove(base, { recursive: true });
    },
  };
}
