/** lv doctor's checks of the store: the SQLite file's mode, or an etcd cluster's members and quorum. */
import { EtcdStore } from "../store/etcd_store.ts";
import { etcdHealth } from "../store/etcd_health.ts";
import { SqliteStore } from "../store/sqlite_store.ts";
import type { Check } from "./doctor.ts";
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
  try {
    const mode = (await Deno.stat(path)).mode! & 0o777;
    return [{
      name: "store",
      ok: mode === 0o600,
      detail: `${path} mode ${mode.toString(8)}`,
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
