/**
 * The cloud-init NoCloud seed of a Domain with `spec.cloudInit`: an ISO volume in the Domain's pool, named
 * `<domain>-cidata-<digest>.iso` after its contents, attached as a read-only CD-ROM. A change of the seed's
 * contents gives a new volume (so the definition changes: a next-boot change, RestartRequired while the
 * domain runs) with a new instance-id inside (cloud-init runs its per-instance modules again at that boot);
 * the previous seed volume is deleted once the definition no longer names it. status.cloudInitSeed records
 * the volume uploaded whole: only that one is trusted, and only that one is deleted with the Domain.
 */
import { deviceName } from "../../api/defaults.ts";
import type { Domain, Network } from "../../api/types.ts";
import { isQ35 } from "../../api/validate_machine.ts";
import { seedContent, type SeedInterface } from "../../guest/cloud_init/seed_content.ts";
import { writeSeedImage } from "../../guest/cloud_init/seed_image.ts";
import { hostKeyPath, seedKeys } from "../../guest/cloud_init/seed_keys.ts";
import { readUserDataFile } from "../../manifest/user_data_file.ts";
import { isUserDataPath } from "../../manifest/user_data_text.ts";
import { formatProblem } from "../../api/problem.ts";
import { staticInterfaces } from "../../guest/network/static_interfaces.ts";
import type { DomainXmlCdrom } from "../../libvirt/xml/domain_devices_xml.ts";
import type { DomainXmlInterface } from "../../libvirt/xml/domain_xml.ts";
import { parseVolumeXml, volumeXml } from "../../libvirt/xml/volume_xml.ts";
import { type ControllerContext, TerminalError } from "../context.ts";
import { ensurePool } from "../storage.ts";

/** The seed as the domain definition attaches it, and what status records of it. */
export interface Seed {
  cdrom: DomainXmlCdrom;
  /** status.cloudInitSeed: the volume uploaded whole. */
  volume: string;
  instanceId: string;
}

/** IDE names for the seed on pc, the secondary master (hdc, the kernel's ata_piix driver) first. */
const IDE_SEED_DEVICES = ["hdc", "hdd", "hda", "hdb"];

/**
 * Target of the seed CD-ROM: on pc the first free IDE name from hdc (as it always was); on q35, which has no
 * IDE, and on pc when all four IDE names are taken, a virtio-scsi CD-ROM with the first `sd` name no disk or
 * CD-ROM of the domain (`taken`) uses. Not SATA: Debian's cloud kernel has no AHCI driver (a q35 guest never
 * saw a SATA seed), while virtio_scsi and sr_mod are in every Debian kernel.
 */
export function seedDevice(
  machineType: string | undefined,
  taken: Iterable<string>,
): Omit<DomainXmlCdrom, "path"> {
  const used = new Set(taken);
  const ide = isQ35(machineType) ? undefined : IDE_SEED_DEVICES.find((d) => !used.has(d));
  if (ide !== undefined) return { device: ide, bus: "ide", format: "raw" };
  let i = 0;
  while (used.has(deviceName("sd", i))) i++;
  return { device: deviceName("sd", i), bus: "scsi", format: "raw" };
}

/** spec.cloudInit.userData with a file path read; a #cloud-config file that is not a YAML mapping is terminal. */
async function userData(dom: Domain): Promise<Record<string, unknown> | string | undefined> {
  const value = dom.spec.cloudInit?.userData;
  if (typeof value !== "string" || !isUserDataPath(value)) return value;
  const { text, problems } = await readUserDataFile(value);
  if (problems.length > 0) throw new TerminalError("InvalidUserData", formatProblem(problems[0]));
  return text;
}

/**
 * Makes the Domain's seed volume when its contents changed or it was never uploaded whole; returns what the
 * definition attaches. Undefined for a Domain without spec.cloudInit.
 */
export async function ensureSeed(
  ctx: ControllerContext,
  dom: Domain,
  parts: {
    nics: DomainXmlInterface[];
    networks: Map<string, Network>;
    /** Device names of the domain's disks and CD-ROMs: the seed takes another. */
    taken: string[];
  },
): Promise<Seed | undefined> {
  if (!dom.spec.cloudInit) return undefined;
  const data = await userData(dom);
  // User data given as text is the whole user-data: lv's keys are not in it, so lv makes none (it would log
  // in with a key the guest does not have, and pin a host key the guest never got).
  const keys = typeof data === "string" ? undefined : await seedKeys(ctx.home, dom);
  const statics = new Map(staticInterfaces(dom, parts.nics, parts.networks).map((s) => [s.mac, s]));
  const interfaces: SeedInterface[] = parts.nics.map((nic) => {
    const fixed = statics.get(nic.mac);
    return fixed ? { mac: nic.mac, address: fixed.address, prefix: fixed.prefix } : { mac: nic.mac };
  });
  const content = seedContent({
    uid: dom.metadata.uid,
    hostname: dom.spec.hostname ?? dom.metadata.name,
    user: dom.spec.ssh.user,
    authorizedKey: keys?.authorizedKey,
    hostKey: keys?.hostKey,
    interfaces,
    userData: data,
    networkConfig: dom.spec.cloudInit.networkConfig,
  });
  const pool = dom.spec.storagePoolName;
  const volume = `${dom.metadata.name}-cidata-${content.instanceId.slice(-12)}.iso`;
  const lv = ctx.libvirtFor(dom);
  if (dom.status.cloudInitSeed?.volume !== volume || !(await lv.volGet(pool, volume))) {
    await ensurePool(lv, pool); // a Domain without disks may be the first to use it
    const file = await writeSeedImage(content);
    try {
      await lv.volDelete(pool, volume); // a part-made one from an interrupted pass
      const size = (await Deno.stat(file)).size;
      await lv.volCreate(pool, volumeXml({ name: volume, capacityBytes: size, format: "raw" }));
      await lv.volUpload(pool, volume, file);
    } finally {
      await Deno.remove(file).catch(() => {});
    }
    await ctx.event(
      dom,
      "Normal",
      "SeedCreated",
      `cloud-init seed ${volume} uploaded to pool ${pool} (instance-id ${content.instanceId})`,
    );
  }
  const path = parseVolumeXml((await lv.volGet(pool, volume))!).path;
  const cdrom = { path, ...seedDevice(dom.spec.machineType, parts.taken) };
  return { cdrom, volume, instanceId: content.instanceId };
}

/** Deletes a seed volume the Domain no longer attaches (the one status recorded before this pass). */
export async function dropOldSeed(
  ctx: ControllerContext,
  dom: Domain,
  seed: Seed | undefined,
): Promise<void> {
  const old = dom.status.cloudInitSeed?.volume;
  if (!old || old === seed?.volume) return;
  await ctx.libvirtFor(dom).volDelete(dom.spec.storagePoolName, old);
}

/** With the Domain: its recorded seed volume and the host key lv made for it go. */
export async function deleteSeed(ctx: ControllerContext, dom: Domain): Promise<void> {
  const old = dom.status.cloudInitSeed?.volume;
  if (old) await ctx.libvirtFor(dom).volDelete(dom.spec.storagePoolName, old);
  await Deno.remove(hostKeyPath(ctx.home, dom)).catch(() => {});
}
