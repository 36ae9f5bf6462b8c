/**
 * lv box list / lv box prune: the base volumes of Boxes in the pools lv manages, which volumes use them,
 * and the box volumes no Box owns any more (left by a crash, an older lv, or a store that was reset).
 * Prune removes Boxes nothing uses (their volumes go with them) and those orphans.
 *
 * "Used" counts both lv's view (Volumes backed by the Box, Domains whose box: overlay is still to be
 * made) and libvirt's (any volume whose backing store is one of the box's volumes, lv's or not), so a base
 * volume something still boots from is never pruned.
 */
import type { Box } from "../api/types.ts";
import { isBoxPoolVolumeOf } from "../api/box_volumes.ts";
import { keyOf } from "../store/store.ts";
import { inventory, rowsOf } from "./box_inventory.ts";
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
