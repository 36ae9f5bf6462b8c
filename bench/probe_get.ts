/**
 * What `lv get domains` would cost if the CLI loaded only what get needs: the store and a printer. Not lv's
 * code path: a bound for the proposal to import commands (and ssh2, fast-xml-parser, yaml) lazily.
 *
 *   LV_HOME=DIR deno run -A bench/probe_get.ts table|json
 */
import { SqliteStore } from "../src/store/sqlite_store.ts";

const home = Deno.env.get("LV_HOME");
if (!home) throw new Error("LV_HOME is not set");
const store = new SqliteStore(`${home}/store.db`);
const objects = await store.list("Domain");
if (Deno.args[0] === "json") {
  console.log(JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }, null, 2));
} else {
  // printers.ts brings npm:yaml along (for -o yaml): this is store + table printer + yaml.
  const { printTable } = await import("../src/cli/printers.ts");
  Deno.stdout.writeSync(new TextEncoder().encode(printTable("Domain", objects, false)));
}
store.close();
