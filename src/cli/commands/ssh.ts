/** lv ssh NAME [-- CMD] and lv ssh-config NAME: the guest over SSH, its host key pinned. */
import { defineCommand } from "../command.ts";
import { UsageError } from "../errors.ts";

export const sshCommand = defineCommand({
  name: "ssh",
  summary: "a shell on the guest, or one command (its exit code is lv's)",
  synopsis: ["NAME [-- CMD]"],
  usage: ["ssh NAME [-- COMMAND...]"],
  description:
    `Opens a shell on the guest (a real TTY when stdin is one), or runs COMMAND and exits with its exit code.
As with ssh, without a TTY when stdin is not one, lv's stdin goes to COMMAND (lv ssh web -- 'cat > f' < f) or
to the shell (lv ssh web < script.sh).
The guest's host key is the one pinned at first contact; a changed key is an error.`,
  args: [{ name: "NAME", kind: "domain" }],
  flags: {},
  examples: ["lv ssh web", "lv ssh web -- uname -a", "tar cf - src | lv ssh web -- tar xf - -C /tmp"],
  async run({ flags, args, rest, withRuntime }) {
    if (args.length !== 1) {
      throw new UsageError("lv ssh takes one domain name", "e.g. lv ssh web -- uname -a");
    }
    const { ssh } = await import("../ssh.ts");
    return await withRuntime((rt) => ssh(rt, args[0], flags.namespace, rest));
  },
});

export const sshConfigCommand = defineCommand({
  name: "ssh-config",
  summary: "OpenSSH config for the guest: lv ssh-config web >> ~/.ssh/config",
  synopsis: ["NAME"],
  usage: ["ssh-config NAME..."],
  description:
    `Prints an OpenSSH config block per domain (address, user, key, pinned host key), so plain ssh, scp and
rsync work: lv ssh-config web >> ~/.ssh/config && ssh web`,
  args: [{ name: "NAME", kind: "domain", repeatable: true }],
  flags: {},
  examples: ["lv ssh-config web >> ~/.ssh/config"],
  async run({ flags, args, withRuntime }) {
    if (args.length === 0) throw new UsageError("no domain named", "e.g. lv ssh-config web >> ~/.ssh/config");
    const { sshConfig } = await import("../ssh.ts");
    await withRuntime((rt) => sshConfig(rt, args, flags.namespace));
  },
});
