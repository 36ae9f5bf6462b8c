#!/usr/bin/env bash
# bundle.sh OUTDIR [ENTRY]: lv as JavaScript chunks in OUTDIR (mod.js and the chunks a command loads when it
# runs) and OUTDIR/lv, the command that runs them: no checkout, deno.json or node_modules needed (setup.sh
# installs it). ENTRY (default mod.ts) is for tests that bundle a probe of their own.
#
# Two things make a command load only what it uses (bench item 8; tests/unit/bundle_test.ts):
# - the launcher passes --unstable-lazy-dynamic-imports: without it Deno reads every chunk behind a dynamic
#   import before starting (all ~180 for `lv get`);
# - the bundler's shared helper chunk, which every chunk imports, makes `require` for the CommonJS packages
#   (ssh2, yaml, ...) with a top-level `import ... from "node:module"`: that starts Node's compatibility layer
#   on every command (about Deno's whole start again). It is rewritten to make `require` on first use.
# - the yaml package's CommonJS build requires `process` (for two debug variables and emitWarning) and `buffer`
#   (for !!binary) as it loads: the first starts Node's process (~30 ms of every apply, get -o yaml, describe).
#   In yaml's chunk they are given what yaml's own browser build falls back to: the environment, no
#   emitWarning (console.warn then) and no Buffer (atob/btoa then).
set -euo pipefail
out=$(realpath -m "${1:?usage: scripts/bundle.sh OUTDIR [ENTRY]}")
entry=$(realpath "${2:-$(dirname "$0")/../mod.ts}")
cd "$(dirname "$0")/.."
rm -rf "$out"
mkdir -p "$out"
# The bundler reads npm packages from Deno's cache but does not fetch them: on a fresh machine (setup.sh's
# first run) nothing else has yet.
deno install -q --entrypoint "$entry"
deno bundle -q --code-splitting --external '*.node' --outdir "$out" "$entry"
helper='import { createRequire as __deno_internal_createRequire } from "node:module";
var __require = __deno_internal_createRequire(import.meta.url);'
lazy='var __lvRequire;
var __require = (id) => (__lvRequire ??= globalThis.process.getBuiltinModule("node:module").createRequire(import.meta.url))(id);'
HELPER=$helper LAZY=$lazy deno run --quiet --no-config --allow-read="$out" --allow-write="$out" --allow-env=HELPER,LAZY - "$out" <<'EOF'
const [dir] = Deno.args;
const [helper, lazy] = [Deno.env.get("HELPER")!, Deno.env.get("LAZY")!];
const YAML_REQUIRES: Record<string, string> = {
  '__require("node:process")': "{ env: Deno.env.toObject() }",
  '__require("node:buffer")': "{}",
};
let yamlChunks = 0;
for (const { name } of Deno.readDirSync(dir)) {
  const path = `${dir}/${name}`;
  const read = Deno.readTextFileSync(path);
  let text = read;
  if (text.includes(helper)) text = text.replace(helper, lazy);
  else if (/^import [^;]* from "node:module";/m.test(text)) {
    throw new Error(`bundle.sh: ${name} imports node:module in a form this script does not know`);
  }
  if (text.includes("registry.npmjs.org/yaml/")) {
    yamlChunks++;
    for (const [call, standIn] of Object.entries(YAML_REQUIRES)) text = text.replaceAll(call, standIn);
    const left = text.match(/__require\("[^"]*"\)/);
    if (left) throw new Error(`bundle.sh: yaml's chunk ${name} requires ${left[0]}, which this script does not know`);
  }
  if (text !== read) Deno.writeTextFileSync(path, text);
}
if (yamlChunks > 1) throw new Error(`bundle.sh: yaml's code in ${yamlChunks} chunks, not one`);
EOF
# DENO_NO_UPDATE_CHECK: Deno would ask dl.deno.land for its latest release from any command living ~0.5 s.
printf '#!/bin/sh\nDENO_NO_UPDATE_CHECK=1 exec %s run -A --no-config --unstable-lazy-dynamic-imports %s/%s.js "$@"\n' \
  "$(command -v deno)" "$out" "$(basename "$entry" .ts)" >"$out/lv"
chmod 755 "$out/lv"
