#!/usr/bin/env bash
# The browser apps: every folder web/<app>/ with a package.json, each the same contract (npm
# scripts gen-api, check-api, typecheck, test, build → dist/; "config": {"service": "<name>"} names
# the service that serves it on its origin).
#   scripts/web-apps.sh build   build each app whose build is stale (sources or lockfile newer than dist)
#   scripts/web-apps.sh test    each app: check-api, typecheck, test, build
#   scripts/web-apps.sh urls    where `make run` serves each app
# `npm ci` runs only when an app's lockfile changed since the last install (a stamp in node_modules).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}

apps() {
  for manifest in web/*/package.json; do [ -e "$manifest" ] && dirname "$manifest"; done
}

install() {  # $1: the app's folder
  local stamp="$1/node_modules/.paysaga-npm-ci"
  if [ ! -e "$stamp" ] || [ "$1/package-lock.json" -nt "$stamp" ] || [ "$1/package.json" -nt "$stamp" ]; then
    echo "web: npm ci in $1"
    (cd "$1" && npm ci --no-audit --no-fund --loglevel=error)
    touch "$stamp"
  fi
}

stale() {  # $1: the app's folder; true when dist/ is missing or older than a source
  local built="$1/dist/index.html"
  [ -e "$built" ] || return 0
  [ -n "$(find "$1/src" "$1/index.html" "$1/package.json" "$1/package-lock.json" "$1"/*.config.* "$1"/tsconfig*.json \
    "$1/public" -newer "$built" -print -quit 2>/dev/null)" ]
}

served_by() {  # $1: the app's folder
  node -e 'const p = require(process.argv[1]); process.stdout.write((p.config && p.config.service) || "")' \
    "$PWD/$1/package.json"
}

case "${1:-}" in
  build)
    for app in $(apps); do
      install "$app"
      if stale "$app"; then
        echo "web: building $app"
        (cd "$app" && npm run --silent build >/dev/null)
      fi
    done
    ;;
  test)
    for app in $(apps); do
      install "$app"
      echo "web: $app: check-api, typecheck, test, build"
      (cd "$app" && npm run --silent check-api && npm run --silent typecheck && npm run --silent test && npm run --silent build)
    done
    ;;
  urls)
    for app in $(apps); do
      service=$(served_by "$app")
      [ -n "$service" ] || continue
      port=$("$PYTHON" -c 'import sys; from paysaga.devstack.catalog import SERVICES
print(next(s.port for s in SERVICES if s.name == sys.argv[1]))' "$service")
      echo "web: ${app#web/} app at http://127.0.0.1:${port}/ (served by $service)"
    done
    ;;
  *)
    echo "usage: $0 build|test|urls" >&2
    exit 2
    ;;
esac
