#!/usr/bin/env bash
# test.sh: every test layer. Unit tests need nothing; integration and end-to-end tests run beside a private
# libvirtd in namespaces of their own (scripts/lab.sh). The test box is built first (outside the network
# namespace, which has no network), or taken from its cache.
#
#   scripts/test.sh [deno test args...]     e.g. scripts/test.sh tests/unit/
#
# With no arguments it runs every layer in two labs at once: unit and integration tests in one (streamed),
# end-to-end test files (TCG guest boots, most of the time) in the other (written to a file, streamed once
# the first is done); the first then takes end-to-end files too (in a fresh lab), each file going to the lab
# free first. The boxes only end-to-end files boot are built while the first runs unit and integration tests.
# One Deno-style summary line counts every deno test of both. Type checking: once, before the labs start
# (deno check mod.ts lib.ts tests/), or not at all when LV_TEST_NO_CHECK=1 says the caller has just done it
# (.ci/run, deno task ok).
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s globstar nullglob

# Inside a lab, for a run of every layer (below): the end-to-end test files of the queue directory
# LV_TEST_QUEUE, one at a time, each taken by the lab that is free first (mv to LV_TEST_QUEUE.taken claims
# it). Exit status 1 if any deno test failed.
if [ -n "${LV_TEST_QUEUE:-}" ]; then
  rc=0
  while true; do
    file=
    for entry in "$LV_TEST_QUEUE"/*; do
      mv "$entry" "$LV_TEST_QUEUE.taken/" 2>/dev/null || continue
      file=$(cat "$LV_TEST_QUEUE.taken/${entry##*/}")
      break
    done
    [ -n "$file" ] || exit "$rc"
    deno test -A --no-check "$file" || rc=1
  done
fi
# What the tests use, installed when missing (a fresh machine needs only scripts/setup.sh and this).
# shellcheck source=packages.sh
source scripts/packages.sh
install_missing test.sh "${LV_PACKAGES[@]}" "${LV_TEST_PACKAGES[@]}"
deno cache --quiet mod.ts tests/**/*.ts
LV_TEST_BOX_DIR=$(scripts/build_test_box.sh | tail -n 1)
export LV_TEST_BOX_DIR
if [ $# -gt 0 ]; then
  # The box as stock public boxes are (Vagrant's insecure key, no vagrant_key), for the test that boots it.
  for arg in "$@"; do
    case "$arg" in
      *vagrant_box_test.ts | tests | tests/ | tests/e2e | tests/e2e/)
        LV_TEST_INSECURE_BOX_DIR=$(scripts/build_insecure_test_box.sh | tail -n 1)
        export LV_TEST_INSECURE_BOX_DIR
        break
        ;;
    esac
  done
  # The guest OS family variants (and the cloud image) for the end-to-end tests: built only when those run
  # (tests/e2e/guest_families_test.ts finds them with build_test_box.sh --variant V --print-dir).
  case " $* " in
    *" tests/ "* | *" tests "* | *e2e*) scripts/build_test_box.sh --all >/dev/null ;;
  esac
  check=--no-check=remote
  [ "${LV_TEST_NO_CHECK:-}" != 1 ] || check=--no-check
  exec scripts/lab.sh -- deno test -A "$check" "$@"
fi

# ---- every layer: two labs at once

# field REGEX LOG: the sum of the numbers REGEX captures in LOG's Deno summary lines
# ("ok | 713 passed (1413 steps) | 0 failed (42m26s)", one per deno test), 0 when absent.
field() {
  sed 's/\x1b\[[0-9;]*m//g' "$2" | grep -E '^(ok|FAILED) \| [0-9]+ passed' | sed -nE "s/.*$1.*/\1/p" |
    awk '{ n += $1 } END { print n + 0 }'
}
# steps N: Deno's " (N steps)" after a count, nothing for none.
steps() { if [ "$1" = 0 ]; then :; elif [ "$1" = 1 ]; then echo " (1 step)"; else echo " ($1 steps)"; fi; }
# summarize LOG RC LOG RC: one summary line over both runs, as Deno writes it; a run that failed without
# saying which test failed (the lab did not come up, deno crashed) counts one failed test. Status 1 if any failed.
summarize() {
  local passed=0 psteps=0 failed=0 fsteps=0 ignored=0 rc=0 f
  while [ $# -gt 0 ]; do
    passed=$((passed + $(field '\| ([0-9]+) passed' "$1")))
    psteps=$((psteps + $(field 'passed \(([0-9]+) steps?\)' "$1")))
    f=$(field '\| ([0-9]+) failed' "$1")
    if [ "$2" != 0 ] && [ "$f" = 0 ]; then f=1; fi
    failed=$((failed + f))
    fsteps=$((fsteps + $(field 'failed \(([0-9]+) steps?\)' "$1")))
    ignored=$((ignored + $(field '\| ([0-9]+) ignored' "$1")))
    [ "$2" = 0 ] || rc=1
    shift 2
  done
  local secs=$((SECONDS - start)) status=ok extra=""
  [ "$rc" = 0 ] || status=FAILED
  [ "$ignored" = 0 ] || extra=" | $ignored ignored"
  echo "$status | $passed passed$(steps "$psteps") | $failed failed$(steps "$fsteps")$extra" \
    "($((secs / 60))m$((secs % 60))s)"
  return "$rc"
}
start=$SECONDS
out=$(mktemp -d /var/tmp/lv-test.XXXXXX)
mkdir "$out/queue" "$out/queue.taken"
# The end-to-end files, the longest first (guest_families boots five guests at once: it starts beside the
# integration tests, not beside another boot; nor is it left for last), then the others in name order.
n=100
for file in tests/e2e/guest_families_test.ts tests/e2e/machine_test.ts tests/e2e/**/*_test.ts; do
  [ -f "$file" ] && ! grep -qxF "$file" "$out"/queue/* 2>/dev/null || continue
  echo "$file" >"$out/queue/$n" && n=$((n + 1))
done
# The boxes only end-to-end files boot (the stock-style box, the guest OS family variants) are built beside
# lab 1's unit and integration tests, which need only the test box (on a clean machine that saves the
# ~8 minutes they take); each end-to-end lane waits for them (e2e_lane).
(
  set +e
  dir=$(scripts/build_insecure_test_box.sh | tail -n 1) && echo "$dir" >"$out/insecure_dir" &&
    scripts/build_test_box.sh --all >/dev/null
  echo $? >"$out/builds.rc"
) >"$out/builds.log" 2>&1 &
builds_pid=$!
# e2e_lane: once the boxes are built, becomes (exec) a fresh lab taking end-to-end files from the queue;
# fails, showing the builds' log, when a build failed.
e2e_lane() {
  while [ ! -s "$out/builds.rc" ]; do sleep 1; done
  if [ "$(cat "$out/builds.rc")" != 0 ]; then
    echo "test.sh: building the end-to-end boxes failed:" && cat "$out/builds.log"
    return 1
  fi
  LV_TEST_INSECURE_BOX_DIR=$(cat "$out/insecure_dir") LV_TEST_QUEUE="$out/queue" \
    exec scripts/lab.sh -- "scripts/${0##*/}"
}
second_pid=
stop_second() {
  [ -z "$second_pid" ] || kill "$second_pid" 2>/dev/null || true
  kill "$builds_pid" 2>/dev/null || true
}
trap 'stop_second; exit 130' INT TERM
trap 'rm -rf "$out"' EXIT
e2e_lane >"$out/second.log" 2>&1 &
second_pid=$!
echo "== lab 1: unit and integration tests, then end-to-end test files as they come free (lab 2, at once:" \
  "end-to-end test files; its output follows)"
# Lab 1: unit and integration tests; then, in a fresh lab (as lab 2's, which has run end-to-end files only),
# the end-to-end files lab 2 has not taken yet.
first_lane() {
  local rc=0
  scripts/lab.sh -- deno test -A --no-check tests/unit/ tests/integration/ || rc=1
  (e2e_lane) || rc=1
  return "$rc"
}
set +e
first_lane 2>&1 | tee "$out/first.log"
rc_first=${PIPESTATUS[0]}
set -e
echo "== lab 2: end-to-end test files (started with lab 1)"
tail -n +1 -f --pid="$second_pid" "$out/second.log"
rc_second=0
wait "$second_pid" || rc_second=$?
second_pid=
summarize "$out/first.log" "$rc_first" "$out/second.log" "$rc_second"
