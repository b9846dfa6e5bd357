#!/usr/bin/env bash
# Checks what the platform needs from the machine: Python 3.11+, Java 17+ with Maven (for the
# Kafka broker and Zipkin), PostgreSQL 15+ server binaries, Prometheus (Debian's package:
# `prometheus` and `promtool`) and Chromium (Debian's `chromium`, which the browser tests drive with
# Playwright: no browser is ever downloaded). On CI (CI=true) missing pieces are installed with apt-get; elsewhere
# the script names what to install and stops. The platform runs its own processes of these (own
# config, data under the state folder, own ports): the packages' own services are never started here.
set -euo pipefail

missing=()
python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null || missing+=(python3)
if [ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" ] || [ -z "${PAYSAGA_ZIPKIN_URL+set}" ]; then
  command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null 2>&1 || missing+=(maven)
fi
if [ -z "${PAYSAGA_POSTGRES_URL:-}" ] && [ -z "${PAYSAGA_PG_BINDIR:-}" ]; then
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || missing+=(postgresql-15)
fi
if [ -z "${PAYSAGA_PROMETHEUS_BIN:-}" ]; then
  { command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; } || missing+=(prometheus)
fi
[ -x "${PAYSAGA_CHROMIUM:-/usr/bin/chromium}" ] || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "${CI:-}" = "true" ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "system-deps: installing ${missing[*]}"
  # Debian starts a package's service on install (prometheus on :9090, where `make run` puts its
  # own): deny it for this install, unless the machine already has a policy of its own.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -q
  others=()
  for package in "${missing[@]}"; do [ "$package" = prometheus ] || others+=("$package"); done
  if [ ${#others[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${others[@]}"
  fi
  if [ ${#others[@]} -lt ${#missing[@]} ]; then  # without its recommended node exporter
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus
  fi
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl disable --now prometheus >/dev/null 2>&1 || true  # nor at the next boot
  fi
  exit 0
fi
echo "system-deps: missing ${missing[*]}" >&2
echo "  Debian/Ubuntu: sudo apt-get install ${missing[*]}" >&2
if [[ " ${missing[*]} " == *" prometheus "* ]]; then
  echo "  then: sudo systemctl disable --now prometheus   (the platform runs its own on :9090)" >&2
fi
echo "  (or point KAFKA_BOOTSTRAP_SERVERS / PAYSAGA_ZIPKIN_URL / PAYSAGA_POSTGRES_URL at existing servers)" >&2
exit 1
