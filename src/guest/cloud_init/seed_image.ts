/**
 * The NoCloud seed as a file: an ISO 9660 image labelled `cidata` holding meta-data, user-data and
 * network-config, made with genisoimage (Debian package genisoimage).
 *
 * Why an ISO made by genisoimage: an ISO on a read-only CD-ROM is the form every cloud image's kernel and
 * cloud-init read (the cloud-init project's own `cloud-localds` makes it with genisoimage, with these flags);
 * genisoimage is one small binary. xorriso makes the same image but pulls in libburn/libisoburn; a vfat
 * image (mtools) would be a writable disk rather than a CD-ROM.
 *
 * @module
 */
import type { SeedContent } from "./seed_content.ts";

/** The volume label cloud-init's NoCloud datasource looks for. */
export const SEED_LABEL = "cidata";

/** The argv that makes the image `out` from the files in `dir`. */
export function seedImageArgs(dir: string, out: string): string[] {
  return [
    "genisoimage",
    "-quiet",
    "-output",
    out,
    "-volid",
    SEED_LABEL,
    "-joliet",
    "-rock",
    `${dir}/user-data`,
    `${dir}/meta-data`,
    `${dir}/network-config`,
  ];
}

/**
 * Writes the seed image for `content` to a new temporary file (0600: the user data holds the guest's SSH
 * host key) and returns its path; the caller removes it. Rejects naming genisoimage's error.
 */
export async function writeSeedImage(content: SeedContent): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "lv-seed-" });
  try {
    await Deno.writeTextFile(`${dir}/user-data`, content.userData, { mode: 0o600 });
    await Deno.writeTextFile(`${dir}/meta-data`, content.metaData, { mode: 0o600 });
    await Deno.writeTextFile(`${dir}/network-config`, content.networkConfig, { mode: 0o600 });
    const out = await Deno.makeTempFile({ prefix: "lv-seed-", suffix: ".iso" });
    await Deno.chmod(out, 0o600);
    const [cmd, ...args] = seedImageArgs(dir, out);
    let result: Deno.CommandOutput;
    try {
      result = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    } catch (e) {
      await Deno.remove(out).catch(() => {});
      throw new Error(
        `cannot make the cloud-init seed: ${cmd} not found (install the Debian package genisoimage)`,
        { cause: e },
      );
    }
    if (!result.success) {
      await Deno.remove(out).catch(() => {});
      const err = new TextDecoder().decode(result.stderr).trim();
      throw new Error(`cannot make the cloud-init seed: ${cmd} exited with code ${result.code}: ${err}`);
    }
    return out;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
