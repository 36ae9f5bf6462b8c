/** lv apply: validate every document, write them all in one store transaction, then converge until Ready. */
import type { AnyResource } from "../api/types.ts";
import { AlreadyExistsError, type BatchWrite, ConflictError, keyOf, refString } from "../store/store.ts";
import { refuseTestDriver, unreachable } from "./libvirt_reachable.ts";
import { awaitObjects, readiness, type Verdict } from "./await_objects.ts";
import { CommandFailed, UsageError } from "./errors.ts";
import { loadManifests } from "./manifests.ts";
import { contextDefaults } from "../config/config.ts";
import type { Output, Runtime } from "./runtime.ts";
import { type ApplyPlan, type ApplyResult, planApply, type PlanOptions } from "./apply_plan.ts";
import {
  changeEffects,
  type FieldChange,
  needsRestart,
  networkInUse,
  refuseChanges,
} from "./change_effects.ts";
import { deleteObjects } from "./delete.ts";
import { RELOAD_ANNOTATION } from "../api/requests.ts";
import { getCondition } from "../api/conditions.ts";

export type { ApplyResult } from "./apply_plan.ts";

export interface ApplyOptions {
  files: string[];
  /** Wait until Ready (default true); false only writes. */
  wait: boolean;
  timeoutMs: number;
  /** Directories given with -f are read recursively. Default false. */
  recursive?: boolean;
  /** "server": read the store and merge, write nothing. ("client" never opens a runtime: {@linkcode applyClientDryRun}.) */
  dryRun?: "server";
  /**
   * Restart the running Domains of the files that need it (`--restart`): a change of this apply that takes
   * effect at the next boot, or one still pending (RestartRequired). Default false.
   */
  restart?: boolean;
  /** Replace (delete, then create) objects whose immutable fields change (`--force`). Default false. */
  force?: boolean;
}

/** Options for {@linkcode applyOne}. */
export interface ApplyOneOptions extends PlanOptions {
  restart?: boolean;
  force?: boolean;
}

/** A plan with its field changes classified; `replace` when --force must delete the object first. */
export interface Decision {
  plan: ApplyPlan;
  changes: FieldChange[];
  replace: boolean;
}

/**
 * Writes one resource ({@linkcode planApply}); a race with another writer is retried on a fresh read, so
 * the other writer's change is merged, never lost.
 */
export async function applyOne(
  rt: Runtime,
  obj: AnyResource,
  options: ApplyOneOptions = {},
): Promise<ApplyResult> {
  return (await applyAll(rt, [obj], options))[0];
}

/**
 * Writes the resources of one apply in one store transaction (`Store.writeAll`), so a store that
 * fails or refuses one write writes none of them; a race with another writer re-plans them all on fresh
 * reads, so its change is merged, never lost. Two exceptions: a replacement (--force over an immutable
 * change) deletes the old object first, and more writes than the store takes at once (etcd: 128) go in
 * transactions of that many.
 */
export async function applyAll(
  rt: Runtime,
  objs: AnyResource[],
  options: ApplyOneOptions = {},
): Promise<ApplyResult[]> {
  for (let attempt = 0;; attempt++) {
    try {
      return await applyAllOnce(rt, objs, options);
    } catch (e) {
      if (attempt >= 10 || !(e instanceof AlreadyExistsError || e instanceof ConflictError)) throw e;
    }
  }
}

async function applyAllOnce(rt: Runtime, objs: AnyResource[], options: ApplyOneOptions) {
  const results: ApplyResult[] = [];
  const writes: BatchWrite[] = [];
  for (const obj of objs) {
    const { result, write } = await planWrite(rt, obj, options);
    results.push(result);
    if (write) writes.push(write);
  }
  for (let i = 0; i < writes.length; i += rt.store.maxBatch) {
    await rt.store.writeAll(writes.slice(i, i + rt.store.maxBatch));
  }
  return results;
}

/**
 * What applying `obj` would do to the store: the plan, the classified changes; throws InvalidInputError
 * for a refused change (immutable without --force, a Volume shrinking) and refuses an object being deleted.
 */
export async function decide(rt: Runtime, obj: AnyResource, options: ApplyOneOptions): Promise<Decision> {
  const live = await rt.store.get(keyOf(obj));
  if (live?.metadata.deletionTimestamp) {
    throw new CommandFailed(
      `${refString(obj)} is being deleted; wait for the deletion to finish, then apply again`,
    );
  }
  const plan = planApply(obj, live, options);
  if (plan.result !== "configured" || !live) return { plan, changes: [], replace: false };
  const inUse = obj.kind === "Network" && await networkInUse(rt.store, obj);
  const changes = changeEffects(live, plan.next, inUse);
  refuseChanges(obj, changes, { force: !!options.force });
  return { plan, changes, replace: changes.some((c) => c.refused) };
}

/** What applying `obj` writes (none when unchanged); a replacement deletes the old object here. */
async function planWrite(
  rt: Runtime,
  obj: AnyResource,
  options: ApplyOneOptions,
): Promise<{ result: ApplyResult; write?: BatchWrite }> {
  const { plan, changes, replace } = await decide(rt, obj, options);
  if (replace) {
    await deleteObjects(rt, [keyOf(obj)], {
      wait: true,
      timeoutMs: REPLACE_TIMEOUT_MS,
      ignoreNotFound: true,
    });
    return { result: "created", write: { op: "create", obj: planApply(obj, undefined, options).next } };
  }
  const next = plan.next;
  const restart = options.restart && restartWanted(next, changes);
  if (restart) {
    next.metadata.annotations = {
      ...next.metadata.annotations,
      [RELOAD_ANNOTATION]: new Date().toISOString(),
    };
  }
  if (plan.result === "created") return { result: "created", write: { op: "create", obj: next } };
  if (plan.result === "configured" || plan.recordOnly || restart) {
    return { result: restart ? "configured" : plan.result, write: { op: "update", obj: next } };
  }
  return { result: plan.result };
}

/**
 * `--restart`: a running Domain of the files is restarted when this apply makes a change that takes
 * effect at the next boot, or when one is still pending from before (RestartRequired=True).
 */
function restartWanted(next: AnyResource, changes: FieldChange[]): boolean {
  if (next.kind !== "Domain" || next.spec.state !== "Running") return false;
  return needsRestart(changes) || getCondition(next.status, "RestartRequired")?.status === "True";
}

/** How long --force waits for the old object and what it owns to be deleted. */
const REPLACE_TIMEOUT_MS = 5 * 60_000;

/**
 * Before anything is written: every libvirt the resources live on, local or remote, answers (one `virsh
 * version` per URI), so no libvirtd, a wrong socket, host, key or password fails the apply at once instead of
 * leaving objects waiting; the test:/// driver is refused when apply would wait for it to converge.
 */
async function checkRemoteHosts(rt: Runtime, resources: AnyResource[], wait: boolean): Promise<void> {
  const checked = new Set<string>();
  for (const obj of resources) {
    const libvirt = rt.libvirtFor(obj);
    if (checked.has(libvirt.uri)) continue;
    checked.add(libvirt.uri);
    if (wait) refuseTestDriver(libvirt.uri);
    try {
      await libvirt.version();
    } catch (e) {
      throw unreachable(libvirt.uri, obj.spec.context, e as Error);
    }
  }
}

export async function apply(rt: Runtime, options: ApplyOptions): Promise<void> {
  const specDefaults = contextDefaults(rt.connection);
  // The selected connection's virsh session starts (a process, and libvirt's handshake) while the files are
  // read and checked; checkRemoteHosts asks it again, and its answer (or failure) counts there.
  if (!options.dryRun) rt.libvirt.version().catch(() => {});
  const resources = await loadManifests(options.files, rt.store, {
    specDefaults,
    recursive: options.recursive,
  });
  if (options.dryRun) {
    for (const obj of resources) {
      const { plan, replace } = await decide(rt, obj, { specDefaults, force: options.force });
      rt.output.out(`${refString(obj)} ${replace ? "replaced" : plan.result} (dry run)\n`);
    }
    return;
  }
  await checkRemoteHosts(rt, resources, options.wait);
  const results = await applyAll(rt, resources, {
    specDefaults,
    restart: options.restart,
    force: options.force,
  });
  resources.forEach((obj, i) => rt.output.out(`${refString(obj)} ${results[i]}\n`));
  if (!options.wait) return;
  await awaitObjects(rt, resources.map(keyOf), options.restart ? restarted : readiness, {
    timeoutMs: options.timeoutMs,
    what: "be Ready",
  });
}

/** With --restart: Ready, and a Domain's restart request (the reload annotation) carried out. */
function restarted(obj: AnyResource | undefined): Verdict {
  const v = readiness(obj);
  if (v !== "done" || obj?.kind !== "Domain") return v;
  const asked = obj.metadata.annotations[RELOAD_ANNOTATION];
  return asked === undefined || obj.status.restartRequest === asked ? "done" : "pending";
}

/**
 * `lv apply --dry-run=client`: parse and validate the files, nothing else (no store, no libvirt, no config
 * file), so it runs in CI without libvirt. References to objects not in the files are not checked.
 */
export async function applyClientDryRun(
  files: string[],
  options: { output: Output; recursive?: boolean },
): Promise<void> {
  const resources = await loadManifests(files, undefined, { recursive: options.recursive });
  for (const obj of resources) options.output.out(`${refString(obj)} checked (dry run)\n`);
}

/** The value of --dry-run: absent (a real apply), client or server. */
export function dryRunMode(value: string | undefined): "client" | "server" | undefined {
  if (value === undefined || value === "none") return undefined;
  if (value === "client" || value === "server") return value;
  throw new UsageError(
    `--dry-run=${value} is not a dry-run mode`,
    "use --dry-run=client (check the files only) or --dry-run=server (also merge against the store)",
  );
}
