/**
 * What a Domain attaches, ready before it is defined: its disks (the Volumes, created, with their paths)
 * and its networks (active, with the static IPs reserved). A missing one is a WaitingError naming it.
 */
import { boxVolumeName } from "../../api/box_volumes.ts";
import { isTrue } from "../../api/conditions.ts";
import { assignDiskDevices, BOX_DISK_DEVICE } from "../../api/defaults.ts";
import type { Domain, Network, Volume } from "../../api/types.ts";
import type { DomainXmlDisk, DomainXmlInterface } from "../../libvirt/xml/domain_xml.ts";
import { type ControllerContext, WaitingError } from "../context.ts";

/** The Domain's disks as libvirt gets them: the box overlay, its own disks, then the box's further disks. */
export async function resolveDisks(
  ctx: ControllerContext,
  dom: Domain,
  boxDiskVolumes: string[],
): Promise<DomainXmlDisk[]> {
  // Validation names every disk's device; objects written another way get the same names here.
  const own = assignDiskDevices(dom.spec.disks, { taken: dom.spec.box ? [BOX_DISK_DEVICE] : [] });
  // A box's further disks come after the domain's own (whose names validation fixed without knowing them).
  const boxRest = assignDiskDevices(
    boxDiskVolumes.map((volume) => ({
      volume,
      bus: "virtio" as const,
      device: undefined as string | undefined,
    })),
    { taken: [BOX_DISK_DEVICE, ...own.map((d) => d.device!)] },
  );
  const wanted = [
    ...(dom.spec.box
      ? [{ volume: boxVolumeName(dom.metadata.name), bus: "virtio" as const, device: BOX_DISK_DEVICE }]
      : []),
    ...own,
    ...boxRest,
  ];
  const disks: DomainXmlDisk[] = [];
  for (const disk of wanted) {
    const vol = await ctx.store.get({
      kind: "Volume",
      namespace: dom.metadata.namespace,
      name: disk.volume,
    }) as
      | Volume
      | undefined;
    if (!vol || !isTrue(vol.status, "Ready") || !vol.status.path) {
      throw new WaitingError("WaitingForVolume", `waiting for volume/${disk.volume} to be created`, 1000);
    }
    disks.push({
      path: vol.status.path,
      format: vol.spec.format,
      device: disk.device!,
      bus: disk.bus,
      cache: ("cache" in disk && disk.cache) || dom.spec.volumeCache,
    });
  }
  return disks;
}

/** The Networks the Domain's interfaces use, by name, each active and with its static IPs reserved. */
export async function readyNetworks(
  ctx: ControllerContext,
  dom: Domain,
  nics: DomainXmlInterface[],
): Promise<Map<string, Network>> {
  const networks = new Map<string, Network>();
  for (const [i, nic] of dom.spec.interfaces.entries()) {
    if (!nic.network) continue;
    const net = await ctx.store.get({
      kind: "Network",
      namespace: dom.metadata.namespace,
      name: nic.network,
    }) as
      | Network
      | undefined;
    if (!net || !isTrue(net.status, "Ready")) {
      throw new WaitingError("WaitingForNetwork", `waiting for network/${nic.network} to be active`, 1000);
    }
    if (nic.ip && net.spec.dhcp.enabled && !net.status.reservations?.includes(`${nics[i].mac}=${nic.ip}`)) {
      throw new WaitingError(
        "WaitingForNetwork",
        `waiting for network/${nic.network} to reserve ${nic.ip} for ${nics[i].mac}`,
        1000,
      );
    }
    networks.set(nic.network, net);
  }
  return networks;
}
