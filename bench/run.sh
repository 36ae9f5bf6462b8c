#!/usr/bin/env bash
# run.sh: lv's benchmarks (bench/run.ts) beside a private libvirtd. The test box is built first (outside the
# network namespace, which has no network) or taken from its cache, as scripts/test.sh does.
#
#   bench/run.sh [bench/run.ts flags...]     e.g. bench/run.sh --only=status,noop --runs=11
set -euo pipefail
cd "$(dirname "$0")/.."
deno cache --quiet mod.ts bench/run.ts bench/probe_get.ts bench/store.ts
if [[ " $* " == *vagrant* ]]; then
  # shellcheck source=../scripts/packages.sh
  source scripts/packages.sh
  install_missing bench/run.sh "${LV_BENCH_PACKAGES[@]}"
fi
LV_TEST_BOX_DIR=$(scripts/build_test_box.sh | tail -n 1)
export LV_TEST_BOX_DIR
ln -sfn "$LV_TEST_BOX_DIR" "$(dirname "$LV_TEST_BOX_DIR")/current"
exec scripts/lab.sh -- deno run -A bench/run.ts "$@"
