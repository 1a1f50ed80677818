#!/usr/bin/env bash
# Starts a private, throw-away PostgreSQL server for the store tests (if one is not already up)
# and prints the URL the tests read from TETHER_TEST_POSTGRES_URL. Data lives under
# ${TETHER_PG_DIR:-/tmp/tether-pg}; the server listens on 127.0.0.1:${TETHER_PG_PORT:-55432} only.
# Stop it with: pg_ctl -D "$TETHER_PG_DIR/data" stop  (run as the user that started it).
set -euo pipefail
dir=${TETHER_PG_DIR:-/tmp/tether-pg}
port=${TETHER_PG_PORT:-55432}
url="postgres://tether@127.0.0.1:${port}/postgres"
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "PostgreSQL server binaries not found; run scripts/install-test-deps.sh" >&2
  exit 1
fi
if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
  echo "$url"
  exit 0
fi
# PostgreSQL refuses to run as root: when root, run it as the 'postgres' system user.
as() { if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
rm -rf "$dir"
mkdir -p "$dir"
[ "$(id -u)" -eq 0 ] && chown postgres "$dir"
as "'$bin/initdb' -D '$dir/data' -A trust -U tether -E UTF8 --no-sync" >"$dir/initdb.log" 2>&1 || {
  cat "$dir/initdb.log" >&2; exit 1; }
as "'$bin/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w -t 30 -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200\" start" >/dev/null || {
  cat "$dir/server.log" >&2; exit 1; }
echo "$url"
