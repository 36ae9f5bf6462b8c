/** lv version: lv's version and the libvirt daemon's. */
import { defineCommand } from "../command.ts";
import { VERSION } from "../version.ts";

export const versionCommand = defineCommand({
  name: "version",
  summary: "print lv's and libvirt's versions",
  usage: ["version"],
  description: "Prints lv's version and the libvirt daemon's.",
  flags: {},
  async run({ output, withRuntime }) {
    output.out(`lv ${VERSION} (deno ${Deno.version.deno}, ${Deno.build.target})\n`);
    await withRuntime(async (rt) => {
      try {
        output.out(`libvirt ${rt.libvirt.uri}: ${(await rt.libvirt.version()).split("\n").join("; ")}\n`);
      } catch (e) {
        output.out(`libvirt ${rt.libvirt.uri}: not reachable (${(e as Error).message})\n`);
      }
    });
  },
});
