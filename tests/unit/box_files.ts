/** Vagrant .box files for tests, made with qemu-img and tar. */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { TINY_IMG } from "./harness.ts";

async function sh(cmd: string, args: string[], cwd?: string): Promise<void> {
  const out = await new Deno.Command(cmd, { args, cwd, stderr: "piped" }).output();
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
}

/**
 * A v2 box in a new directory under `dir`: disk1.qcow2 (1 MiB, from tiny.img) and disk2.qcow2 (2 MiB),
 * with that metadata.json, or the one given.
 */
export async function makeMultiDiskBox(dir: string, metadata?: object): Promise<string> {
  const src = await Deno.makeTempDir({ dir });
  await sh("qemu-img", ["convert", "-O", "qcow2", TINY_IMG, join(src, "disk1.qcow2")]);
  await sh("qemu-img", ["create", "-q", "-f", "qcow2", join(src, "disk2.qcow2"), "2M"]);
  await Deno.writeTextFile(
    join(src, "metadata.json"),
    JSON.stringify(
      metadata ?? {
        provider: "libvirt",
        disks: [{ path: "disk1.qcow2", format: "qcow2" }, { path: "disk2.qcow2" }],
      },
    ),
  );
  const box = join(src, "multi.box");
  await sh("tar", ["-cf", box, "metadata.json", "disk1.qcow2", "disk2.qcow2"], src);
  return box;
}

/** tiny.img's bytes and sha256, for servers that publish it as a box. */
export const TINY_BYTES = await Deno.readFile(TINY_IMG);
export const TINY_SHA256 = createHash("sha256").update(TINY_BYTES).digest("hex");
