#!/usr/bin/env bash
# Run a command against a throw-away PostgreSQL server: start it on a temporary data
# directory (Unix socket + 127.0.0.1 on a free port), export DATABASE_URL, run the
# command, stop the server and remove the directory whatever happens.
set -euo pipefail
PG_BIN=$(dirname "$(compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V | tail -1)")
DATA=$(mktemp -d /tmp/kam-pg.XXXXXX)
PORT=${KAM_PG_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
AS=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres "$DATA"
  AS=(runuser -u postgres --)
fi
cleanup() {
  "${AS[@]}" "$PG_BIN/pg_ctl" -D "$DATA/db" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$DATA"
}
trap cleanup EXIT
"${AS[@]}" "$PG_BIN/initdb" -D "$DATA/db" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
"${AS[@]}" "$PG_BIN/pg_ctl" -D "$DATA/db" -l "$DATA/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DATA -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100" start >/dev/null
echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT (data in $DATA)"
"$PG_BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres kam
export DATABASE_URL="postgres://postgres@127.0.0.1:$PORT/kam"
"$@"
