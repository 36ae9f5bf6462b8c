/**
 * lv: virtual machines on libvirt, declared in YAML and converged by controllers.
 *
 * The program: `deno run -A mod.ts apply -f machine.yaml` (or the compiled `lv`). It imports only the CLI
 * entry, which loads each command's modules when that command runs; the library is lib.ts.
 *
 * @module
 */
import { main } from "./src/cli/main.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
