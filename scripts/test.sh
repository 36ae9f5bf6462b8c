#!/usr/bin/env bash
# test.sh: every test layer. Unit tests need nothing; integration and end-to-end tests run beside a private
# libvirtd in namespaces of their own (scripts/lab.sh). The test box is built first (outside the network
# namespace, which has no network), or taken from its cache.
#
#   scripts/test.sh [deno test args...]     e.g. scripts/test.sh tests/unit/
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s globstar nullglob
deno cache --quiet mod.ts tests/**/*.ts
LV_TEST_BOX_DIR=$(scripts/build_test_box.sh | tail -n 1)
export LV_TEST_BOX_DIR
# The guest OS family variants (and the cloud image) for the end-to-end tests: built only when those run
# (tests/e2e/guest_families_test.ts finds them with build_test_box.sh --variant V --print-dir).
case " ${*:-tests/} " in
  *" tests/ "* | *" tests "* | *e2e*) scripts/build_test_box.sh --all >/dev/null ;;
esac
exec scripts/lab.sh -- deno test -A --no-check=remote "${@:-tests/}"
