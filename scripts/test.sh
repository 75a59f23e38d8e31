#!/usr/bin/env bash
# The tests of `make test` after the checks: the Go tests (race detector) and the browser tests
# (scripts/web-e2e.sh) side by side, then a short fuzzing run of the request decoding. The two
# suites mostly wait (on timers, a browser, a stack starting), so together they take little more
# than the longer of them on a 2-core machine; the browser tests' stack runs on ports of its own
# (the dev ports plus 10000), below the ephemeral range the Go tests pick from. The browser
# tests' output is printed whole after the Go tests', not interleaved with it.
set -uo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}

web_log=$(mktemp)
trap 'rm -f "$web_log"' EXIT
./scripts/web-e2e.sh >"$web_log" 2>&1 &
web_pid=$!

$GO test -race -count=1 -timeout 30m ./...
go_rc=$?

wait "$web_pid"
web_rc=$?
echo "--- browser tests (scripts/web-e2e.sh) ---"
cat "$web_log"

fuzz_rc=0
if [ "$go_rc" = 0 ]; then
  $GO test -run '^$' -fuzz FuzzCreateBookingBody -fuzztime 15s ./api || fuzz_rc=$?
  $GO test -run '^$' -fuzz FuzzRegisterBody -fuzztime 15s ./api || fuzz_rc=$?
fi

echo "go tests: exit $go_rc; browser tests: exit $web_rc; fuzzing: exit $fuzz_rc"
[ "$go_rc" = 0 ] && [ "$web_rc" = 0 ] && [ "$fuzz_rc" = 0 ]
