/**
 * What lv box list and prune look at: the Boxes, Volumes and Domains in the store and, per connection, the
 * pools lv manages with every volume; each base volume as a row with what uses it.
 */
import type { AnyResource, Box, Volume } from "../api/types.ts";
import { boxDisks, boxPoolVolumeDisk, isBoxPoolVolume } from "../api/box_volumes.ts";
import type { Libvirt } from "../libvirt/libvirt.ts";
import { VirshError } from "../libvirt/virsh.ts";
import { parseVolumeXml, type VolumeXmlState } from "../libvirt/xml/volume_xml.ts";
import type { Runtime } from "./runtime.ts";

/** One base volume: of a Box (box set), or an orphan (box undefined). */
export interface BoxVolumeRow {
  /** Context name; "" where a bare URI points. */
  context: string;
  namespace?: string;
  /** The Box; undefined for an orphan. */
  box?: string;
  pool: string;
  volume: string;
  /** Which disk of the box (1-based); undefined for an orphan. */
  disk?: number;
  /** undefined when the Box records a volume libvirt no longer has, or has not uploaded it yet. */
  format?: string;
  capacity?: number;
  allocation?: number;
  path?: string;
  /** volume/NAME for lv's Volumes, domain/NAME for a box: overlay still to be made, NAME (libvirt) else. */
  usedBy: string[];
}

/** libvirt as lv sees it: the pools lv manages on one connection, and their volumes. */
interface Side {
  context: string;
  libvirt: Libvirt;
  pools: Map<string, VolumeXmlState[]>;
  /** Volumes by path, over every pool of this connection: to find what a base volume backs. */
  byBacking: Map<string, { pool: string; volume: VolumeXmlState }[]>;
}

export interface Inventory {
  sides: Side[];
  boxes: Box[];
  volumes: Volume[];
  domains: AnyResource[];
  /** Connections or pools that could not be read, for a warning. */
  problems: string[];
  /** `context\0pool` of each pool that could not be read: what is in it is unknown. */
  unread: Set<string>;
}

/**
 * Reads the store and, for each connection, the pools lv manages (those its objects name, and "default")
 * with every volume's XML. All of lv box's libvirt reads happen here.
 */
export async function inventory(rt: Runtime, allContexts: boolean): Promise<Inventory> {
  const selected = rt.connection.context ?? "";
  const inScope = (o: AnyResource) => allContexts || (rt.contextOf(o) ?? "") === selected;
  const boxes = (await rt.store.list("Box")).filter(inScope) as Box[];
  const volumes = (await rt.store.list("Volume")).filter(inScope) as Volume[];
  const domains = (await rt.store.list("Domain")).filter(inScope);
  const wanted = new Map<string, { libvirt: Libvirt; pools: Set<string> }>();
  const want = (context: string, libvirt: () => Libvirt, pool: string) => {
    const side = wanted.get(context) ?? { libvirt: libvirt(), pools: new Set<string>() };
    wanted.set(context, side);
    side.pools.add(pool);
  };
  want(selected, () => rt.libvirt, "default");
  for (const o of [...boxes, ...volumes, ...domains]) {
    const pool = o.kind === "Domain"
      ? o.spec.storagePoolName
      : o.kind === "Network"
      ? undefined
      : o.spec.pool;
    if (pool) want(rt.contextOf(o) ?? "", () => rt.libvirtFor(o), pool);
  }
  const sides: Side[] = [];
  const problems: string[] = [];
  const unread = new Set<string>();
  for (const [context, { libvirt, pools }] of wanted) {
    const side: Side = { context, libvirt, pools: new Map(), byBacking: new Map() };
    for (const pool of [...pools].sort()) {
      let names: string[];
      try {
        names = await libvirt.volList(pool);
      } catch (e) {
        // A pool nothing was created in yet is not a problem; an unreachable host is.
        if (e instanceof VirshError && (e.notFound || /not active/i.test(e.stderr))) continue;
        problems.push(`${context ? `context ${context}, ` : ""}pool "${pool}": ${(e as Error).message}`);
        unread.add(`${context}\0${pool}`);
        continue;
      }
      const states: VolumeXmlState[] = [];
      for (const name of names) {
        const xml = await libvirt.volGet(pool, name);
        if (xml !== undefined) states.push(parseVolumeXml(xml));
      }
      side.pools.set(pool, states);
      for (const volume of states) {
        const backing = volume.backingStore?.path;
        if (backing) side.byBacking.set(backing, [...side.byBacking.get(backing) ?? [], { pool, volume }]);
      }
    }
    sides.push(side);
  }
  return { sides, boxes, volumes, domains, problems, unread };
}

/** The rows of `lv box list`: every Box's volumes, then the orphans. */
export function rowsOf(inv: Inventory, rt: Runtime): BoxVolumeRow[] {
  const rows: BoxVolumeRow[] = [];
  const sideOf = (o: AnyResource) => inv.sides.find((s) => s.context === (rt.contextOf(o) ?? ""));
  const recorded = new Set<string>();
  for (const box of inv.boxes) {
    const side = sideOf(box);
    const pool = box.spec.pool;
    const states = side?.pools.get(pool) ?? [];
    // What lv recorded: every uploaded disk, and one being created. A Box with neither has no volume yet.
    const names = boxDisks(box).map((d) => d.volume);
    if (box.status.pendingVolume && !names.includes(box.status.pendingVolume)) {
      names.push(box.status.pendingVolume);
    }
    if (names.length === 0) {
      rows.push({
        context: side?.context ?? "",
        namespace: box.metadata.namespace,
        box: box.metadata.name,
        pool,
        volume: "",
        usedBy: usersOf(inv, rt, box, 1, undefined),
      });
      continue;
    }
    const diskOf = (name: string) => boxPoolVolumeDisk(box.metadata.name, name);
    names.sort((a, b) => diskOf(a) - diskOf(b));
    for (const name of names) {
      const disk = diskOf(name);
      recorded.add(`${side?.context}\0${pool}\0${name}`);
      const state = states.find((s) => s.name === name);
      rows.push({
        context: side?.context ?? "",
        namespace: box.metadata.namespace,
        box: box.metadata.name,
        pool,
        volume: name,
        disk,
        format: state?.format,
        capacity: state?.capacity,
        allocation: state?.allocation,
        path: state?.path,
        usedBy: usersOf(inv, rt, box, disk, state),
      });
    }
  }
  for (const side of inv.sides) {
    for (const [pool, states] of side.pools) {
      for (const state of states) {
        if (!isBoxPoolVolume(state.name) || recorded.has(`${side.context}\0${pool}\0${state.name}`)) {
          continue;
        }
        rows.push({
          context: side.context,
          pool,
          volume: state.name,
          format: state.format,
          capacity: state.capacity,
          allocation: state.allocation,
          path: state.path,
          usedBy: (side.byBacking.get(state.path) ?? []).map((u) => libvirtUser(inv, rt, side, u)),
        });
      }
    }
  }
  return rows;
}

/** What uses disk `disk` of `box`: lv's Volumes on it, Domains still to get their overlay, other volumes. */
function usersOf(
  inv: Inventory,
  rt: Runtime,
  box: Box,
  disk: number,
  state: VolumeXmlState | undefined,
): string[] {
  const users = new Set<string>();
  const sameNs = (o: AnyResource) =>
    o.metadata.namespace === box.metadata.namespace && (rt.contextOf(o) ?? "") === (rt.contextOf(box) ?? "");
  for (const v of inv.volumes) {
    if (sameNs(v) && v.spec.backingBox === box.metadata.name && (v.spec.backingBoxDisk ?? 1) === disk) {
      users.add(`volume/${v.metadata.name}`);
    }
  }
  if (disk === 1) {
    for (const d of inv.domains) {
      if (d.kind !== "Domain" || !sameNs(d) || d.spec.box !== box.metadata.name) continue;
      // Its overlay Volume is listed above once it exists; until then the Domain itself is the user.
      if (!inv.volumes.some((v) => sameNs(v) && v.metadata.name === d.metadata.name)) {
        users.add(`domain/${d.metadata.name}`);
      }
    }
  }
  const side = inv.sides.find((s) => s.context === (rt.contextOf(box) ?? ""));
  if (state && side) {
    for (const u of side.byBacking.get(state.path) ?? []) users.add(libvirtUser(inv, rt, side, u));
  }
  return [...users].sort();
}

/** A volume backed by a base volume: volume/NAME when it is an lv Volume's, else NAME (libvirt). */
function libvirtUser(
  inv: Inventory,
  rt: Runtime,
  side: Side,
  user: { pool: string; volume: VolumeXmlState },
): string {
  const lv = inv.volumes.find((v) =>
    (rt.contextOf(v) ?? "") === side.context && v.spec.pool === user.pool &&
    (v.status.volume ?? v.metadata.name) === user.volume.name
  );
  return lv ? `volume/${lv.metadata.name}` : `${user.volume.name} (libvirt)`;
}
