#!/usr/bin/env bash
# The tests of `make test` after the checks: the Go tests (race detector) in the foreground and,
# beside them, the browser tests (scripts/web-e2e.sh) followed by a short fuzzing run of the
# request decoding. Both sides mostly wait (on timers, a browser, a stack starting), so together
# they take little more than the longer of them on a 2-core machine; the fuzzer gets one worker
# so as not to starve the Go tests. The browser tests' stack runs on ports of its own (the dev
# ports plus 10000), below the ephemeral range the Go tests pick from. The side's output is
# printed whole after the Go tests', not interleaved with it.
set -uo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}

side=$(mktemp -d)
trap 'rm -rf "$side"' EXIT
(
  ./scripts/web-e2e.sh >"$side/web.log" 2>&1
  echo $? >"$side/web.rc"
  rc=0
  for target in FuzzCreateBookingBody FuzzRegisterBody; do
    $GO test -run '^$' -fuzz "$target" -fuzztime 15s -parallel 1 ./api >>"$side/fuzz.log" 2>&1 || rc=$?
  done
  echo $rc >"$side/fuzz.rc"
) &
side_pid=$!

$GO test -race -count=1 -timeout 30m ./...
go_rc=$?

wait "$side_pid"
echo "--- browser tests (scripts/web-e2e.sh) ---"
cat "$side/web.log"
echo "--- fuzzing ---"
cat "$side/fuzz.log"
web_rc=$(cat "$side/web.rc" 2>/dev/null || echo 1)
fuzz_rc=$(cat "$side/fuzz.rc" 2>/dev/null || echo 1)

echo "go tests: exit $go_rc; browser tests: exit $web_rc; fuzzing: exit $fuzz_rc"
[ "$go_rc" = 0 ] && [ "$web_rc" = 0 ] && [ "$fuzz_rc" = 0 ]
