/**
 * lv as a library: the resource types, the manifest parser, the store, libvirt through virsh and the
 * controllers. The `lv` program is mod.ts.
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
