/** lv store migrate --to URL: copy every object of the selected store into another (SQLite ⇄ etcd). */
import { migrateStore } from "../store/migrate.ts";
import { openStore, selectStoreUrl } from "./open_store.ts";
import { refString } from "../store/store.ts";
import { UsageError } from "./errors.ts";
import type { Runtime } from "./runtime.ts";

export async function storeCommand(
  rt: Runtime,
  sub: string | undefined,
  options: { to?: string; password?: string },
): Promise<void> {
  // The declaration (commands/store.ts) has checked the subcommand (migrate) and --to.
  if (sub !== "migrate" || !options.to) throw new UsageError("lv store migrate --to URL");
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
