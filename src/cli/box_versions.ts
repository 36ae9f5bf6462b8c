/**
 * Box versions from the CLI, as `vagrant box add|outdated|update` do them:
 *
 * - `lv box add USER/NAME [--version C]` fetches a catalog box (or a .box URL) into lv's cache ahead of
 *   time, with the progress bar, so a Box using it later needs no download.
 * - `lv box outdated` lists the Boxes whose constraint now matches a newer version in their catalog.
 * - `lv box update NAME` moves a Box to that version: new overlays get the new base volume, the overlays
 *   already made keep the old one, which stays while they use it and goes with `lv box prune` after.
 */
import { join } from "node:path";
import { setCondition } from "../api/conditions.ts";
import type { Box } from "../api/types.ts";
import { BoxFetchError } from "../box/box_fault.ts";
import { resolveBoxSource } from "../box/box_source.ts";
import {
  boxServerUrl,
  isCatalogName,
  isMetadataUrl,
  resolveCatalog,
  type ResolvedVersion,
} from "../box/catalog.ts";
import { newestFirst, parseVersionConstraint } from "../api/vagrant_version.ts";
import { boxDisks } from "../api/box_volumes.ts";
import { isCatalogSource, moveToVersion } from "../controller/box_version.ts";
import { writeStatus } from "../controller/object_ops.ts";
import { keyOf, type Store } from "../store/store.ts";
import { awaitObjects, readiness } from "./await_objects.ts";
import { CommandFailed, UsageError } from "./errors.ts";
import { renderTable } from "./printers.ts";
import type { Runtime } from "./runtime.ts";

export interface BoxAddOptions {
  /** Vagrant version constraint (catalog sources only). */
  version?: string;
}

/** `lv box add SOURCE [--version C]`: resolves and downloads (and unpacks) into $LV_HOME/cache. */
export async function boxAdd(
  rt: Runtime,
  source: string | undefined,
  options: BoxAddOptions = {},
): Promise<void> {
  if (!source) {
    throw new UsageError("lv box add needs a box: USER/NAME, or the URL of a .box or metadata JSON");
  }
  const catalog = isCatalogName(source) || isMetadataUrl(source) ||
    (options.version !== undefined && /^https?:\/\//i.test(source));
  if (options.version !== undefined) {
    if (!catalog) throw new UsageError("--version needs a catalog box (USER/NAME or a metadata JSON URL)");
    const parsed = parseVersionConstraint(options.version);
    if (!parsed.ok) throw new UsageError(`--version: ${parsed.message}`);
  }
  if (!catalog && !/^https?:\/\//i.test(source)) {
    throw new UsageError(`${source} is neither USER/NAME nor an http(s) URL: a local file needs no adding`);
  }
  let url = source;
  let checksum: string | undefined;
  let what = source;
  if (catalog) {
    const v = await failing(
      resolveCatalog(source, { server: boxServerUrl(rt.boxServerUrl), constraint: options.version }),
    );
    [url, checksum, what] = [v.url, v.checksum, `${source} ${v.version}`];
  }
  const image = await failing(resolveBoxSource(url, checksum, {
    cacheDir: join(rt.home, "cache"),
    progress: (line) => rt.output.err(`${line}\n`),
    onTransfer: rt.output.transfer && ((p) => rt.output.transfer!(what, p)),
  }));
  rt.output.out(
    `${what} is in lv's cache (${image.disks.length} disk${
      image.disks.length === 1 ? "" : "s"
    }, ${image.format}${image.sha256 ? `, sha256 ${image.sha256}` : ""})\n`,
  );
}

/** A catalog fault as a runtime failure (exit 1) that names the reason and URL. */
async function failing<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof BoxFetchError) throw new CommandFailed(`${e.reason}: ${e.message}`);
    throw e;
  }
}

/** A catalog Box, its version now, and the newest its constraint matches (or why that is unknown). */
interface VersionCheck {
  box: Box;
  current?: string;
  newest?: ResolvedVersion;
  error?: string;
}

async function checkVersions(rt: Runtime, boxes: Box[]): Promise<VersionCheck[]> {
  const server = boxServerUrl(rt.boxServerUrl);
  const out: VersionCheck[] = [];
  for (const box of boxes) {
    const current = box.status.version?.version;
    try {
      out.push({
        box,
        current,
        newest: await resolveCatalog(box.spec.source, { server, constraint: box.spec.version }),
      });
    } catch (e) {
      out.push({ box, current, error: e instanceof BoxFetchError ? `${e.reason}: ${e.message}` : String(e) });
    }
  }
  return out;
}

const isNewer = (c: VersionCheck) =>
  c.newest !== undefined && (c.current === undefined || newestFirst(c.newest.version, c.current) < 0);

async function catalogBoxes(rt: Runtime, namespace: string, name?: string): Promise<Box[]> {
  const all = (await rt.store.list("Box", { namespace })) as Box[];
  return all.filter((b) =>
    (name === undefined || b.metadata.name === name) &&
    isCatalogSource(b)
  );
}

/** `lv box outdated`: the catalog Boxes whose constraint matches a newer version than the one they use. */
export async function boxOutdated(rt: Runtime, namespace: string): Promise<void> {
  const checks = await checkVersions(rt, await catalogBoxes(rt, namespace));
  for (const c of checks.filter((c) => c.error)) {
    rt.output.err(`lv: cannot check box/${c.box.metadata.name}: ${c.error}\n`);
  }
  const outdated = checks.filter(isNewer);
  if (outdated.length === 0) {
    rt.output.err(
      checks.length === 0 ? "No boxes from a catalog.\n" : "Every box is on the newest version it allows.\n",
    );
    return;
  }
  const table = [["BOX", "SOURCE", "CONSTRAINT", "CURRENT", "NEWEST"]];
  for (const c of outdated) {
    table.push([
      c.box.metadata.name,
      c.box.spec.source,
      c.box.spec.version ?? "",
      c.current ?? "",
      c.newest!.version,
    ]);
  }
  rt.output.out(renderTable(table));
}

/**
 * `lv box update NAME`: pins the Box to the newest matching version and uploads it under new volume names
 * (box-NAME-vVERSION); overlays already made stay on the old volumes. Waits until the Box is Ready again.
 */
export async function boxUpdate(
  rt: Runtime,
  name: string | undefined,
  options: { namespace: string; timeoutMs: number },
): Promise<void> {
  if (!name) throw new UsageError("lv box update needs the name of a Box");
  const [box] = await catalogBoxes(rt, options.namespace, name);
  if (!box) {
    const exists = await rt.store.get({ kind: "Box", namespace: options.namespace, name });
    throw new CommandFailed(
      exists
        ? `box/${name} is not from a catalog (USER/NAME or a metadata URL): it has one version`
        : `box/${name} not found`,
    );
  }
  const [check] = await checkVersions(rt, [box]);
  if (check.error) throw new CommandFailed(`cannot check box/${name}: ${check.error}`);
  if (!isNewer(check)) {
    rt.output.out(
      `box/${name} is on the newest version "${box.spec.version ?? "any"}" allows (${check.current})\n`,
    );
    return;
  }
  const next = check.newest!;
  const old = boxDisks(box).map((d) => d.volume);
  await startUpdate(rt.store, box, next);
  rt.output.out(
    `box/${name} updated from ${check.current ?? "-"} to ${next.version}${
      old.length ? `; ${old.join(", ")} kept while volumes use them (lv box prune removes them after)` : ""
    }\n`,
  );
  await awaitObjects(rt, [keyOf(box)], readiness, { timeoutMs: options.timeoutMs, what: "be Ready" });
}

/**
 * Pins a Box to `next` and clears what it recorded as uploaded, so the controller uploads `next` under new
 * volume names (box-NAME-vVERSION); the volumes of before are no longer the Box's.
 */
export async function startUpdate(store: Store, box: Box, next: ResolvedVersion): Promise<void> {
  await writeStatus(store, box, (status) => {
    status.version = {
      version: next.version,
      url: next.url,
      checksum: next.checksum,
      from: next.catalog,
      source: box.spec.source,
      constraint: box.spec.version,
    };
    moveToVersion(status as Box["status"], box.metadata.name, next.version);
    status.phase = "Pending";
    setCondition(status, {
      type: "Ready",
      status: "False",
      reason: "Updating",
      message: `to version ${next.version}`,
    });
  });
}
