#!/usr/bin/env bash
# Checks what the platform needs from the machine: Python 3.11+, Java 17+ with Maven (for the
# Kafka broker and Zipkin) and PostgreSQL 15+ server binaries. On CI (CI=true) missing pieces are
# installed with apt-get; elsewhere the script names what to install and stops.
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
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "${CI:-}" = "true" ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "system-deps: installing ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
  exit 0
fi
echo "system-deps: missing ${missing[*]}" >&2
echo "  Debian/Ubuntu: sudo apt-get install ${missing[*]}" >&2
echo "  (or point KAFKA_BOOTSTRAP_SERVERS / PAYSAGA_ZIPKIN_URL / PAYSAGA_POSTGRES_URL at existing servers)" >&2
exit 1
