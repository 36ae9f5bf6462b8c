/**
 * A Box's catalog source (USER/NAME or a metadata JSON URL) pinned to one version: resolved once through
 * the catalog and kept in status.version until spec.source or spec.version changes, so an unreachable
 * catalog never blocks a Box whose version is already known.
 */
import type { Box, BoxVersionStatus } from "../api/types.ts";
import { BoxFetchError } from "../box/box_fault.ts";
import { boxServerUrl, isCatalogName, isMetadataUrl, resolveCatalog } from "../box/catalog.ts";
import { findVagrantHomeBox } from "../box/vagrant_home.ts";
import { type ControllerContext, RetryableError, TerminalError } from "./context.ts";
import { writeStatus } from "./object_ops.ts";

/** What to fetch: the spec's own source, or the pinned version's .box URL. */
export interface FetchTarget {
  source: string;
  checksum?: string;
  version?: BoxVersionStatus;
}

/**
 * Whether a Box's source goes through a catalog: USER/NAME, a URL ending in .json, or any http(s) URL with a
 * version constraint (a self-hosted catalog's metadata, wherever it is served).
 */
export function isCatalogSource(box: Box): boolean {
  return isCatalogName(box.spec.source) || isMetadataUrl(box.spec.source) ||
    (box.spec.version !== undefined && /^https?:\/\//i.test(box.spec.source));
}

/** The version status.version holds, when it was resolved for the current spec. */
export function pinnedVersion(box: Box): BoxVersionStatus | undefined {
  const v = box.status.version;
  return v && v.source === box.spec.source && v.constraint === box.spec.version ? v : undefined;
}

/** The catalog server for a controller context: $LV_BOX_SERVER_URL, the config file, Vagrant's catalog. */
export function serverFor(ctx: ControllerContext): string {
  return boxServerUrl(ctx.boxServerUrl);
}

/**
 * What the Box downloads: its source as given, or, for a catalog source, the pinned version (resolving and
 * recording it first when the spec changed). Catalog faults become Box conditions naming the reason.
 */
export async function fetchTarget(ctx: ControllerContext, box: Box): Promise<FetchTarget> {
  if (!isCatalogSource(box)) return { source: box.spec.source, checksum: box.spec.checksum };
  const version = pinnedVersion(box) ?? await pinVersion(ctx, box);
  // A box from Vagrant's directory is used as it is there: the catalog's checksum was checked by Vagrant.
  const checksum = version.from === FROM_VAGRANT_HOME ? undefined : box.spec.checksum ?? version.checksum;
  return { source: version.url, checksum, version };
}

/**
 * A catalog Box uploaded for a spec that has changed since (source or version): pinned again. Another
 * version than the one uploaded moves the Box to it as `lv box update` does (new base volumes beside the
 * old ones, which stay for the overlays on them); the same version only records the new spec.
 */
export async function repinChangedSpec(ctx: ControllerContext, box: Box): Promise<void> {
  if (box.status.version && isCatalogSource(box) && !pinnedVersion(box)) await pinVersion(ctx, box);
}

/** Resolves the spec's version (Vagrant's boxes first, then the catalog) and records it in status.version. */
async function pinVersion(ctx: ControllerContext, box: Box): Promise<BoxVersionStatus> {
  const before = box.status.version;
  const next = await fromVagrantHome(box) ?? await fromCatalog(ctx, box);
  const moved = box.status.volume !== undefined && before !== undefined &&
    (before.version !== next.version || before.url !== next.url);
  const record = (status: Box["status"]) => {
    status.version = next;
    if (moved) moveToVersion(status as Box["status"], box.metadata.name, next.version);
  };
  await writeStatus(ctx.store, box, (status) => record(status as Box["status"]));
  record(box.status);
  const wanted = `${box.spec.source}${box.spec.version ? ` (${box.spec.version})` : ""}`;
  const where = next.from === FROM_VAGRANT_HOME ? `${next.url}, already downloaded by Vagrant` : next.url;
  await ctx.event(box, "Normal", "Resolved", `${wanted} is version ${next.version}: ${where}`);
  return next;
}

/**
 * Points a Box's status at a new version's volumes (box-NAME-vVERSION) and forgets what it recorded as
 * uploaded, so the controller uploads that version beside the old volumes; those stay while overlays use
 * them and `lv box prune` removes them after.
 */
export function moveToVersion(status: Box["status"], boxName: string, version: string): void {
  status.volumeBase = `box-${boxName}-v${version}`;
  for (
    const field of [
      "volume",
      "path",
      "format",
      "virtualSize",
      "disks",
      "sha256",
      "privateKey",
      "usedBy",
    ] as const
  ) {
    delete status[field];
  }
}

/** status.version.from of a box found in $VAGRANT_HOME/boxes. */
export const FROM_VAGRANT_HOME = "vagrant-home";

/** A matching version Vagrant already downloaded (catalog names only: a metadata URL names no box). */
async function fromVagrantHome(box: Box): Promise<BoxVersionStatus | undefined> {
  if (!isCatalogName(box.spec.source)) return undefined;
  const found = await findVagrantHomeBox(box.spec.source, { constraint: box.spec.version });
  if (!found) return undefined;
  return {
    version: found.version,
    url: found.dir,
    from: FROM_VAGRANT_HOME,
    source: box.spec.source,
    constraint: box.spec.version,
  };
}

async function fromCatalog(ctx: ControllerContext, box: Box): Promise<BoxVersionStatus> {
  let resolved;
  try {
    resolved = await resolveCatalog(box.spec.source, {
      server: serverFor(ctx),
      constraint: box.spec.version,
    });
  } catch (e) {
    throw asBoxCondition(e);
  }
  return {
    version: resolved.version,
    url: resolved.url,
    checksum: resolved.checksum,
    from: resolved.catalog,
    source: box.spec.source,
    constraint: box.spec.version,
  };
}

/** A catalog or download fault as the error the manager turns into the Box's Ready condition. */
export function asBoxCondition(e: unknown): unknown {
  if (!(e instanceof BoxFetchError)) return e;
  if (e.terminal) return new TerminalError(e.reason, e.message);
  return new RetryableError(e.reason, e.message, { cause: e });
}

/**
 * A Box's origin for lv box list: `generic/debian12 4.3.12` from a catalog, `generic/debian12 4.3.12 (vagrant)`
 * from $VAGRANT_HOME, else the source (only its file name unless `full`).
 */
export function boxOrigin(box: Box, full = false): string {
  const v = box.status.version;
  if (v) return `${box.spec.source} ${v.version}${v.from === FROM_VAGRANT_HOME ? " (vagrant)" : ""}`;
  return full ? box.spec.source : box.spec.source.replace(/[?#].*$/, "").split("/").pop() || box.spec.source;
}
