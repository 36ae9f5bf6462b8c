/** lv apply: validate every document, write them, then converge until Ready. */
import type { AnyResource } from "../api/types.ts";
import { AlreadyExistsError, ConflictError, keyOf, refString } from "../store/store.ts";
import { refuseTestDriver, unreachable } from "./libvirt_reachable.ts";
import { awaitObjects, readiness } from "./await_objects.ts";
import { CommandFailed } from "./errors.ts";
import { loadManifests } from "./manifests.ts";
import { contextDefaults } from "../config/config.ts";
import type { Runtime } from "./runtime.ts";

export interface ApplyOptions {
  files: string[];
  /** Wait until Ready (default true); false only writes. */
  wait: boolean;
  timeoutMs: number;
}

/** Structural equality with key order ignored. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Annotations lv's own commands set (lv reload, lv provision): kept when a manifest does not name them. */
const LV_ANNOTATION = /^lv\.dev\//;

export type ApplyResult = "created" | "configured" | "unchanged";

/**
 * Writes one resource: create, update when spec, labels or annotations differ, else nothing. Races with
 * another writer (two applies, a controller) are retried from a fresh read.
 */
export async function applyOne(rt: Runtime, obj: AnyResource): Promise<ApplyResult> {
  for (let attempt = 0;; attempt++) {
    try {
      return await applyOnce(rt, obj);
    } catch (e) {
      if (attempt >= 10 || !(e instanceof AlreadyExistsError || e instanceof ConflictError)) throw e;
    }
  }
}

async function applyOnce(rt: Runtime, obj: AnyResource): Promise<ApplyResult> {
  const current = await rt.store.get(keyOf(obj));
  if (!current) {
    await rt.store.create(obj);
    return "created";
  }
  if (current.metadata.deletionTimestamp) {
    throw new CommandFailed(
      `${refString(obj)} is being deleted; wait for the deletion to finish, then apply again`,
    );
  }
  const annotations = { ...obj.metadata.annotations };
  for (const [k, v] of Object.entries(current.metadata.annotations)) {
    if (LV_ANNOTATION.test(k) && !(k in annotations)) annotations[k] = v;
  }
  if (
    deepEqual(current.spec, obj.spec) && deepEqual(current.metadata.labels, obj.metadata.labels) &&
    deepEqual(current.metadata.annotations, annotations)
  ) return "unchanged";
  const next = structuredClone(current);
  next.spec = obj.spec as typeof next.spec;
  next.metadata.labels = obj.metadata.labels;
  next.metadata.annotations = annotations;
  await rt.store.update(next);
  return "configured";
}

/**
 * Before anything is written: every libvirt the resources live on, local or remote, answers (one `virsh
 * version` per URI), so no libvirtd, a wrong socket, host, key or password fails the apply at once instead of
 * leaving objects waiting; the test:/// driver is refused.
 */
async function checkRemoteHosts(rt: Runtime, resources: AnyResource[]): Promise<void> {
  const checked = new Set<string>();
  for (const obj of resources) {
    const libvirt = rt.libvirtFor(obj);
    if (checked.has(libvirt.uri)) continue;
    checked.add(libvirt.uri);
    refuseTestDriver(libvirt.uri);
    try {
      await libvirt.version();
    } catch (e) {
      throw unreachable(libvirt.uri, obj.spec.context, e as Error);
    }
  }
}

export async function apply(rt: Runtime, options: ApplyOptions): Promise<void> {
  const resources = await loadManifests(options.files, rt.store, {
    specDefaults: contextDefaults(rt.connection),
  });
  await checkRemoteHosts(rt, resources);
  for (const obj of resources) {
    const result = await applyOne(rt, obj);
    rt.output.out(`${refString(obj)} ${result}\n`);
  }
  if (!options.wait) return;
  await awaitObjects(rt, resources.map(keyOf), readiness, { timeoutMs: options.timeoutMs, what: "be Ready" });
}
