/** lv version: lv's version and the libvirt daemon's. */
import { defineCommand } from "../command.ts";
import { VERSION } from "../version.ts";

export const versionCommand = defineCommand({
  name: "version",
  summary: "print lv's and libvirt's versions",
  usage: ["version"],
  description: "Prints lv's version and the libvirt daemon's.",
  flags: {},
  async run({ output, connection, withLibvirt }) {
    output.out(`lv ${VERSION} (deno ${Deno.version.deno}, ${Deno.build.target})\n`);
    const { uri } = await connection();
    try {
      // This machine's daemon is asked over its socket (no virsh, no libvirt classes); any other, or a
      // failure, through virsh.
      const { daemonVersion } = await import("../../libvirt/daemon_version.ts");
      const text = await daemonVersion(uri) ?? await withLibvirt((libvirt) => libvirt.version());
      output.out(`libvirt ${uri}: ${text.split("\n").join("; ")}\n`);
    } catch (e) {
      output.out(`libvirt ${uri}: not reachable (${(e as Error).message})\n`);
    }
  },
});
