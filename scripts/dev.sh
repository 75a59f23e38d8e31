#!/usr/bin/env bash
# `make dev`: the whole platform on this machine. PostgreSQL (the one at DATABASE_URL, or a
# private cluster under .data/ when nothing listens there), the Temporal dev server with its Web
# UI, Mailpit, the Twilio sandbox, the worker and the API. Ctrl-C stops everything it started;
# state stays under .data/ for the next run.
#
# Every address comes from the environment, today's defaults otherwise, so that a second stack
# (the browser tests) runs beside a dev stack: DEV_DATA_DIR (.data), HTTP_ADDR
# (127.0.0.1:8080), OPS_HTTP_ADDR (:8082), WORKER_HTTP_ADDR (:8081), TEMPORAL_PORT (7233),
# TEMPORAL_UI_PORT (8233), MAILPIT_UI_PORT (8025), SMTP_PORT (1025), SANDBOX_ADDR (:8090); the
# URLs built on them (TEMPORAL_ADDRESS, PUBLIC_BASE_URL, TWILIO_API_BASE_URL, the codec
# endpoint, TEMPORAL_UI_URL, TEMPORAL_UI_ORIGIN) follow unless set themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
data=${DEV_DATA_DIR:-$root/.data}
mkdir -p "$data/logs"
data=$(cd "$data" && pwd)
export DEV_DATA_DIR=$data # scripts/temporal-server.sh keeps its state there too
# How messages name the data directory: .data/ inside the checkout, the full path elsewhere.
case $data in "$root"/*) shown=${data#"$root"/} ;; *) shown=$data ;; esac

# Development settings; anything already in the environment wins.
if [ ! -s "$data/dev.env" ]; then
  # A signing key of its own per checkout, kept so that tokens survive a restart.
  key=$("$root/bin/booking" keygen) || { echo "booking keygen failed"; exit 1; }
  echo "DEV_JWT_SIGNING_KEY=$key" > "$data/dev.env.tmp" && mv "$data/dev.env.tmp" "$data/dev.env"
fi
if ! grep -q '^DEV_TEMPORAL_CODEC_KEYS=' "$data/dev.env"; then
  # The payload codec's key, made once and kept: without it the histories in .data/temporal.db
  # could not be read again.
  key=$("$root/bin/booking" keygen codec) || { echo "booking keygen codec failed"; exit 1; }
  echo "DEV_TEMPORAL_CODEC_KEYS=$key" >> "$data/dev.env"
fi
chmod 600 "$data/dev.env"
set -a
# shellcheck disable=SC1091
. "$data/dev.env"
: "${JWT_SIGNING_KEY:=$DEV_JWT_SIGNING_KEY}"
: "${TEMPORAL_CODEC_KEYS:=$DEV_TEMPORAL_CODEC_KEYS}"
: "${DATABASE_URL:=postgres://postgres@127.0.0.1:5432/booking?sslmode=disable}"
: "${TEMPORAL_PORT:=7233}"
: "${TEMPORAL_UI_PORT:=8233}"
: "${MAILPIT_UI_PORT:=8025}"
: "${TEMPORAL_ADDRESS:=127.0.0.1:$TEMPORAL_PORT}"
: "${HTTP_ADDR:=127.0.0.1:8080}"
: "${OPS_HTTP_ADDR:=127.0.0.1:8082}"
: "${WORKER_HTTP_ADDR:=127.0.0.1:8081}"
set +a
# url_of ADDR: where a browser on this machine reaches a listen address (":8080" or
# "0.0.0.0:8080" are reached at 127.0.0.1).
url_of() {
  local host=${1%:*}
  case $host in ""|0.0.0.0|"[::]") host=127.0.0.1 ;; esac
  echo "http://$host:${1##*:}"
}
api_url=$(url_of "$HTTP_ADDR")
set -a
: "${PUBLIC_BASE_URL:=$api_url}"
: "${TWILIO_ACCOUNT_SID:=ACdeadbeefdeadbeefdeadbeefdeadbeef}"
: "${TWILIO_AUTH_TOKEN:=0123456789abcdef0123456789abcdef}"
: "${TWILIO_FROM_NUMBER:=+15005550006}"
: "${SANDBOX_ADDR:=127.0.0.1:8090}"
: "${TWILIO_API_BASE_URL:=$(url_of "$SANDBOX_ADDR")}"
: "${SANDBOX_INBOUND_URL:=$PUBLIC_BASE_URL/v1/webhooks/twilio/inbound}"
: "${SMTP_HOST:=127.0.0.1}"
: "${SMTP_PORT:=1025}"
# Mailpit's API tells a retried send whether the email already got through (README, Notifications).
: "${SMTP_LOOKUP_URL:=http://127.0.0.1:$MAILPIT_UI_PORT}"
# The Web UI, for the web app's links to a booking's workflow and the codec server's CORS.
: "${TEMPORAL_UI_URL:=http://127.0.0.1:$TEMPORAL_UI_PORT}"
if [ "$TEMPORAL_UI_PORT" != 8233 ]; then
  : "${TEMPORAL_UI_ORIGIN:=http://127.0.0.1:$TEMPORAL_UI_PORT,http://localhost:$TEMPORAL_UI_PORT}"
fi
: "${SMTP_FROM:=Demo Clinic <no-reply@clinic.test>}"
: "${ADMIN_EMAIL:=admin@clinic.test}"
: "${ADMIN_PASSWORD:=admin-pass-1}"
# The dev server answers a lone hold sooner through an eager start (README, Performance).
if [ "${TEMPORAL:-dev}" != server ]; then : "${HOLD_START:=eager}"; fi
set +a
codec_url=$api_url/codec
ui_url=http://127.0.0.1:$TEMPORAL_UI_PORT
mailpit_url=http://127.0.0.1:$MAILPIT_UI_PORT
sandbox_url=$(url_of "$SANDBOX_ADDR")
ops_url=$(url_of "$OPS_HTTP_ADDR")
worker_url=$(url_of "$WORKER_HTTP_ADDR")
# pad TEXT WIDTH: TEXT, then spaces up to WIDTH (the summary's columns).
pad() { printf "%-$2s" "$1"; }

pids=()
names=()
started_pg=""
log() { printf '\033[1m[dev]\033[0m %s\n' "$*"; }

stopped=""
cleanup() {
  [ -z "$stopped" ] || return 0
  stopped=1
  log "stopping..."
  # Newest first, one at a time: the API and the worker finish what they are doing while
  # Temporal, PostgreSQL and the senders are still there.
  for ((i=${#pids[@]}-1; i>=0; i--)); do
    kill -TERM "${pids[$i]}" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "${pids[$i]}" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "${pids[$i]}" 2>/dev/null || true
  done
  if [ -n "$started_pg" ]; then
    $started_pg "$pg_bin/pg_ctl" -D "$data/postgres" -m fast stop >/dev/null 2>&1 || true
  fi
  wait 2>/dev/null || true
  log "stopped"
}
trap 'cleanup; exit 0' INT TERM
trap cleanup EXIT

# start NAME CMD... runs a component in the background with its log under $data/logs.
start() {
  local name=$1; shift
  # In a session of its own, so that Ctrl-C reaches only this script, which then stops the
  # components in order.
  setsid "$@" >"$data/logs/$name.log" 2>&1 &
  pids+=($!)
  names+=("$name")
}

# wait_for NAME URL|HOST:PORT waits up to 3 minutes for it to answer.
wait_for() {
  local name=$1 target=$2
  for _ in $(seq 1 360); do
    case $target in
      http*) curl -sf -o /dev/null "$target" && return 0 ;;
      *) (exec 3<>"/dev/tcp/${target%:*}/${target#*:}") 2>/dev/null && return 0 ;;
    esac
    check_alive
    sleep 0.5
  done
  log "$name did not come up; see $shown/logs/$name.log"
  exit 1
}

check_alive() {
  for i in "${!pids[@]}"; do
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then
      log "${names[$i]} exited; last lines of $shown/logs/${names[$i]}.log:"
      tail -20 "$data/logs/${names[$i]}.log" || true
      exit 1
    fi
  done
}

# PostgreSQL: use the server at DATABASE_URL when one answers; otherwise run a private cluster.
pg_hostport=$(sed -E 's#^[a-z]+://([^@/]*@)?([^/:?]+)(:([0-9]+))?.*#\2 \4#' <<<"$DATABASE_URL")
pg_host=${pg_hostport% *}; pg_port=${pg_hostport#* }; pg_port=${pg_port:-5432}
if ! (exec 3<>"/dev/tcp/$pg_host/$pg_port") 2>/dev/null; then
  pg_bin=$(dirname "$(command -v initdb 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -1)")
  if [ ! -x "$pg_bin/initdb" ]; then
    log "nothing answers at $pg_host:$pg_port and PostgreSQL is not installed: install it (apt-get install postgresql) or set DATABASE_URL"
    exit 1
  fi
  runas=""
  if [ "$(id -u)" = 0 ]; then runas="runuser -u postgres --"; fi # initdb refuses to run as root
  if [ ! -f "$data/postgres/PG_VERSION" ]; then
    log "creating a private PostgreSQL cluster under $shown/postgres"
    mkdir -p "$data/postgres"
    if [ -n "$runas" ]; then chown postgres "$data/postgres"; fi
    $runas "$pg_bin/initdb" -D "$data/postgres" -U postgres --auth=trust >"$data/logs/initdb.log"
  fi
  mkdir -p "$data/pgsock"
  touch "$data/logs/postgres.log"
  if [ -n "$runas" ]; then chown postgres "$data/pgsock" "$data/logs/postgres.log"; fi
  log "starting PostgreSQL on $pg_host:$pg_port"
  $runas "$pg_bin/pg_ctl" -D "$data/postgres" -l "$data/logs/postgres.log" -w \
    -o "-p $pg_port -c listen_addresses=$pg_host -k $data/pgsock" start >/dev/null
  started_pg="$runas "
fi

if [ "${TEMPORAL:-dev}" = server ]; then
  # The production engine instead: the full Temporal server on this PostgreSQL, in its own
  # databases temporal and temporal_visibility (scripts/temporal-server.sh; README, Performance).
  "$root/scripts/temporal-server.sh" install
  log "starting the Temporal server on PostgreSQL (databases ${TEMPORAL_DB:-temporal}, ${TEMPORAL_DB:-temporal}_visibility)"
  start temporal "$root/scripts/temporal-server.sh" run
else
log "starting the Temporal dev server (state in $shown/temporal.db)"
# The Web UI calls the API's codec server to show payloads decrypted (admins only, signed in at
# http://127.0.0.1:8080/codec; see README, "Encrypted payloads"). The dev server cannot tell its
# UI to include credentials, so each admin turns that on in the UI's Codec Server settings.
start temporal "$root/bin/temporal" server start-dev \
  --db-filename "$data/temporal.db" --ip 127.0.0.1 --port "$TEMPORAL_PORT" --ui-port "$TEMPORAL_UI_PORT" --namespace default \
  --ui-codec-endpoint "$codec_url" \
  --search-attribute BookingStatus=Keyword --search-attribute ProviderId=Keyword \
  --search-attribute PatientId=Keyword --search-attribute AppointmentStart=Datetime \
  --dynamic-config-value matching.numTaskqueueReadPartitions=1 \
  --dynamic-config-value matching.numTaskqueueWritePartitions=1 \
  --log-level warn
fi
log "starting Mailpit"
start mailpit "$root/bin/mailpit" --listen "127.0.0.1:$MAILPIT_UI_PORT" --smtp "127.0.0.1:$SMTP_PORT" --database "$data/mailpit.db"
log "starting the Twilio sandbox"
start twilio-sandbox "$root/bin/twilio-sandbox"

log "migrating and seeding $DATABASE_URL"
"$root/bin/booking" seed 2>&1 | tee -a "$data/logs/seed.log"

wait_for temporal "127.0.0.1:$TEMPORAL_PORT"
if [ "${TEMPORAL:-dev}" = server ]; then
  log "registering the namespace and search attributes; starting the Temporal Web UI"
  "$root/scripts/temporal-server.sh" register
  start temporal-ui env TEMPORAL_UI_CODEC_ENDPOINT="$codec_url" "$root/scripts/temporal-server.sh" ui
fi
wait_for mailpit "$mailpit_url/"
log "starting the worker and the API"
start worker "$root/bin/booking" worker
start api "$root/bin/booking" api
wait_for api "$api_url/readyz"
wait_for temporal-ui "$ui_url/"

cat <<TXT

  The booking platform is running. Ctrl-C stops it; data stays in $shown/.

  Web app           $(pad "$api_url/" 31)(open this; demo logins below)
  REST API          $(pad "$api_url/v1" 30)(docs: $api_url/docs)
  Health            $api_url/healthz  $api_url/readyz
  Metrics           $ops_url/metrics  $worker_url/metrics (worker)
  Temporal Web UI   $(pad "$ui_url" 31)(gRPC 127.0.0.1:$TEMPORAL_PORT)
  Codec server      $(pad "$codec_url" 31)(payloads are encrypted; admins decode, see README)
    To see decoded payloads in the Web UI: sign in as the admin at $codec_url,
    then in the Web UI (at 127.0.0.1, not localhost) open Codec Server, choose "Use my browser
    setting", keep the endpoint $codec_url, tick "Include cross-origin
    credentials" and apply (once per browser; the sign-in lasts 8 hours).
  Mailpit (email)   $(pad "$mailpit_url" 31)(SMTP 127.0.0.1:$SMTP_PORT)
  Twilio sandbox    $(pad "$sandbox_url" 31)(SMS sent, as the real client sends them)

  Demo logins
    admin     $ADMIN_EMAIL / $ADMIN_PASSWORD
    patient   patient@clinic.test / patient-pass-1
    doctors   anna.weber@clinic.test, luca.rossi@clinic.test, maya.chen@clinic.test / doctor-pass-1

  Logs in $shown/logs/. Try:
    curl -s $api_url/v1/providers

TXT

# Stay up until Ctrl-C, or until a component dies (then stop the rest).
while true; do
  wait -n "${pids[@]}" 2>/dev/null || true
  check_alive
done
