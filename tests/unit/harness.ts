/**
 * Test harness for reconciler and manager tests: a FakeVirsh, a real SqliteStore in a temp $LV_HOME, a
 * controller context with a test clock, and helpers to run one reconcile pass, converge, or run the real
 * Manager until a condition holds. It uses the controllers as a process hosts them, not the CLI
 * (cli_harness.ts adds a CLI Runtime for CLI tests).
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { getCondition } from "../../src/api/conditions.ts";
import type { AnyResource, Condition, Kind } from "../../src/api/types.ts";
import type { ControllerContext, ReconcileResult } from "../../src/controller/context.ts";
import { controllerContext, type ControllerHost } from "../../src/controller/controller_context.ts";
import { RECONCILERS } from "../../src/controller/reconcilers.ts";
import { Manager, type ManagerOptions } from "../../src/controller/manager.ts";
import { Libvirt } from "../../src/libvirt/libvirt.ts";
import { absolutize } from "../../src/manifest/absolutize.ts";
import { parseManifests } from "../../src/manifest/parse.ts";
import { SqliteStore } from "../../src/store/sqlite_store.ts";
import type { Store } from "../../src/store/store.ts";
import { FakeVirsh, type FakeVirshOptions } from "./fake_virsh.ts";

export const EXAMPLES_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "examples");
export const TINY_IMG = join(EXAMPLES_DIR, "tiny.img");

/** A clock tests move by hand. */
export class TestClock {
  #t: number;
  constructor(start = Date.parse("2030-01-01T00:00:00Z")) {
    this.#t = start;
  }
  now(): Date {
    return new Date(this.#t);
  }
  advance(ms: number): void {
    this.#t += ms;
  }
}

export interface Harness {
  fake: FakeVirsh;
  store: Store;
  libvirt: Libvirt;
  ctx: ControllerContext;
  clock: TestClock;
  home: string;
  /** Closes the store and removes the temp home. */
  close(): Promise<void>;
}

export interface HarnessOptions {
  fake?: FakeVirshOptions;
  /** Give the fake host an active "default" pool, as an installed libvirt has. Default false. */
  defaultPool?: boolean;
}

/** What the controllers run in: a store in `home`, libvirt through the fake. */
export interface HarnessHost extends ControllerHost {
  libvirt: Libvirt;
  close(): Promise<void>;
}

/** A host of the controllers with the store in `home` and every object's libvirt the fake. */
export function openTestHost(home: string, fake: FakeVirsh): Promise<HarnessHost> {
  const store = new SqliteStore(join(home, "store.db"));
  const libvirt = new Libvirt(fake);
  return Promise.resolve({
    home,
    store,
    holder: `unit-test:${Deno.pid}`,
    libvirt,
    libvirtFor: () => libvirt,
    jumpFor: () => undefined,
    output: { err: () => {} },
    close: () => Promise.resolve(store.close()),
  });
}

/** A harness; `open` builds its host (default {@linkcode openTestHost}). */
export async function newHarness(
  options: HarnessOptions = {},
  open: (home: string, fake: FakeVirsh) => Promise<HarnessHost> = openTestHost,
): Promise<Harness> {
  const home = await Deno.makeTempDir({ prefix: "lv-unit-" });
  const fake = new FakeVirsh(options.fake);
  if (options.defaultPool) fake.addPool("default");
  const host = await open(home, fake);
  const clock = new TestClock();
  const ctx: ControllerContext = { ...controllerContext(host, { quiet: true }), now: () => clock.now() };
  return {
    fake,
    store: host.store,
    libvirt: host.libvirt,
    ctx,
    clock,
    home,
    close: async () => {
      await host.close();
      await Deno.remove(home, { recursive: true });
    },
  };
}

/** The resources of examples/basic.yaml, validated and defaulted, paths made absolute. */
export function basicExample(): Record<string, AnyResource> {
  const file = join(EXAMPLES_DIR, "basic.yaml");
  const { resources, problems } = parseManifests(Deno.readTextFileSync(file), file);
  if (problems.length > 0) throw new Error(`basic.yaml: ${JSON.stringify(problems)}`);
  const byName: Record<string, AnyResource> = {};
  for (const r of resources) {
    absolutize(r, EXAMPLES_DIR);
    byName[`${r.kind}/${r.metadata.name}`] = r;
  }
  return byName;
}

/** basic.yaml's objects in the order a convergence passes over them, with the Domain's box overlay last. */
export const BASIC_OBJECTS: [Kind, string][] = [
  ["Box", "tiny"],
  ["Network", "basic-net"],
  ["Volume", "web-data"],
  ["Domain", "web"],
  ["Volume", "web"],
];

/** One object of basic.yaml, e.g. `example("Network", "basic-net")`, with optional changes. */
export function example<T extends AnyResource>(kind: T["kind"], name: string, edit?: (obj: T) => void): T {
  const obj = basicExample()[`${kind}/${name}`] as T;
  if (!obj) throw new Error(`basic.yaml has no ${kind}/${name}`);
  edit?.(obj);
  return obj;
}

export function key(kind: Kind, name: string, namespace = "default") {
  return { kind, namespace, name };
}

/** The stored object; fails the test when it is not there. */
export async function mustGet<T extends AnyResource>(h: Harness, kind: T["kind"], name: string): Promise<T> {
  const obj = await h.store.get(key(kind, name));
  if (!obj) throw new Error(`${kind}/${name} is not in the store`);
  return obj as T;
}

export function ready(obj: AnyResource | undefined): Condition | undefined {
  return getCondition(obj?.status, "Ready");
}

export interface PassResult {
  /** The object was not in the store. */
  gone?: boolean;
  result?: ReconcileResult | void;
  error?: unknown;
}

/** Exactly one reconcile of the stored object: a pass that adds lv's finalizer ends there. */
export async function passOnce(h: Harness, kind: Kind, name: string): Promise<PassResult> {
  const obj = await h.store.get(key(kind, name));
  if (!obj) return { gone: true };
  const reconciler = RECONCILERS.find((r) => r.kind === kind)!;
  try {
    return { result: await reconciler.reconcile(obj, h.ctx) };
  } catch (error) {
    return { error };
  }
}

/**
 * One reconcile pass of the stored object, as a manager worker runs it (without the queue): a pass that
 * only added the finalizer asks to be requeued at once, so the next one follows, as the manager does.
 */
export async function pass(h: Harness, kind: Kind, name: string): Promise<PassResult> {
  const first = await passOnce(h, kind, name);
  return first.result?.requeue ? await passOnce(h, kind, name) : first;
}

/** Like {@linkcode pass}, but a thrown error fails the test. */
export async function passOk(h: Harness, kind: Kind, name: string): Promise<ReconcileResult | void> {
  const r = await pass(h, kind, name);
  if (r.error) throw r.error;
  return r.result;
}

/**
 * Passes over the objects, in order, until a whole round changes nothing in the store and raises no error.
 * Returns the errors of the last round that had any (empty when converged cleanly).
 */
export async function converge(
  h: Harness,
  objects: [Kind, string][],
  options: { maxRounds?: number } = {},
): Promise<void> {
  let lastErrors: string[] = [];
  for (let round = 0; round < (options.maxRounds ?? 12); round++) {
    const head = await h.store.head();
    const errors: string[] = [];
    for (const [kind, name] of objects) {
      const r = await pass(h, kind, name);
      if (r.error) errors.push(`${kind}/${name}: ${r.error}`);
    }
    if (errors.length === 0 && await h.store.head() === head) return;
    lastErrors = errors;
  }
  throw new Error(`did not converge: ${lastErrors.join("; ") || "the store kept changing"}`);
}

/** Creates the objects in the store; returns the stored copies. */
export async function createAll(h: Harness, objects: AnyResource[]): Promise<AnyResource[]> {
  const out: AnyResource[] = [];
  for (const o of objects) out.push(await h.store.create(o));
  return out;
}

/** Writes a spec change (re-reading the object first). */
export async function editSpec<T extends AnyResource>(
  h: Harness,
  kind: T["kind"],
  name: string,
  edit: (obj: T) => void,
): Promise<T> {
  const obj = structuredClone(await mustGet<T>(h, kind, name));
  edit(obj);
  return await h.store.update(obj) as T;
}

export const FAST_MANAGER: ManagerOptions = { pollMs: 5, baseDelayMs: 20, maxDelayMs: 400, workers: 4 };

/**
 * Runs the real Manager until `until()` holds (checked every 5 ms), then stops it.
 * Throws with the objects' Ready conditions when the deadline passes first.
 */
export async function runManagerUntil(
  h: Harness,
  until: () => Promise<boolean>,
  options: { timeoutMs?: number; manager?: ManagerOptions; onManager?: (m: Manager) => void } = {},
): Promise<Manager> {
  const manager = new Manager(h.ctx, RECONCILERS, { ...FAST_MANAGER, ...options.manager });
  options.onManager?.(manager);
  await manager.start();
  const deadline = Date.now() + (options.timeoutMs ?? 5000);
  try {
    while (!(await until())) {
      if (Date.now() > deadline) {
        throw new Error(`manager did not get there in time; store:\n${await describeStore(h)}`);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    await manager.stop();
  }
  return manager;
}

/** One line per stored object: kind/name, finalizers, deletion, Ready condition. */
export async function describeStore(h: Harness): Promise<string> {
  const lines: string[] = [];
  for (const kind of ["Box", "Volume", "Network", "Domain"] as Kind[]) {
    for (const o of await h.store.list(kind)) {
      const r = ready(o);
      lines.push(
        `  ${kind}/${o.metadata.name} finalizers=${JSON.stringify(o.metadata.finalizers)}${
          o.metadata.deletionTimestamp ? " deleting" : ""
        } phase=${o.status.phase} Ready=${r?.status}/${r?.reason}: ${r?.message}`,
      );
    }
  }
  return lines.join("\n");
}

/** Every stored object's Ready is True. */
export async function allReady(h: Harness): Promise<boolean> {
  for (const kind of ["Box", "Volume", "Network", "Domain"] as Kind[]) {
    for (const o of await h.store.list(kind)) {
      if (ready(o)?.status !== "True" || o.status.observedGeneration !== o.metadata.generation) return false;
    }
  }
  return true;
}
