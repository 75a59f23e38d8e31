#!/usr/bin/env bash
# `make bench`: the benchmark report. Every figure is a ratio against a baseline measured in
# the same run on this machine, because absolute times on a shared machine mean little.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${BENCH_COUNT:-3}
out=$(mktemp)
go test -run '^$' -bench 'BenchmarkHold' -benchtime "${BENCH_TIME:-100x}" -count "$count" ./e2e | tee "$out"
echo
echo "The hold (POST /v1/bookings), median of $count runs:"
awk '
  /^BenchmarkHold\// {
    split($1, parts, "/"); name = parts[2]; sub(/-[0-9]+$/, "", name)
    v[name] = v[name] " " $3
  }
  function median(s,   a, n, i, j, t) {
    n = split(s, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return a[int((n + 1) / 2)]
  }
  END {
    base = median(v["update-with-start"])
    for (k in v) {
      m = median(v[k])
      printf "  %-20s %8.2f ms/op   %5.2fx the time of update-with-start\n", k, m / 1e6, m / base
    }
  }' "$out" | sort
rm -f "$out"
