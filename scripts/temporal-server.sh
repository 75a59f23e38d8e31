#!/usr/bin/env bash
# The full Temporal server (the production engine) on PostgreSQL, for `TEMPORAL=server make dev`
# and `TEMPORAL=server make bench`, built from the Go module proxy without Docker.
#
#   scripts/temporal-server.sh install    build the server, its schema tool and the Web UI
#                                         server into ./bin (once; about 4 minutes)
#   scripts/temporal-server.sh run        create and migrate its two databases, then run it
#                                         (in the foreground)
#   scripts/temporal-server.sh register   once it answers: the default namespace and the
#                                         platform's search attributes
#   scripts/temporal-server.sh ui         run the Web UI server (in the foreground)
#
# Settings (environment): TEMPORAL_PG_URL, the PostgreSQL server (default: DATABASE_URL's, or
# postgres://postgres@127.0.0.1:5432); TEMPORAL_DB, the history database (default temporal; its
# visibility database is ${TEMPORAL_DB}_visibility); TEMPORAL_PORT, the frontend's gRPC port
# (default 7233; the other services' ports move with it); TEMPORAL_UI_PORT (8233);
# TEMPORAL_UI_CODEC_ENDPOINT, the codec server the Web UI calls (none when empty); DEV_DATA_DIR,
# where its configuration and logs go (default .data; a second stack also sets TEMPORAL_DB).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=$root/bin

SERVER_VERSION=v1.29.1
UI_VERSION=v2.42.1 # the Web UI server the Temporal CLI v1.5.1 embeds

db=${TEMPORAL_DB:-temporal}
port=${TEMPORAL_PORT:-7233}
ui_port=${TEMPORAL_UI_PORT:-8233}
off=$((port - 7233))
pg_url=${TEMPORAL_PG_URL:-${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/x}}
# postgres://user[:password]@host[:port]/...
pg_user=$(sed -E 's#^[a-z]+://(([^:@/]*)(:[^@/]*)?@)?.*#\2#' <<<"$pg_url"); pg_user=${pg_user:-postgres}
pg_pass=$(sed -E 's#^[a-z]+://(([^:@/]*):([^@/]*)@)?.*#\3#' <<<"$pg_url")
pg_host=$(sed -E 's#^[a-z]+://([^@/]*@)?([^/:?]+).*#\2#' <<<"$pg_url")
pg_port=$(sed -E 's#^[a-z]+://([^@/]*@)?[^/:?]+(:([0-9]+))?.*#\3#' <<<"$pg_url"); pg_port=${pg_port:-5432}
dir=${DEV_DATA_DIR:-$root/.data}/temporal-server/$db

install() {
  # go install names a binary after its package's directory, and all three are "server" or
  # "sql": each goes through a directory of its own and is renamed.
  local spec pkg name tmp
  for spec in "go.temporal.io/server/cmd/server@$SERVER_VERSION temporal-server" \
              "go.temporal.io/server/cmd/tools/sql@$SERVER_VERSION temporal-sql-tool" \
              "github.com/temporalio/ui-server/v2/cmd/server@$UI_VERSION temporal-ui-server"; do
    read -r pkg name <<<"$spec"
    [ -x "$bin/$name" ] && continue
    echo "building $pkg into bin/$name"
    tmp=$(mktemp -d)
    GOBIN=$tmp go install "$pkg"
    mv "$tmp"/* "$bin/$name"
    rmdir "$tmp"
  done
}

moddir() { go mod download -json "go.temporal.io/server@$SERVER_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p'; }

sqltool() { "$bin/temporal-sql-tool" --plugin postgres12 --endpoint "$pg_host" --port "$pg_port" --user "$pg_user" --password "$pg_pass" "$@"; }

# schema DB DIR creates DB when it is absent and applies DIR's versioned schema.
# The tool's output goes to .data/temporal-server/DB/schema.log.
schema() {
  local name=$1 versioned=$2 out=$dir/schema.log
  mkdir -p "$dir"
  if sqltool --db "$name" create-database >>"$out" 2>&1; then
    sqltool --db "$name" setup-schema -v 0.0 >>"$out" 2>&1 || { tail -5 "$out" >&2; exit 1; }
  fi
  sqltool --db "$name" update-schema -d "$versioned" >>"$out" 2>&1 || { tail -5 "$out" >&2; exit 1; }
}

# config writes the server's configuration: config/development-postgres12.yaml from the module
# with this server's databases, credentials and ports, logs at warn, and a dynamic
# configuration with one task-queue partition (as `make dev`'s dev server has).
config() {
  local mod=$1 p
  mkdir -p "$dir/config"
  local subst=(-e "s#databaseName: \"temporal\"#databaseName: \"$db\"#"
               -e "s#databaseName: \"temporal_visibility\"#databaseName: \"${db}_visibility\"#"
               -e "s#connectAddr: \"127.0.0.1:5432\"#connectAddr: \"$pg_host:$pg_port\"#"
               -e "s#user: \"temporal\"#user: \"$pg_user\"#" -e "s#password: \"temporal\"#password: \"$pg_pass\"#"
               -e "s#level: info#level: warn#" -e "s#localhost:7233#127.0.0.1:$port#"
               -e "s#filepath: \"config/dynamicconfig/development-sql.yaml\"#filepath: \"$dir/config/dynamicconfig.yaml\"#")
  for p in 7233 7234 7235 7239 7243 6933 6934 6935 6939 7936 8000; do
    subst+=(-e "s#\\b$p\\b#$((p + off))#g")
  done
  sed "${subst[@]}" "$mod/config/development-postgres12.yaml" >"$dir/config/development.yaml"
  { cat "$mod/config/dynamicconfig/development-sql.yaml"
    printf 'matching.numTaskqueueReadPartitions:\n  - value: 1\nmatching.numTaskqueueWritePartitions:\n  - value: 1\n'
  } >"$dir/config/dynamicconfig.yaml"
}

case ${1:-} in
  install) install ;;
  run)
    install
    mod=$(moddir)
    schema "$db" "$mod/schema/postgresql/v12/temporal/versioned"
    schema "${db}_visibility" "$mod/schema/postgresql/v12/visibility/versioned"
    config "$mod"
    exec "$bin/temporal-server" --root "$dir" --config config --env development --allow-no-auth start
    ;;
  register)
    addr=127.0.0.1:$port
    if ! "$bin/temporal" operator namespace describe --address "$addr" --namespace default >/dev/null 2>&1; then
      "$bin/temporal" operator namespace create --address "$addr" --namespace default --retention 72h >/dev/null
    fi
    # A new namespace reaches every service within seconds; until then it is "not found".
    for _ in $(seq 1 60); do
      have=$("$bin/temporal" operator search-attribute list --address "$addr" --namespace default 2>/dev/null) && break
      sleep 1
    done
    for sa in BookingStatus:Keyword ProviderId:Keyword PatientId:Keyword AppointmentStart:Datetime; do
      grep -qw "${sa%%:*}" <<<"${have:-}" && continue
      for _ in $(seq 1 30); do
        "$bin/temporal" operator search-attribute create --address "$addr" --namespace default \
          --name "${sa%%:*}" --type "${sa#*:}" >/dev/null 2>&1 && break
        sleep 1
      done
    done
    "$bin/temporal" operator search-attribute list --address "$addr" --namespace default | grep -c -E 'BookingStatus|ProviderId|PatientId|AppointmentStart' |
      grep -qx 4 || { echo "temporal-server.sh: the search attributes are not all registered" >&2; exit 1; }
    ;;
  ui)
    install
    mkdir -p "$dir/ui"
    mod=$(go env GOMODCACHE)/github.com/temporalio/ui-server/v2@$UI_VERSION
    [ -d "$mod" ] || go mod download "github.com/temporalio/ui-server/v2@$UI_VERSION"
    sed -e "s#^port: .*#port: $ui_port#" -e "/^codec:/,/^[a-z]/s#^  endpoint:.*#  endpoint: ${TEMPORAL_UI_CODEC_ENDPOINT:-}#" \
      "$mod/config/development.yaml" >"$dir/ui/development.yaml"
    printf 'temporalGrpcAddress: 127.0.0.1:%s\nhost: 127.0.0.1\nport: %s\n' "$port" "$ui_port" >"$dir/ui/base.yaml"
    exec "$bin/temporal-ui-server" --root "$dir" --config ui --env development start
    ;;
  *) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
