/** What commands run against: the store, libvirt, the controllers, and where output goes. */
import { hostname } from "node:os";
import { join } from "node:path";
import { refString } from "../store/store.ts";
import type { AnyResource } from "../api/types.ts";
import type { ControllerContext } from "../controller/context.ts";
import { Manager, type ManagerOptions } from "../controller/manager.ts";
import { boxReconciler } from "../controller/box_reconciler.ts";
import { domainReconciler } from "../controller/domain_reconciler.ts";
import { networkReconciler } from "../controller/network_reconciler.ts";
import { volumeReconciler } from "../controller/volume_reconciler.ts";
import { Libvirt } from "../libvirt/libvirt.ts";
import { DEFAULT_URI, ProcessVirsh, type VirshRunner } from "../libvirt/virsh.ts";
import {
  configPath,
  type Connection,
  contextConnection,
  loadConfig,
  type LvConfig,
  selectConnection,
} from "../config/config.ts";
import { explainSshFailure, type JumpHost, prepareTransport } from "../config/ssh_transport.ts";
import { SqliteStore } from "../store/sqlite_store.ts";
import type { Store } from "../store/store.ts";

export const RECONCILERS = [boxReconciler, volumeReconciler, networkReconciler, domainReconciler];
export const MANAGER_LEASE = "controller-manager";
const LEASE_TTL_MS = 15_000;

export interface Output {
  /** Results (resources, tables): stdout. */
  out(text: string): void;
  /** Progress and warnings: stderr. */
  err(text: string): void;
}

export interface Runtime {
  home: string;
  store: Store;
  /** The connection this command selected (--connect, --context, environment, config file). */
  connection: Connection;
  /** libvirt on that connection. */
  libvirt: Libvirt;
  /** libvirt where a resource lives: its spec.context, else the selected connection. */
  libvirtFor(obj: AnyResource): Libvirt;
  /** The jump host for reaching a resource's guests (remote libvirt over ssh), if any. */
  jumpFor(obj: AnyResource): JumpHost | undefined;
  /** The named context a resource lives in (spec.context); undefined: where a bare URI points. */
  contextOf(obj: AnyResource): string | undefined;
  /** Path of the config file and what it holds. */
  configPath: string;
  config: LvConfig;
  output: Output;
  /** Identifies this process as a lease holder. */
  holder: string;
  close(): void;
}

/** $LV_HOME, default ~/.local/share/lv; created 0700. */
export function lvHome(env: (name: string) => string | undefined = Deno.env.get): string {
  const explicit = env("LV_HOME");
  if (explicit) return explicit;
  const data = env("XDG_DATA_HOME") || join(env("HOME") ?? "/root", ".local", "share");
  return join(data, "lv");
}

export interface RuntimeOptions {
  /** --connect URI. */
  connect?: string;
  /** --context NAME. */
  context?: string;
  home?: string;
  output?: Output;
  virsh?: VirshRunner;
}

export function stdOutput(): Output {
  const enc = new TextEncoder();
  return {
    out: (t) => Deno.stdout.writeSync(enc.encode(t)),
    err: (t) => Deno.stderr.writeSync(enc.encode(t)),
  };
}

/**
 * Opens the store and selects the connection. The config file is read first, so a bad config or an unknown
 * context fails before anything is opened.
 */
export function openRuntime(options: RuntimeOptions = {}): Runtime {
  const home = options.home ?? lvHome();
  const path = configPath();
  const config = loadConfig(path);
  const connection = selectConnection(
    config,
    { connect: options.connect, context: options.context },
    undefined,
    path,
  );
  Deno.mkdirSync(home, { recursive: true, mode: 0o700 });
  const store = new SqliteStore(join(home, "store.db"));
  // A resource without spec.context lives where a bare URI points (--connect, LV_CONNECT, qemu:///system),
  // whatever context is selected: switching contexts never moves existing objects.
  const bare: Connection = connection.context === undefined
    ? connection
    : { uri: options.connect ?? Deno.env.get("LV_CONNECT") ?? DEFAULT_URI };
  const open = new Map<string, { libvirt: Libvirt; jump?: JumpHost }>();
  const side = (context: string | undefined) => {
    const key = context ?? "";
    let found = open.get(key);
    if (!found) {
      const c = context === undefined
        ? bare
        : context === connection.context
        ? connection
        : contextConnection(config, context, path);
      const transport = prepareTransport(home, c);
      const jump = transport.jump;
      const virsh = options.virsh ??
        new ProcessVirsh(c.uri, transport.connectUri, jump && ((stderr) => explainSshFailure(stderr, jump)));
      found = { libvirt: new Libvirt(virsh), jump: transport.jump };
      open.set(key, found);
    }
    return found;
  };
  const contextOf = (obj: AnyResource) => obj.spec.context;
  return {
    home,
    store,
    connection,
    get libvirt() {
      return side(connection.context).libvirt;
    },
    libvirtFor: (obj) => side(contextOf(obj)).libvirt,
    jumpFor: (obj) => side(contextOf(obj)).jump,
    contextOf,
    configPath: path,
    config,
    output: options.output ?? stdOutput(),
    holder: `${hostname()}:${Deno.pid}`,
    close: () => store.close(),
  };
}

export function controllerContext(rt: Runtime, options: { quiet?: boolean } = {}): ControllerContext {
  const partial = new Map<string, string>();
  return {
    progress: (obj, text, prefix) => {
      const key = refString(obj);
      const lines = ((partial.get(key) ?? "") + text).split("\n");
      partial.set(key, lines.pop()!);
      for (const line of lines) rt.output.err(`${prefix}${line}\n`);
    },
    store: rt.store,
    home: rt.home,
    libvirtFor: (obj) => rt.libvirtFor(obj),
    jumpFor: (obj) => rt.jumpFor(obj),
    now: () => new Date(),
    event: async (obj: AnyResource, type, reason, message) => {
      await rt.store.recordEvent(obj, { type, reason, message });
      if (!options.quiet) rt.output.err(`${refString(obj)}: ${reason}: ${message}\n`);
    },
  };
}

/**
 * Whether a lease holder ("host:pid") is a process of this host that no longer exists (an lv killed with
 * SIGKILL): its lease need not be waited out.
 */
export function deadHolder(holder: string): boolean {
  const [host, pid] = holder.split(":");
  if (host !== hostname() || !/^\d+$/.test(pid ?? "")) return false;
  try {
    Deno.statSync(`/proc/${pid}`);
    return false;
  } catch {
    return true;
  }
}

/**
 * Runs the controllers in this process while `until` is false, when no `lv controller` (or other lv
 * process) holds the manager lease; otherwise only watches. Returns whether `until` became true before
 * the deadline. Checks every pollMs.
 */
export async function driveUntil(
  rt: Runtime,
  until: () => Promise<boolean>,
  options: { timeoutMs: number; pollMs?: number; manager?: ManagerOptions; onTick?: () => Promise<void> },
): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs;
  let manager: Manager | undefined;
  let renewedAt = 0;
  let told: string | undefined;
  try {
    while (true) {
      if (await until()) return true;
      await options.onTick?.();
      if (Date.now() >= deadline) return false;
      if (!manager || Date.now() - renewedAt > LEASE_TTL_MS / 3) {
        const other = manager ? undefined : await rt.store.leaseHolder(MANAGER_LEASE);
        const held = await rt.store.acquireLease(MANAGER_LEASE, rt.holder, LEASE_TTL_MS, {
          takeFrom: other && deadHolder(other) ? other : undefined,
        });
        if (!held && other && other !== told) {
          told = other;
          rt.output.err(`lv: the controllers run in another lv process (${other}); waiting for them\n`);
        }
        renewedAt = Date.now();
        if (held && !manager) {
          manager = new Manager(controllerContext(rt, { quiet: true }), RECONCILERS, options.manager);
          await manager.start();
        } else if (!held && manager) {
          await manager.stop();
          manager = undefined;
        }
      }
      await new Promise((r) =>
        setTimeout(r, Math.min(options.pollMs ?? 200, Math.max(0, deadline - Date.now())))
      );
    }
  } finally {
    if (manager) {
      await manager.stop();
      await rt.store.releaseLease(MANAGER_LEASE, rt.holder);
    }
  }
}
