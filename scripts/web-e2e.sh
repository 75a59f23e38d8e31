#!/usr/bin/env bash
# `make web-e2e`: the browser tests (web/tests, Playwright driving the machine's Chromium) against
# a real stack of their own, started by scripts/dev.sh beside any running `make dev`:
#   - a fresh data directory (mktemp -d) and a fresh database booking_web_<random> on the local
#     PostgreSQL (WEB_E2E_PG_URL, default postgres://postgres@127.0.0.1:5432), dropped at the end;
#   - the dev ports plus WEB_E2E_PORT_OFFSET (10000): API 18080, worker 18081, ops 18082,
#     Temporal 17233, its Web UI 18233, Mailpit 18025, SMTP 11025, Twilio sandbox 18090; all must
#     be free.
# Arguments go to `playwright test` (a file, --grep ...). Exits with Playwright's status; the
# stack is stopped and the database dropped whatever happens. WEB_E2E_KEEP=1 keeps the data
# directory (it is kept anyway when a test fails).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

log() { printf '\033[1m[web-e2e]\033[0m %s\n' "$*"; }

off=${WEB_E2E_PORT_OFFSET:-10000}
api_port=$((8080 + off))
worker_port=$((8081 + off))
ops_port=$((8082 + off))
temporal_port=$((7233 + off))
ui_port=$((8233 + off))
mailpit_port=$((8025 + off))
smtp_port=$((1025 + off))
sandbox_port=$((8090 + off))
chromium=${CHROMIUM_PATH:-/usr/bin/chromium}
pg_base=${WEB_E2E_PG_URL:-postgres://postgres@127.0.0.1:5432}
pg_base=${pg_base%/}

# What has to be there before anything starts.
for b in booking twilio-sandbox temporal mailpit; do
  [ -x "bin/$b" ] || { log "bin/$b is missing: run make web-e2e (it builds what is missing)"; exit 1; }
done
[ -x "$chromium" ] || { log "no Chromium at $chromium: apt-get install chromium (.ci/run does), or set CHROMIUM_PATH"; exit 1; }
[ -f web/node_modules/@playwright/test/package.json ] ||
  { log "web/node_modules has no @playwright/test: run make web (npm ci) and check web/package.json"; exit 1; }
[ -f web/dist/index.html ] || log "warning: web/dist/index.html is missing, so the API serves no web app (make web builds it)"
command -v psql >/dev/null || { log "psql is not installed (needed to drop the test database)"; exit 1; }

busy=()
for spec in "API:$api_port" "worker:$worker_port" "ops:$ops_port" "Temporal:$temporal_port" \
            "Temporal-Web-UI:$ui_port" "Mailpit:$mailpit_port" "SMTP:$smtp_port" "Twilio-sandbox:$sandbox_port"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/${spec#*:}") 2>/dev/null; then busy+=("${spec%%:*} ${spec#*:}"); fi
done
if [ ${#busy[@]} -gt 0 ]; then
  log "ports in use, so the test stack cannot start: $(IFS=,; echo "${busy[*]}" | sed 's/,/, /g')"
  log "another web-e2e run or make bench (18080) may be running; stop it or set WEB_E2E_PORT_OFFSET"
  exit 1
fi

data=$(mktemp -d "${TMPDIR:-/tmp}/booking-web-e2e.XXXXXX")
db=booking_web_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
dev_pid=""
status=1

# stop: the stack (SIGTERM to dev.sh's process group; dev.sh stops its components in order),
# then anything still carrying this run's DEV_DATA_DIR, then the database and the data directory.
stop() {
  local rc=$? left pid i
  trap - EXIT INT TERM
  if [ -n "$dev_pid" ] && kill -0 "$dev_pid" 2>/dev/null; then
    log "stopping the stack"
    kill -TERM -- "-$dev_pid" 2>/dev/null || true
    # dev.sh gives each of its components up to 20 s to finish.
    for i in $(seq 1 600); do kill -0 "$dev_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$dev_pid" 2>/dev/null || true
  fi
  [ -z "$dev_pid" ] || wait "$dev_pid" 2>/dev/null || true
  # Every component inherited DEV_DATA_DIR=$data; none may outlive the run.
  left=$(stack_pids)
  if [ -n "$left" ]; then
    log "still running after the stack stopped, now killed: $(echo $left)"
    for pid in $left; do kill -TERM "$pid" 2>/dev/null || true; done
    sleep 3
    for pid in $(stack_pids); do kill -KILL "$pid" 2>/dev/null || true; done
  fi
  if ! psql "$pg_base/postgres?sslmode=disable" -qAtX -v ON_ERROR_STOP=1 \
      -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>"$data/dropdb.log"; then
    log "could not drop database $db: $(tail -1 "$data/dropdb.log")"
  fi
  if [ "${WEB_E2E_KEEP:-}" = 1 ] || [ "$status" != 0 ]; then
    log "the stack's data directory, with its logs, is kept: $data"
  else
    rm -rf "$data"
  fi
  exit "$rc"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# stack_pids: the processes whose environment names this run's data directory.
stack_pids() {
  local f pid
  for f in /proc/[0-9]*/environ; do
    pid=${f#/proc/}; pid=${pid%/environ}
    [ "$pid" = $$ ] && continue
    if grep -qzxF "DEV_DATA_DIR=$data" "$f" 2>/dev/null; then echo "$pid"; fi
  done
}

print_logs() {
  log "last lines of the stack's output ($data/dev.log):"
  tail -30 "$data/dev.log" 2>/dev/null || true
  local f
  for f in "$data"/logs/*.log; do
    [ -s "$f" ] || continue
    log "last lines of $f:"
    tail -15 "$f"
  done
}

log "starting a stack in $data (database $db, API on 127.0.0.1:$api_port)"
mkdir -p "$data/logs"
(
  # The stack's settings: its own addresses and database, the sandboxes for messages (never a
  # real Twilio or mail relay inherited from the environment), and limits generous enough for
  # one client address creating many accounts.
  unset TEMPORAL_ADDRESS TEMPORAL_NAMESPACE TEMPORAL_TLS TEMPORAL_TLS_CERT TEMPORAL_TLS_KEY TEMPORAL_TLS_CA \
    TEMPORAL_TLS_SERVER_NAME TEMPORAL_API_KEY TEMPORAL_UI_ORIGIN TEMPORAL_UI_URL PUBLIC_BASE_URL \
    TWILIO_ACCOUNT_SID TWILIO_AUTH_TOKEN TWILIO_FROM_NUMBER TWILIO_API_BASE_URL SANDBOX_INBOUND_URL \
    SMTP_HOST SMTP_USERNAME SMTP_PASSWORD SMTP_FROM TRUSTED_PROXIES
  # Every component inherits DEV_DATA_DIR: how stop() finds any left behind.
  export DEV_DATA_DIR=$data TEMPORAL=dev
  export DATABASE_URL="$pg_base/$db?sslmode=disable"
  export HTTP_ADDR=127.0.0.1:$api_port WORKER_HTTP_ADDR=127.0.0.1:$worker_port OPS_HTTP_ADDR=127.0.0.1:$ops_port
  export TEMPORAL_PORT=$temporal_port TEMPORAL_UI_PORT=$ui_port MAILPIT_UI_PORT=$mailpit_port
  export SMTP_PORT=$smtp_port SANDBOX_ADDR=127.0.0.1:$sandbox_port
  export RATE_LIMIT_REGISTER=${WEB_E2E_RATE_LIMIT_REGISTER:-1000/1h}
  export RATE_LIMIT_LOGIN=${WEB_E2E_RATE_LIMIT_LOGIN:-1000/15m}
  export RATE_LIMIT_VERIFY=${WEB_E2E_RATE_LIMIT_VERIFY:-1000/1h}
  # A session of its own (setsid execs in place: this subshell leads no group), so its process
  # group is stopped as one, and a Ctrl-C at the terminal reaches this script, which stops it,
  # rather than the stack directly. A background command starts with SIGINT ignored, which
  # bash could not trap again: env gives dev.sh the default back, so that SIGINT stops it as
  # SIGTERM does.
  exec setsid env --default-signal=INT,QUIT "$root/scripts/dev.sh" >"$data/dev.log" 2>&1 </dev/null
) &
dev_pid=$!

base_url=http://127.0.0.1:$api_port
ready=""
for _ in $(seq 1 360); do
  if ! kill -0 "$dev_pid" 2>/dev/null; then
    log "the stack exited while starting"
    print_logs
    exit 1
  fi
  if curl -sf -o /dev/null "$base_url/readyz" && grep -q 'The booking platform is running' "$data/dev.log"; then
    ready=1
    break
  fi
  sleep 0.5
done
if [ -z "$ready" ]; then
  log "the stack did not become ready within 3 minutes ($base_url/readyz)"
  print_logs
  exit 1
fi
log "stack ready at $base_url; running the browser tests"

set +e
(
  cd web
  export BASE_URL=$base_url MAILPIT_URL=http://127.0.0.1:$mailpit_port SANDBOX_URL=http://127.0.0.1:$sandbox_port \
    TEMPORAL_UI_URL=http://127.0.0.1:$ui_port CHROMIUM_PATH=$chromium PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
  npx --no-install playwright test "$@"
)
status=$?
set -e
if [ "$status" != 0 ]; then
  log "browser tests failed (status $status); reports in web/test-results/"
fi
exit "$status"
