/**
 * A volume's bytes written by lv itself instead of streamed through libvirtd (`virsh vol-upload`): on a local
 * libvirt whose volume file this process may write, `cp` puts the file into it (sparse, reflinked where the
 * filesystem can). That is what vol-upload writes, at the speed of a copy: no stream through virsh and
 * libvirtd (bench item 4). vagrant-libvirt and terraform-provider-libvirt always stream.
 *
 * libvirt must see the same file before and after: the size libvirt reports of the volume's file has to be
 * the size of the file at that path here before the copy (the volume just created), and the copied size
 * after it. Anything else (a file system or mount namespace lv does not share with libvirtd, a path that is
 * not a plain file, a copy that failed) leaves the caller to upload the usual way, which rewrites the volume.
 */
import { whileChildReads } from "./read_progress.ts";

/** What the copy asks of libvirt (a `Libvirt`): its URI and virsh commands' output. */
export interface VolumeHost {
  readonly uri: string;
  run(args: string[]): Promise<string>;
}

/** A libvirt on this machine (its unix socket): its volume paths are paths here. */
const LOCAL_URI = /^qemu(\+unix)?:\/\/\/(system|session)(\?.*)?$/;

/** The size libvirt reports of a volume's file (`vol-info --physical`), in bytes. */
async function physicalSize(libvirt: VolumeHost, pool: string, name: string): Promise<number | undefined> {
  const info = await libvirt.run(["vol-info", "--pool", pool, name, "--bytes", "--physical"]);
  const bytes = info.match(/^Physical:\s+(\d+) bytes$/m)?.[1];
  return bytes === undefined ? undefined : Number(bytes);
}

/**
 * Copies `file` (of `size` bytes) into volume `name` of `pool`; true when libvirt then sees the copy. With
 * `onRead`, reports how far `cp` has read the file while it runs.
 */
export async function copyIntoVolume(
  libvirt: VolumeHost,
  target: { pool: string; name: string },
  file: string,
  size: number,
  onRead?: (bytes: number) => void,
  pollMs?: number,
): Promise<boolean> {
  if (!LOCAL_URI.test(libvirt.uri)) return false;
  const { pool, name } = target;
  const path = (await libvirt.run(["vol-path", "--pool", pool, name])).trim();
  let here: Deno.FileInfo;
  try {
    here = await Deno.stat(path);
  } catch {
    return false; // not visible here: never create a file libvirt would not know
  }
  if (!here.isFile || here.size !== await physicalSize(libvirt, pool, name)) return false;
  const copy = new Deno.Command("cp", {
    args: ["--sparse=always", "--reflink=auto", "--", file, path],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  });
  const match = (argv: string[]) => argv[0] === "cp" && argv.includes(file);
  const copied =
    (await whileChildReads({ match, file, onOffset: onRead, pollMs }, () => copy.output())).success;
  return copied && await physicalSize(libvirt, pool, name) === size;
}
