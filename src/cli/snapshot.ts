/** lv snapshot save|list|revert|delete NAME [SNAPSHOT]: libvirt snapshots of a Domain lv owns. */
import type { Domain } from "../api/types.ts";
import type { Libvirt } from "../libvirt/libvirt.ts";
import { parseDomainXml } from "../libvirt/xml/domain_xml.ts";
import { CommandFailed, UsageError } from "./errors.ts";
import type { Runtime } from "./runtime.ts";

async function ownedDomain(rt: Runtime, name: string, namespace: string): Promise<Libvirt> {
  const dom = await rt.store.get({ kind: "Domain", namespace, name }) as Domain | undefined;
  if (!dom) throw new CommandFailed(`domain/${name} not found`);
  const libvirt = rt.libvirtFor(dom);
  const xml = await libvirt.domGet(name);
  if (!xml || parseDomainXml(xml).owner?.uid !== dom.metadata.uid) {
    throw new CommandFailed(`libvirt has no domain "${name}" made by lv for domain/${name}`);
  }
  return libvirt;
}

export async function snapshot(rt: Runtime, args: string[], namespace: string): Promise<void> {
  const [action, name, snap] = args;
  const needsSnap = action === "save" || action === "revert" || action === "delete";
  if (!["save", "list", "revert", "delete"].includes(action) || !name || (needsSnap && !snap)) {
    throw new UsageError(
      "usage: lv snapshot save|revert|delete NAME SNAPSHOT, or lv snapshot list NAME",
      "e.g. lv snapshot save web before",
    );
  }
  const libvirt = await ownedDomain(rt, name, namespace);
  switch (action) {
    case "save":
      await libvirt.run(["snapshot-create-as", name, snap, "--description", "made by lv"], {
        what: `Cannot snapshot domain "${name}"`,
      });
      rt.output.out(`domain/${name} snapshot ${snap} saved\n`);
      break;
    case "list":
      for (const s of await libvirt.snapshotList(name)) rt.output.out(`${s}\n`);
      break;
    case "revert":
      await libvirt.run(["snapshot-revert", name, snap], {
        what: `Cannot revert domain "${name}" to ${snap}`,
      });
      rt.output.out(`domain/${name} reverted to ${snap}\n`);
      break;
    case "delete":
      await libvirt.run(["snapshot-delete", name, snap], {
        what: `Cannot delete snapshot ${snap} of "${name}"`,
      });
      rt.output.out(`domain/${name} snapshot ${snap} deleted\n`);
      break;
  }
}
