/**
 * The supervised forwarder of a Domain's forwardedPorts: one detached `lv port-forward --supervised UID`
 * process per Domain, started with the Domain and independent of the lv command that started it (it outlives
 * `lv apply`), recorded in $LV_HOME/forwarders/UID.json (pid, what it forwards, a digest of its config). The
 * Domain controller calls {@linkcode ensureForwarder} on every pass of a running guest (a killed forwarder is
 * started again, a changed config restarts it) and {@linkcode stopForwarder} when the Domain halts or goes;
 * any lv command restarts a dead one ({@linkcode deadForwarders}).
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { forwardedPortText } from "../../api/forwarded_port.ts";
import type { ForwardedPort } from "../../api/types.ts";
import type { ForwardTarget } from "./ssh_tunnel.ts";

/** Everything the forwarder process needs, given on its stdin (never on its command line: a jump password). */
export interface ForwarderConfig {
  uid: string;
  name: string;
  namespace: string;
  ports: ForwardedPort[];
  target: ForwardTarget;
  /** Where it writes what it does. */
  logFile: string;
}

/** $LV_HOME/forwarders/UID.json. */
export interface ForwarderRecord {
  pid: number;
  uid: string;
  name: string;
  namespace: string;
  /** As `lv get -o wide` shows them. */
  ports: string[];
  digest: string;
  startedAt: string;
}

/** What starting and looking at processes means; the real one runs `lv port-forward --supervised`. */
export interface ForwarderProcesses {
  /** Starts a forwarder; resolves with its pid once it listens, rejects with its error (a port in use). */
  start(config: ForwarderConfig): Promise<number>;
  /** Whether `pid` is the forwarder of `uid` and runs (not a zombie, not a reused pid). */
  alive(pid: number, uid: string): boolean;
  /** Ends the forwarder `pid` and resolves when it is gone. */
  stop(pid: number, uid: string): Promise<void>;
}

/** What {@linkcode ensureForwarder} did. */
export type EnsureOutcome =
  | { action: "none" | "stopped" }
  | { action: "running"; pid: number }
  | { action: "started" | "restarted"; pid: number }
  /** The recorded process was gone (killed): started again. */
  | { action: "revived"; pid: number; deadPid: number };

/** The forwarders' directory under $LV_HOME. */
export function forwardersDir(home: string): string {
  return join(home, "forwarders");
}

function recordPath(home: string, uid: string): string {
  return join(forwardersDir(home), `${uid}.json`);
}

/** The log of a Domain's forwarder. */
export function forwarderLog(home: string, uid: string): string {
  return join(forwardersDir(home), `${uid}.log`);
}

/** A digest of the config: a changed address, host key, key file or port list restarts the forwarder. */
export function configDigest(config: ForwarderConfig): string {
  return createHash("sha256").update(JSON.stringify([config.ports, config.target])).digest("hex").slice(
    0,
    16,
  );
}

/** The record of a Domain's forwarder, if there is one. */
export function readRecord(home: string, uid: string): ForwarderRecord | undefined {
  try {
    return JSON.parse(Deno.readTextFileSync(recordPath(home, uid))) as ForwarderRecord;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof SyntaxError) return undefined;
    throw e;
  }
}

function writeRecord(home: string, record: ForwarderRecord): void {
  Deno.mkdirSync(forwardersDir(home), { recursive: true, mode: 0o700 });
  const path = recordPath(home, record.uid);
  Deno.writeTextFileSync(`${path}.tmp`, JSON.stringify(record) + "\n", { mode: 0o600 });
  Deno.renameSync(`${path}.tmp`, path);
}

function removeFiles(home: string, uid: string): void {
  for (const path of [recordPath(home, uid), forwarderLog(home, uid)]) {
    try {
      Deno.removeSync(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
}

/** What to do with a Domain's forwarder (a pure decision). */
export function decideForwarder(
  record: ForwarderRecord | undefined,
  state: { alive: boolean; digest?: string },
): "none" | "start" | "keep" | "restart" | "revive" | "stop" {
  if (state.digest === undefined) return record ? "stop" : "none";
  if (!record) return "start";
  if (!state.alive) return "revive";
  return record.digest === state.digest ? "keep" : "restart";
}

/**
 * Brings a Domain's forwarder to `config` (undefined: none wanted). Idempotent: a running forwarder with the
 * same config is left alone. Rejects with the forwarder's error when it cannot listen (a port in use); then
 * no forwarder runs and no record is left.
 */
export async function ensureForwarder(
  home: string,
  want: { uid: string; config?: ForwarderConfig },
  processes: ForwarderProcesses,
): Promise<EnsureOutcome> {
  if (!want.config && !readRecord(home, want.uid)) return { action: "none" }; // the common case: no lock
  // Two lv commands finding the same dead forwarder must not both start one (one would be left unrecorded).
  Deno.mkdirSync(home, { recursive: true, mode: 0o700 });
  const lock = await Deno.open(join(home, "forwarders.lock"), { write: true, create: true, mode: 0o600 });
  try {
    await lock.lock(true);
    return await ensureLocked(home, want, processes);
  } finally {
    lock.close(); // drops the flock
  }
}

async function ensureLocked(
  home: string,
  want: { uid: string; config?: ForwarderConfig },
  processes: ForwarderProcesses,
): Promise<EnsureOutcome> {
  const record = readRecord(home, want.uid);
  const alive = record ? processes.alive(record.pid, record.uid) : false;
  const digest = want.config ? configDigest(want.config) : undefined;
  const action = decideForwarder(record, { alive, digest });
  if (action === "none") return { action };
  if (action === "keep") return { action: "running", pid: record!.pid };
  if (record && alive) await processes.stop(record.pid, record.uid);
  if (action === "stop" || !want.config) {
    removeFiles(home, want.uid);
    return { action: "stopped" };
  }
  removeFiles(home, want.uid);
  const config = want.config;
  Deno.mkdirSync(forwardersDir(home), { recursive: true, mode: 0o700 }); // its log is there
  const pid = await processes.start(config);
  writeRecord(home, {
    pid,
    uid: config.uid,
    name: config.name,
    namespace: config.namespace,
    ports: config.ports.map(forwardedPortText),
    digest: digest!,
    startedAt: new Date().toISOString(),
  });
  if (action === "revive") return { action: "revived", pid, deadPid: record!.pid };
  return { action: action === "restart" ? "restarted" : "started", pid };
}

/** Stops a Domain's forwarder, if it has one; whether one was running. */
export async function stopForwarder(
  home: string,
  uid: string,
  processes: ForwarderProcesses,
): Promise<boolean> {
  return (await ensureForwarder(home, { uid }, processes)).action === "stopped";
}

/** Records of forwarders whose process is gone (killed, or the machine restarted). */
export function deadForwarders(home: string, processes: ForwarderProcesses): ForwarderRecord[] {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(forwardersDir(home))];
  } catch {
    return [];
  }
  return entries.filter((e) => e.name.endsWith(".json"))
    .map((e) => readRecord(home, e.name.slice(0, -".json".length)))
    .filter((r): r is ForwarderRecord => r !== undefined && !processes.alive(r.pid, r.uid));
}
