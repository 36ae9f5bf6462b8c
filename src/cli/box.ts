/**
 * lv box list / lv box prune: the base volumes of Boxes in the pools lv manages, which volumes use them,
 * and the box volumes no Box owns any more (left by a crash, an older lv, or a store that was reset).
 * Prune removes Boxes nothing uses (their volumes go with them) and those orphans.
 *
 * "Used" counts both lv's view (Volumes backed by the Box, Domains whose box: overlay is still to be
 * made) and libvirt's (any volume whose backing store is one of the box's volumes, lv's or not), so a base
 * volume something still boots from is never pruned.
 */
import type { AnyResource, Box, Volume } from "../api/types.ts";
import { boxDisks, boxPoolVolumeDisk, isBoxPoolVolume, isBoxPoolVolumeOf } from "../api/box_volumes.ts";
import type { Libvirt } from "../libvirt/libvirt.ts";
import { VirshError } from "../libvirt/virsh.ts";
import { parseVolumeXml, type VolumeXmlState } from "../libvirt/xml/volume_xml.ts";
import { keyOf } from "../store/store.ts";
import { deleteObjects } from "./delete.ts";
import { UsageError } from "./errors.ts";
import { bytes, renderTable } from "./printers.ts";
import { formatBytes } from "./progress.ts";
import type { Runtime } from "./runtime.ts";

export interface BoxListOptions {
  /** table (default), wide (adds ALLOCATION and PATH) or json. */
  output?: "table" | "wide" | "json";
  /** Every context (-A), with a CONTEXT column; else only the selected context. */
  allContexts?: boolean;
}

export interface BoxPruneOptions {
  /** Say what would be removed; remove nothing. */
  dryRun?: boolean;
  /** How long to wait for pruned Boxes to be deleted. Default 10 minutes. */
  timeoutMs?: number;
  /** Every context (-A); else only the selected context. */
  allContexts?: boolean;
}

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

// ------------------------------------------------------------------ what is there

/** libvirt as lv sees it: the pools lv manages on one connection, and their volumes. */
interface Side {
  context: string;
  libvirt: Libvirt;
  pools: Map<string, VolumeXmlState[]>;
  /** Volumes by path, over every pool of this connection: to find what a base volume backs. */
  byBacking: Map<string, { pool: string; volume: VolumeXmlState }[]>;
}

interface Inventory {
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
async function inventory(rt: Runtime, allContexts: boolean): Promise<Inventory> {
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
function rowsOf(inv: Inventory, rt: Runtime): BoxVolumeRow[] {
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

// ------------------------------------------------------------------ lv box list

/** Prints every Box's base volumes per pool, and orphaned box volumes, with what uses each. */
export async function boxList(rt: Runtime, options: BoxListOptions = {}): Promise<void> {
  const inv = await inventory(rt, !!options.allContexts);
  for (const p of inv.problems) rt.output.err(`lv: cannot list ${p}\n`);
  const rows = rowsOf(inv, rt);
  if (options.output === "json") {
    rt.output.out(
      JSON.stringify({ items: rows.map((r) => ({ ...r, orphan: r.box === undefined })) }, null, 2) + "\n",
    );
    return;
  }
  if (rows.length === 0) {
    rt.output.err("No boxes found.\n");
    return;
  }
  const wide = options.output === "wide";
  const withContext = !!options.allContexts;
  const withNamespace = rows.some((r) => r.namespace !== undefined && r.namespace !== "default");
  const table = [[
    ...(withContext ? ["CONTEXT"] : []),
    ...(withNamespace ? ["NAMESPACE"] : []),
    "BOX",
    "POOL",
    "VOLUME",
    "DISK",
    "FORMAT",
    "SIZE",
    ...(wide ? ["ALLOCATION", "PATH"] : []),
    "USED-BY",
  ]];
  for (const r of rows) {
    const missing = r.box !== undefined && r.volume !== "" && r.path === undefined;
    table.push([
      ...(withContext ? [r.context || "-"] : []),
      ...(withNamespace ? [r.namespace ?? ""] : []),
      r.box ?? "<none>",
      r.pool,
      r.volume || "<none>",
      r.disk === undefined ? "" : String(r.disk),
      r.format ?? "",
      missing ? "<missing>" : bytes(r.capacity),
      ...(wide ? [missing ? "" : bytes(r.allocation), r.path ?? ""] : []),
      r.usedBy.length > 0 ? r.usedBy.join(",") : "<none>",
    ]);
  }
  rt.output.out(renderTable(table));
}

// ------------------------------------------------------------------ lv box prune

/** Removes Boxes nothing uses (and with them their volumes) and orphaned box volumes nothing uses. */
export async function boxPrune(rt: Runtime, options: BoxPruneOptions = {}): Promise<void> {
  const inv = await inventory(rt, !!options.allContexts);
  for (const p of inv.problems) rt.output.err(`lv: cannot list ${p} (skipped)\n`);
  const rows = rowsOf(inv, rt);
  const dry = options.dryRun ? " (dry run)" : "";

  // Boxes: every volume of the box unused, and not already being deleted.
  const unused: Box[] = [];
  for (const box of inv.boxes) {
    if (box.metadata.deletionTimestamp) continue;
    // Where libvirt could not be read, what its volumes back is unknown: keep the box.
    if (inv.unread.has(`${rt.contextOf(box) ?? ""}\0${box.spec.pool}`)) continue;
    const own = rows.filter((r) =>
      r.box === box.metadata.name && r.namespace === box.metadata.namespace &&
      r.context === (rt.contextOf(box) ?? "")
    );
    if (own.every((r) => r.usedBy.length === 0)) unused.push(box);
  }
  // Orphans: no Box records them, nothing is backed by them, and no Box would use the name (a same-named
  // volume lv did not make, NameConflict, is for its owner to remove).
  const orphans = rows.filter((r) => {
    if (r.box !== undefined || r.usedBy.length > 0) return false;
    return !inv.boxes.some((b) =>
      (rt.contextOf(b) ?? "") === r.context && b.spec.pool === r.pool &&
      isBoxPoolVolumeOf(b.metadata.name, r.volume)
    );
  });

  if (unused.length === 0 && orphans.length === 0) {
    rt.output.out("Nothing to prune.\n");
    return;
  }
  let freed = 0;
  for (const r of orphans) {
    if (!options.dryRun) {
      const side = inv.sides.find((s) => s.context === r.context)!;
      await side.libvirt.volDelete(r.pool, r.volume);
    }
    freed += r.allocation ?? 0;
    rt.output.out(
      `volume ${r.volume} deleted from pool ${r.pool}${
        r.context ? ` (context ${r.context})` : ""
      }: no Box owns it${dry}\n`,
    );
  }
  for (const box of unused) {
    const vols = rows.filter((r) => r.box === box.metadata.name && r.namespace === box.metadata.namespace);
    freed += vols.reduce((n, r) => n + (r.allocation ?? 0), 0);
    const names = vols.filter((r) => r.path !== undefined).map((r) => r.volume);
    if (options.dryRun) {
      rt.output.out(
        `box/${box.metadata.name} deleted${
          names.length ? ` (volumes ${names.join(", ")} in pool ${box.spec.pool})` : ""
        }${dry}\n`,
      );
    }
  }
  if (!options.dryRun && unused.length > 0) {
    // Through the store and the controllers, as lv delete: the Box's finalizer removes its volumes.
    await deleteObjects(rt, unused.map(keyOf), {
      wait: true,
      timeoutMs: options.timeoutMs ?? 600_000,
      ignoreNotFound: true,
    });
  }
  rt.output.out(
    `${options.dryRun ? "Would prune" : "Pruned"} ${unused.length} box${
      unused.length === 1 ? "" : "es"
    } and ${orphans.length} orphaned volume${orphans.length === 1 ? "" : "s"}, ${
      formatBytes(freed)
    } on disk${dry}\n`,
  );
}

/** `lv box list|prune`, after argument parsing: checks the subcommand and its flags, then runs it. */
export async function boxCommand(
  rt: Runtime,
  sub: string | undefined,
  options: { output?: string; allContexts?: boolean; dryRun?: boolean; timeoutMs?: number },
): Promise<void> {
  if (sub === "list") {
    if (options.dryRun) throw new UsageError("--dry-run is a flag of lv box prune");
    const output = options.output ?? "table";
    if (output !== "table" && output !== "wide" && output !== "json") {
      throw new UsageError(
        `-o ${output} is not an output format of lv box list`,
        "use one of: table, wide, json",
      );
    }
    return await boxList(rt, { output, allContexts: options.allContexts });
  }
  if (sub === "prune") {
    if (options.output !== undefined) throw new UsageError("-o is a flag of lv box list");
    return await boxPrune(rt, options);
  }
  throw new UsageError(
    sub ? `unknown box subcommand "${sub}"` : "lv box needs a subcommand",
    "use lv box list or lv box prune [--dry-run]",
  );
}
