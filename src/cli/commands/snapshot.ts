/** lv snapshot save|list|revert|delete NAME [SNAPSHOT]: libvirt snapshots of a domain. */
import { defineCommand } from "../command.ts";

export const snapshotCommand = defineCommand({
  name: "snapshot",
  summary: "libvirt snapshots of a domain",
  synopsis: ["save|list|revert|delete NAME [SNAPSHOT]"],
  usage: ["snapshot save NAME SNAPSHOT | list NAME | revert NAME SNAPSHOT | delete NAME SNAPSHOT"],
  description: "libvirt snapshots (internal, qcow2) of a domain lv made. describe lists them too.",
  subcommands: [
    { name: "save", summary: "take a snapshot", args: [domain(), snap()] },
    { name: "list", summary: "list a domain's snapshots", args: [domain()] },
    { name: "revert", summary: "go back to a snapshot", args: [domain(), snap()] },
    { name: "delete", summary: "delete a snapshot", args: [domain(), snap()] },
  ],
  flags: {},
  examples: ["lv snapshot save web before-upgrade", "lv snapshot revert web before-upgrade"],
  async run({ flags, args, withRuntime }) {
    const { snapshot } = await import("../snapshot.ts");
    await withRuntime((rt) => snapshot(rt, args, flags.namespace));
  },
});

function domain() {
  return { name: "NAME", kind: "domain" } as const;
}

function snap() {
  return { name: "SNAPSHOT", kind: "snapshot" } as const;
}
