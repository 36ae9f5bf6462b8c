/** lv store migrate --to URL: copy every object of the selected store into another (SQLite ⇄ etcd). */
import { migrateStore } from "../store/migrate.ts";
import { openStore, selectStoreUrl } from "./open_store.ts";
import { refString } from "../store/store.ts";
import { UsageError } from "./errors.ts";
import type { Runtime } from "./runtime.ts";

export const STORE_SUBCOMMANDS = ["migrate"];

export async function storeCommand(
  rt: Runtime,
  sub: string | undefined,
  options: { to?: string; password?: string },
): Promise<void> {
  if (sub !== "migrate") {
    throw new UsageError(
      sub ? `unknown store subcommand "${sub}"` : "lv store needs a subcommand",
      `one of: ${STORE_SUBCOMMANDS.join(", ")}; e.g. lv store migrate --to etcd://10.0.0.1:2379`,
    );
  }
  if (!options.to) throw new UsageError("lv store migrate needs --to URL", "e.g. --to etcd://10.0.0.1:2379");
  const url = selectStoreUrl({ flag: options.to }, rt.home);
  const to = await openStore(url, { password: options.password });
  try {
    if (to.location === rt.store.location) {
      throw new UsageError(`--to is the store lv is using (${to.location})`);
    }
    const result = await migrateStore(rt.store, to);
    for (const obj of result.copied) rt.output.out(`${refString(obj)} copied\n`);
    for (const obj of result.skipped) rt.output.out(`${refString(obj)} already there\n`);
    rt.output.err(
      `lv store migrate: ${result.copied.length} copied, ${result.skipped.length} already there, from ${rt.store.location} to ${to.location}\n`,
    );
  } finally {
    to.close();
  }
}
