#!/usr/bin/env bash
# Runs a command beside a private PostgreSQL server: a fresh cluster in a
# temporary folder, listening only on a Unix socket there, stopped and
# deleted when the command ends. The command finds it in
# PUENTE_TEST_DATABASE_URL (a superuser's URL: the tests create a database
# each). As root, the server runs as the `postgres` user (PostgreSQL
# refuses root); no system cluster is touched.
#
# Usage: scripts/with-postgres.sh [--durable] command [args…]
#   --durable keeps fsync and synchronous commits on (benchmarks, failover);
#   by default they are off, which changes no result a test can see.
set -euo pipefail

durable=false
if [ "${1:-}" = --durable ]; then
    durable=true
    shift
fi

bindir=""
for candidate in /usr/lib/postgresql/*/bin; do
    if [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ]; then
        bindir=$candidate
    fi
done
if [ -z "$bindir" ]; then
    echo "with-postgres: no PostgreSQL server found (apt-get install postgresql)" >&2
    exit 1
fi

folder=$(mktemp -d /tmp/puente-postgres.XXXXXX)
chmod 755 "$folder"
as_server=()
if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$folder"
    as_server=(runuser -u postgres --)
fi

stop() {
    "${as_server[@]}" "$bindir/pg_ctl" -D "$folder/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$folder"
}
trap stop EXIT

"${as_server[@]}" "$bindir/initdb" -D "$folder/data" -U puente --auth=trust \
    --encoding=UTF8 --locale=C.UTF-8 >"$folder/initdb.log" 2>&1 \
    || { cat "$folder/initdb.log" >&2; exit 1; }

settings="-c listen_addresses='' -c unix_socket_directories=$folder -c max_connections=300"
if [ "$durable" = false ]; then
    settings="$settings -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
fi
"${as_server[@]}" "$bindir/pg_ctl" -D "$folder/data" -l "$folder/server.log" -w \
    -o "$settings" start >/dev/null \
    || { cat "$folder/server.log" >&2; exit 1; }

# The failover test restarts the server once, as an operator's restart would.
restart="$folder/restart.sh"
printf '#!/bin/sh\nexec %s %s -D %s -l %s -w -o "%s" -m fast restart >/dev/null\n' \
    "${as_server[*]}" "$bindir/pg_ctl" "$folder/data" "$folder/server.log" "$settings" >"$restart"
chmod 755 "$restart"
export PUENTE_TEST_POSTGRES_RESTART="$restart"

export PUENTE_TEST_DATABASE_URL="postgres://puente@localhost/postgres?host=$folder"
"$@"
