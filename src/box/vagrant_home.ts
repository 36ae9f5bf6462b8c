/**
 * Boxes Vagrant already downloaded: `$VAGRANT_HOME/boxes` (default `~/.vagrant.d/boxes`), laid out as
 * `USER-VAGRANTSLASH-NAME/VERSION/libvirt/` (Vagrant before 2.4) or `USER-VAGRANTSLASH-NAME/VERSION/ARCH/libvirt/`
 * (2.4 and later), each an unpacked box (metadata.json, box.img or the disks of a v2 box). A catalog Box
 * whose constraint such a version matches uses it from there, with no request.
 */
import { join } from "node:path";
import { hostArchitecture } from "./catalog.ts";
import { newestFirst, parseVersionConstraint, versionSatisfies } from "../api/vagrant_version.ts";

/** $VAGRANT_HOME, else ~/.vagrant.d. */
export function vagrantHome(env: (name: string) => string | undefined = Deno.env.get): string {
  return env("VAGRANT_HOME") || join(env("HOME") ?? "/root", ".vagrant.d");
}

/** The directory name Vagrant gives a box name: "/" becomes "-VAGRANTSLASH-". */
export function vagrantBoxDirName(name: string): string {
  return name.replaceAll("/", "-VAGRANTSLASH-");
}

/** A box version found in Vagrant's box directory. */
export interface VagrantHomeBox {
  version: string;
  /** The unpacked libvirt box directory. */
  dir: string;
}

/**
 * The newest version of `name` in Vagrant's boxes that has a libvirt box for `arch` (or for no particular
 * architecture) and matches `constraint` (any, when undefined); undefined when there is none.
 */
export async function findVagrantHomeBox(
  name: string,
  options: { constraint?: string; arch?: string; home?: string } = {},
): Promise<VagrantHomeBox | undefined> {
  const root = join(options.home ?? vagrantHome(), "boxes", vagrantBoxDirName(name));
  const arch = options.arch ?? hostArchitecture();
  const parsed = options.constraint ? parseVersionConstraint(options.constraint) : undefined;
  if (parsed && !parsed.ok) return undefined;
  const found: VagrantHomeBox[] = [];
  for (const version of await subdirs(root)) {
    if (parsed?.ok && !versionSatisfies(version, parsed.range)) continue;
    if (!parsed && versionSatisfies(version, "*") === false) continue;
    for (const dir of [join(root, version, arch, "libvirt"), join(root, version, "libvirt")]) {
      if (await isFile(join(dir, "metadata.json"))) {
        found.push({ version, dir });
        break;
      }
    }
  }
  return found.sort((a, b) => newestFirst(a.version, b.version))[0];
}

async function subdirs(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) if (entry.isDirectory) out.push(entry.name);
  } catch { /* no such box */ }
  return out;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}
