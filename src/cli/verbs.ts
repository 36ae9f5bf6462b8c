/**
 * Vagrant's verbs. up/halt/suspend/resume set spec.state; reload, provision and rsync set a request
 * annotation the controller acts on. Each waits (unless --wait=false) until the controller has done it.
 */
import { getCondition } from "../api/conditions.ts";
import type { AnyResource, Domain, DomainState } from "../api/types.ts";
import { guestStatusOf } from "../api/guest_status.ts";
import { PROVISION_ANNOTATION, RELOAD_ANNOTATION, RSYNC_ANNOTATION } from "../api/requests.ts";
import { ConflictError, type ObjectKey } from "../store/store.ts";
import { awaitObjects, readiness, type Verdict } from "./await_objects.ts";
import { CommandFailed } from "./errors.ts";
import type { Runtime } from "./runtime.ts";

export interface VerbOptions {
  wait: boolean;
  timeoutMs: number;
  namespace: string;
}

async function getDomain(rt: Runtime, key: ObjectKey): Promise<Domain> {
  const obj = await rt.store.get(key);
  if (!obj) throw new CommandFailed(`domain/${key.name} not found`);
  return obj as Domain;
}

/** Re-reads and retries on a resourceVersion conflict. */
async function modify(rt: Runtime, key: ObjectKey, change: (dom: Domain) => void): Promise<Domain> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const dom = await getDomain(rt, key);
    if (dom.metadata.deletionTimestamp) throw new CommandFailed(`domain/${key.name} is being deleted`);
    change(dom);
    try {
      return await rt.store.update(dom) as Domain;
    } catch (e) {
      if (!(e instanceof ConflictError)) throw e;
    }
  }
  throw new CommandFailed(`domain/${key.name} kept changing; try again`);
}

export const VERB_STATES: Record<string, DomainState> = {
  up: "Running",
  halt: "Stopped",
  suspend: "Paused",
  resume: "Running",
};

export const VERB_ANNOTATIONS: Record<string, string> = {
  reload: RELOAD_ANNOTATION,
  provision: PROVISION_ANNOTATION,
  rsync: RSYNC_ANNOTATION,
};

/** lv up|halt|suspend|resume NAME... */
export async function setState(
  rt: Runtime,
  verb: string,
  names: string[],
  options: VerbOptions,
): Promise<void> {
  const keys = names.map((name) => ({ kind: "Domain" as const, namespace: options.namespace, name }));
  const requested = new Map<string, string>();
  for (const key of keys) {
    await modify(rt, key, (dom) => {
      dom.spec.state = VERB_STATES[verb];
      // vagrant up syncs folders again
      if (verb === "up") {
        const now = new Date().toISOString();
        dom.metadata.annotations[RSYNC_ANNOTATION] = now;
        requested.set(key.name, now);
      }
    });
  }
  if (options.wait) {
    await awaitObjects(rt, keys, (obj) => {
      const v = readiness(obj);
      const want = obj && requested.get(obj.metadata.name);
      if (v !== "done" || !want || !(obj as Domain).spec.state.startsWith("R")) return v;
      return guestStatusOf((obj as Domain).status).rsyncRequest === want ||
          (obj as Domain).spec.communicator === "none"
        ? "done"
        : "pending";
    }, { timeoutMs: options.timeoutMs, what: `be ${VERB_STATES[verb]}` });
  }
  for (const key of keys) rt.output.out(`domain/${key.name} ${VERB_STATES[verb].toLowerCase()}\n`);
}

function requestDone(obj: AnyResource | undefined, annotation: string, value: string): Verdict {
  const v = readiness(obj);
  if (!obj || v === "failed") return v;
  const dom = obj as Domain;
  const guest = guestStatusOf(dom.status);
  const done = annotation === RELOAD_ANNOTATION
    ? dom.status.restartRequest === value
    : annotation === PROVISION_ANNOTATION
    ? guest.provisionRequest === value
    : guest.rsyncRequest === value;
  if (!done) return "pending";
  if (guest.failure && getCondition(dom.status, "Ready")?.status === "False") return "failed";
  return v;
}

/** lv reload|provision|rsync NAME... */
export async function request(
  rt: Runtime,
  verb: string,
  names: string[],
  options: VerbOptions,
): Promise<void> {
  const annotation = VERB_ANNOTATIONS[verb];
  const keys = names.map((name) => ({ kind: "Domain" as const, namespace: options.namespace, name }));
  const value = new Date().toISOString();
  for (const key of keys) {
    await modify(rt, key, (dom) => {
      if (verb !== "reload" && dom.spec.state !== "Running") {
        throw new CommandFailed(`domain/${key.name} is ${dom.spec.state}: run lv up ${key.name} first`);
      }
      dom.metadata.annotations[annotation] = value;
    });
  }
  if (options.wait) {
    await awaitObjects(rt, keys, (obj) => requestDone(obj, annotation, value), {
      timeoutMs: options.timeoutMs,
      what: verb === "reload" ? "restart" : `finish ${verb}`,
    });
  }
  const past: Record<string, string> = { reload: "reloaded", provision: "provisioned", rsync: "synced" };
  for (const key of keys) rt.output.out(`domain/${key.name} ${past[verb]}\n`);
}
