/**
 * ssh2's key utilities, for the steps that load them on first use. An npm package is imported statically,
 * here, and this module dynamically: `deno bundle --code-splitting` (setup.sh's install) gives a dynamic
 * import of a CommonJS package only its default export (bundle_test checks both).
 */
import "./ssh2_globals.ts";
export { utils } from "ssh2";
