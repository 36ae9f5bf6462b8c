#!/usr/bin/env bash
# test.sh: every test layer. Unit tests need nothing; integration and end-to-end tests run beside a private
# libvirtd in namespaces of their own (scripts/lab.sh). The test box is built first (outside the network
# namespace, which has no network), or taken from its cache.
#
#   scripts/test.sh [deno test args...]     e.g. scripts/test.sh tests/unit/
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s globstar nullglob
# What the tests use, installed when missing (a fresh machine needs only scripts/setup.sh and this).
# shellcheck source=packages.sh
source scripts/packages.sh
install_missing test.sh "${LV_PACKAGES[@]}" "${LV_TEST_PACKAGES[@]}"
deno cache --quiet mod.ts tests/**/*.ts
LV_TEST_BOX_DIR=$(scripts/build_test_box.sh | tail -n 1)
export LV_TEST_BOX_DIR
# The box as stock public boxes are (Vagrant's insecure key, no vagrant_key), for the test that boots it.
insecure=$([ $# -eq 0 ] && echo 1 || echo 0)
for arg in "$@"; do case "$arg" in *vagrant_box_test.ts | tests | tests/ | tests/e2e | tests/e2e/) insecure=1 ;; esac; done
if [ "$insecure" = 1 ]; then
  LV_TEST_INSECURE_BOX_DIR=$(scripts/build_insecure_test_box.sh | tail -n 1)
  export LV_TEST_INSECURE_BOX_DIR
fi
# The guest OS family variants (and the cloud image) for the end-to-end tests: built only when those run
# (tests/e2e/guest_families_test.ts finds them with build_test_box.sh --variant V --print-dir).
case " ${*:-tests/} " in
  *" tests/ "* | *" tests "* | *e2e*) scripts/build_test_box.sh --all >/dev/null ;;
esac
exec scripts/lab.sh -- deno test -A --no-check=remote "${@:-tests/}"
