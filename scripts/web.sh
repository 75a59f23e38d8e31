#!/usr/bin/env bash
# The web app (web/): built into web/dist, which the API binary embeds (package web).
#
#   scripts/web.sh build   npm ci when web/node_modules is missing or older than
#                          web/package-lock.json, then npm run build when web/dist is missing or
#                          older than its sources (`make web`, before `make build`)
#   scripts/web.sh gen     regenerate the API client's types, web/src/api/schema.d.ts, from
#                          api/openapi.yaml (`make web-gen`)
#   scripts/web.sh check   fail when web/src/api/schema.d.ts is not what api/openapi.yaml
#                          generates, then type-check the app (`make test`)
#
# Dependencies come from web/package-lock.json with `npm ci` only; no browser is downloaded (the
# browser tests drive the machine's Chromium, scripts/web-e2e.sh).
set -euo pipefail
cd "$(dirname "$0")/../web"

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
log() { printf '\033[1m[web]\033[0m %s\n' "$*"; }

need_node() {
  command -v npm >/dev/null || { log "npm is not installed: install Node.js 20 or later"; exit 1; }
}

# deps: npm ci when node_modules is missing or older than the lock file. npm ci writes
# node_modules/.package-lock.json last, so its age is the installation's.
deps() {
  need_node
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    log "installing dependencies (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
    mkdir -p node_modules && touch node_modules/.package-lock.json
  fi
}

# stale: whether dist/index.html is missing or older than anything it is built from.
stale() {
  [ -f dist/index.html ] || return 0
  local src=(src index.html package-lock.json ../api/openapi.yaml)
  local f
  for f in public vite.config.ts tsconfig*.json; do [ -e "$f" ] && src+=("$f"); done
  [ -n "$(find "${src[@]}" -newer dist/index.html -print -quit 2>/dev/null)" ]
}

case ${1:-} in
  build)
    deps
    if stale; then
      log "building the web app into web/dist"
      npm run build
    fi
    ;;
  gen)
    deps
    npm run gen:api
    ;;
  check)
    deps
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    # What `npm run gen:api` writes, into a scratch file.
    npx --no-install openapi-typescript ../api/openapi.yaml -o "$tmp/schema.d.ts" >"$tmp/gen.log" 2>&1 ||
      { cat "$tmp/gen.log" >&2; log "openapi-typescript failed on api/openapi.yaml"; exit 1; }
    if ! diff -u src/api/schema.d.ts "$tmp/schema.d.ts" >"$tmp/diff" 2>&1; then
      head -40 "$tmp/diff" >&2
      log "web/src/api/schema.d.ts is stale: run make web-gen"
      exit 1
    fi
    log "web/src/api/schema.d.ts matches api/openapi.yaml"
    npm run typecheck
    ;;
  *) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
