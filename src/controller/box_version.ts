/**
 * A Box's catalog source (USER/NAME or a metadata JSON URL) pinned to one version: resolved once through
 * the catalog and kept in status.version until spec.source or spec.version changes, so an unreachable
 * catalog never blocks a Box whose version is already known.
 */
import type { Box, BoxVersionStatus } from "../api/types.ts";
import { BoxFetchError } from "../box/box_fault.ts";
import { boxServerUrl, isCatalogName, isMetadataUrl, resolveCatalog } from "../box/catalog.ts";
import { type ControllerContext, RetryableError, TerminalError } from "./context.ts";
import { writeStatus } from "./object_ops.ts";

/** What to fetch: the spec's own source, or the pinned version's .box URL. */
export interface FetchTarget {
  source: string;
  checksum?: string;
  version?: BoxVersionStatus;
}

/** Whether a Box's source goes through a catalog. */
export function isCatalogSource(box: Box): boolean {
  return isCatalogName(box.spec.source) || isMetadataUrl(box.spec.source);
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
  let version = pinnedVersion(box);
  if (!version) {
    let resolved;
    try {
      resolved = await resolveCatalog(box.spec.source, {
        server: serverFor(ctx),
        constraint: box.spec.version,
      });
    } catch (e) {
      throw asBoxCondition(e);
    }
    version = {
      version: resolved.version,
      url: resolved.url,
      checksum: resolved.checksum,
      from: resolved.catalog,
      source: box.spec.source,
      constraint: box.spec.version,
    };
    const pinned = version;
    await writeStatus(ctx.store, box, (status) => {
      status.version = pinned;
    });
    box.status.version = pinned;
    await ctx.event(
      box,
      "Normal",
      "Resolved",
      `${box.spec.source}${
        box.spec.version ? ` (${box.spec.version})` : ""
      } is version ${pinned.version}: ${pinned.url}`,
    );
  }
  return { source: version.url, checksum: box.spec.checksum ?? version.checksum, version };
}

/** A catalog or download fault as the error the manager turns into the Box's Ready condition. */
export function asBoxCondition(e: unknown): unknown {
  if (!(e instanceof BoxFetchError)) return e;
  if (e.terminal) return new TerminalError(e.reason, e.message);
  return new RetryableError(e.reason, e.message, { cause: e });
}
