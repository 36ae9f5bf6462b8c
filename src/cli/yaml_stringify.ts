/**
 * yaml's stringify, for the commands that load it when they print YAML. An npm package is imported
 * statically, here, and this module dynamically: `deno bundle --code-splitting` (setup.sh's install) gives a
 * dynamic import of a CommonJS package only its default export (bundle_test checks both).
 */
export { stringify } from "yaml";
