/**
 * lv: virtual machines on libvirt, declared in YAML and converged by controllers.
 *
 * As a program: `deno run -A mod.ts apply -f machine.yaml` (or the compiled `lv`). As a library: the
 * resource types, the manifest parser, the store and the controllers.
 *
 * @module
 */
export * from "./src/api/types.ts";
export { formatProblem, type Problem } from "./src/api/problem.ts";
export { parseManifests } from "./src/manifest/parse.ts";
export { validateReferences } from "./src/api/validate_references.ts";
export { explain, jsonSchema } from "./src/api/schema.ts";
export { SqliteStore } from "./src/store/sqlite_store.ts";
export type { Store } from "./src/store/store.ts";
export { Libvirt } from "./src/libvirt/libvirt.ts";
export { ProcessVirsh, VirshError, type VirshRunner } from "./src/libvirt/virsh.ts";
export { Manager } from "./src/controller/manager.ts";
export { main, VERSION } from "./src/cli/main.ts";

import { main } from "./src/cli/main.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
