/** lv cp SRC DST: files between this host and a guest, over SFTP. */
import { defineCommand } from "../command.ts";
import { UsageError } from "../errors.ts";

export const cpCommand = defineCommand({
  name: "cp",
  summary: "copy files to or from a guest (NAME:PATH), over SFTP",
  synopsis: ["SRC DST"],
  usage: ["cp [-r] LOCAL NAME:PATH", "cp [-r] NAME:PATH LOCAL"],
  description:
    `Copies a file (a directory with -r) from this host into the guest of domain NAME, or from the guest to this
host, over SFTP on lv's SSH connection (lv's key, the pinned host key; through the libvirt host for a remote
context). As scp: a destination that is an existing directory receives the source under its own name. In the
guest, files are read and written as the SSH user (spec.ssh.user); a relative PATH is in its home.`,
  args: [{ name: "SRC", kind: "file" }, { name: "DST", kind: "file" }],
  flags: {
    recursive: { type: "boolean", short: "r", description: "copy directories and what they hold" },
  },
  examples: ["lv cp ./site.conf web:/tmp/site.conf", "lv cp web:/etc/hostname .", "lv cp -r ./app web:/tmp"],
  async run({ flags, args, withRuntime }) {
    if (args.length !== 2) {
      throw new UsageError("lv cp takes a source and a destination", "e.g. lv cp ./x web:/tmp/x");
    }
    const { copy, copyDirection } = await import("../cp.ts");
    const direction = copyDirection(args[0], args[1]);
    await withRuntime((rt) =>
      copy(rt, direction, { namespace: flags.namespace, recursive: flags.recursive === true })
    );
  },
});
