#!/usr/bin/env bash
# `make bench`: measures the platform and writes bench/REPORT.md (TEMPORAL=server: the full
# Temporal server on PostgreSQL instead of the dev server, into bench/REPORT-server.md), then
# prints it. Every figure is set against a baseline measured in the same run (cmd/bench says
# how). What it runs, all on this machine and none of it shared with `make dev`:
#   - a Temporal engine of its own: the dev server on port 7433 (state in a fresh file, as
#     `make dev` keeps it), or the full server
#     on 7433 in the databases temporal_bench and temporal_bench_visibility (made afresh);
#   - `booking api` on a fresh database booking_bench, on HTTP port 18080;
#   - the reads at scale on booking_bench_scale_N (N = BENCH_BOOKINGS, default 1,000,000),
#     seeded with `booking seed --bookings N` the first time (about 3 minutes) and kept for
#     the next runs. No worker ever runs on it: its confirmed bookings have no workflows.
# Settings: BENCH_PG_URL (postgres://postgres@127.0.0.1:5432), BENCH_BOOKINGS, BENCH_FLAGS
# (more cmd/bench flags, e.g. "-holds 500"), HOLD_START (passed to the API), BENCH_OUT (the
# report's file).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
engine=${TEMPORAL:-dev}
bookings=${BENCH_BOOKINGS:-1000000}
pg=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}
holds_db="$pg/booking_bench?sslmode=disable"
scale_db="$pg/booking_bench_scale_$bookings?sslmode=disable"
tport=7433
data=$root/.data/bench
mkdir -p "$data" "$root/bench"
log() { printf '\033[1m[bench]\033[0m %s\n' "$*" >&2; }

if pgrep -f 'go test -race' >/dev/null 2>&1; then
  log "warning: a test run is using the CPUs; the figures will show it"
fi
go build -o bin/booking ./cmd/booking
go build -o bin/bench ./cmd/bench

# The settings every `booking` command here needs (the Twilio and SMTP ones are never used).
benv=(TWILIO_ACCOUNT_SID=ACdeadbeefdeadbeefdeadbeefdeadbeef TWILIO_AUTH_TOKEN=0123456789abcdef0123456789abcdef
      TWILIO_FROM_NUMBER=+15005550006 TWILIO_API_BASE_URL=http://127.0.0.1:9 PUBLIC_BASE_URL=http://127.0.0.1:18080
      "JWT_SIGNING_KEY=$(bin/booking keygen)" "TEMPORAL_CODEC_KEYS=$(bin/booking keygen codec)")

pids=()
cleanup() {
  for ((i=${#pids[@]}-1; i>=0; i--)); do
    kill -TERM "${pids[$i]}" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "${pids[$i]}" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "${pids[$i]}" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM
start() { local name=$1; shift; setsid "$@" >"$data/$name.log" 2>&1 & pids+=($!); }
wait_for() {
  local name=$1 target=$2
  for _ in $(seq 1 360); do
    case $target in
      http*) curl -sf -o /dev/null "$target" && return 0 ;;
      *) (exec 3<>"/dev/tcp/${target%:*}/${target#*:}") 2>/dev/null && return 0 ;;
    esac
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || { log "$name: a process exited; see $data/"; tail -20 "$data/$name.log" >&2; exit 1; }; done
    sleep 0.5
  done
  log "$name did not come up; see $data/$name.log"; exit 1
}

# The database at scale, seeded once and kept.
if bin/bench seeded "$scale_db" 2>/dev/null; then
  scale_note="It was seeded by an earlier run and reused (the database booking_bench_scale_$bookings is kept between runs; drop it to seed afresh)."
else
  log "seeding $bookings bookings into booking_bench_scale_$bookings (once; kept for later runs)"
  bin/bench reset-db "$scale_db"
  began=$(date +%s)
  env "${benv[@]}" DATABASE_URL="$scale_db" bin/booking seed --bookings "$bookings" | tee "$data/seed.log" >&2
  scale_note="It was seeded in this run by \`booking seed --bookings $bookings\` in $(( $(date +%s) - began )) s."
fi

# The Temporal engine.
case $engine in
  dev)
    : "${HOLD_START:=eager}" # as make dev runs the dev server
    out=bench/REPORT.md
    # As `make dev` runs it: state in a file (a fresh one), one task-queue partition.
    rm -f "$data/temporal.db"
    desc="Temporal dev server ($(bin/temporal --version | head -1), state in a fresh SQLite file as in make dev, one task-queue partition)"
    start temporal bin/temporal server start-dev --db-filename "$data/temporal.db" --ip 127.0.0.1 --port "$tport" --headless --namespace default \
      --search-attribute BookingStatus=Keyword --search-attribute ProviderId=Keyword \
      --search-attribute PatientId=Keyword --search-attribute AppointmentStart=Datetime \
      --dynamic-config-value matching.numTaskqueueReadPartitions=1 \
      --dynamic-config-value matching.numTaskqueueWritePartitions=1 --log-level warn
    wait_for temporal "127.0.0.1:$tport"
    ;;
  server)
    out=bench/REPORT-server.md
    scripts/temporal-server.sh install >&2
    bin/bench reset-db "$pg/temporal_bench?sslmode=disable"
    bin/bench reset-db "$pg/temporal_bench_visibility?sslmode=disable"
    desc="Temporal server v1.29.1 (go.temporal.io/server) on the same PostgreSQL, fresh databases temporal_bench and temporal_bench_visibility, 4 history shards, one task-queue partition"
    start temporal env TEMPORAL_PG_URL="$pg" TEMPORAL_DB=temporal_bench TEMPORAL_PORT=$tport scripts/temporal-server.sh run
    wait_for temporal "127.0.0.1:$tport"
    TEMPORAL_PG_URL="$pg" TEMPORAL_DB=temporal_bench TEMPORAL_PORT=$tport scripts/temporal-server.sh register
    ;;
  *) log "TEMPORAL must be dev or server"; exit 2 ;;
esac

# The API on a fresh database, with its own worker (as in production) on a task queue of its
# own; no `booking worker`, so no reconciler schedule either.
bin/bench reset-db "$holds_db"
start api env "${benv[@]}" DATABASE_URL="$holds_db" TEMPORAL_ADDRESS="127.0.0.1:$tport" TEMPORAL_TASK_QUEUE=bench-holds \
  HTTP_ADDR=127.0.0.1:18080 OPS_HTTP_ADDR=127.0.0.1:18082 MAX_ACTIVE_BOOKINGS=1000000 \
  ADMIN_EMAIL=bench-admin@bench.test ADMIN_PASSWORD=bench-admin-pass-1 ${HOLD_START:+HOLD_START=$HOLD_START} bin/booking api
wait_for api http://127.0.0.1:18080/readyz

out=${BENCH_OUT:-$out}
log "measuring (a few minutes) into $out"
# shellcheck disable=SC2086
bin/bench -api http://127.0.0.1:18080 -db "$holds_db" -temporal "127.0.0.1:$tport" -engine "$desc" \
  -hold-start "${HOLD_START:-update-with-start (the default)}" -scale-db "$scale_db" -scale-note "$scale_note" -out "$out" ${BENCH_FLAGS:-}
