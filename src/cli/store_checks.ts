/**
 * lv doctor's checks of the store: where it is and why, the SQLite file's mode (0600, or the system store's
 * 0660 and group), or an etcd cluster's members and quorum.
 */
import { EtcdStore } from "../store/etcd_store.ts";
import { etcdHealth } from "../store/etcd_health.ts";
import { KINDS } from "../api/types.ts";
import { SqliteStore } from "../store/sqlite_store.ts";
import { storePath } from "./open_store.ts";
import { groupId, SHARED_FILE_MODE } from "../store/shared_store_file.ts";
import type { Check } from "./doctor_check.ts";
import type { Runtime } from "./runtime.ts";

export async function storeChecks(rt: Runtime): Promise<Check[]> {
  if (rt.store instanceof EtcdStore) {
    try {
      const health = await etcdHealth(rt.store.client);
      const leader = health.members.find((m) => m.leader);
      return [
        {
          name: "store",
          ok: health.quorum,
          detail: `${rt.store.location}: ${health.answering}/${health.members.length} members answer` +
            (health.quorum
              ? `, quorum, leader ${leader?.name ?? "unknown"}`
              : ", NO QUORUM: writes and reads fail"),
          fix: health.quorum
            ? undefined
            : "start the members that are down (etcd needs more than half of them)",
        },
        ...health.members.map((m): Check => ({
          name: `store member ${m.name}`,
          ok: m.error ? (health.quorum ? "warn" : false) : true,
          detail: `${m.endpoint}: ${m.error ?? `etcd ${m.version}${m.leader ? ", leader" : ""}`}`,
          fix: m.error ? `start etcd member ${m.name} or check the network to ${m.endpoint}` : undefined,
        })),
      ];
    } catch (e) {
      return [{ name: "store", ok: false, detail: `${rt.store.location}: ${(e as Error).message}` }];
    }
  }
  const path = rt.store instanceof SqliteStore ? rt.store.path : rt.store.location;
  const group = rt.store instanceof SqliteStore ? rt.store.group : undefined;
  const why = rt.storeFrom ? ` (${rt.storeFrom})` : "";
  try {
    const info = await Deno.stat(path);
    const mode = info.mode! & 0o777;
    if (group !== undefined) {
      return [sharedFileCheck(path, { mode, gid: info.gid, group, why }), ...await leftOver(rt.home, path)];
    }
    return [{
      name: "store",
      ok: mode === 0o600,
      detail: `${path} mode ${mode.toString(8)}${why}`,
      fix: mode === 0o600 ? undefined : `chmod 600 ${path}`,
    }];
  } catch (e) {
    return [{
      name: "store",
      ok: false,
      detail: (e as Error).message,
      fix: `check permissions of ${rt.home}`,
    }];
  }
}

/** The system store: its group's file, mode 0660, so every member may read and write it. */
function sharedFileCheck(
  path: string,
  file: { mode: number; gid: number | null; group: string; why: string },
): Check {
  const gid = groupId(file.group);
  const ok = file.mode === SHARED_FILE_MODE && gid !== undefined && file.gid === gid;
  return {
    name: "store",
    ok,
    detail: `${path} mode ${file.mode.toString(8)}, group ${
      file.gid === gid ? file.group : `gid ${file.gid}`
    }${file.why}`,
    fix: ok ? undefined : `as root: chgrp ${file.group} ${path} && chmod 660 ${path}`,
  };
}

/**
 * With the system store in use: the objects the user's own store still holds (an lv before the system store
 * kept qemu:///system's objects there), which lv no longer reads, and how to move them.
 */
async function leftOver(home: string, systemStore: string): Promise<Check[]> {
  const own = storePath(home);
  try {
    await Deno.stat(own);
  } catch {
    return [];
  }
  const store = new SqliteStore(own);
  let count = 0;
  try {
    for (const kind of KINDS) count += (await store.list(kind)).length;
  } finally {
    store.close();
  }
  if (count === 0) return [];
  return [{
    name: "own store",
    ok: "warn",
    detail: `${own} holds ${count} object${count === 1 ? "" : "s"} lv no longer reads: ` +
      `qemu:///system's objects are in the system store`,
    fix: `lv store migrate --store sqlite:${own} --to sqlite:${systemStore}`,
  }];
}
