#!/usr/bin/env bash
# The whole suite on SQLite and on PostgreSQL, the two legs side by side (each in its own
# KAM_HOME, each with its own log, printed when both are done). Fails if either leg fails.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
LOGS=$(mktemp -d /tmp/kam-test.XXXXXX)
trap 'rm -rf "$LOGS"' EXIT
started=$SECONDS
KAM_HOME=var/test-sqlite $BIN/pytest -q -p no:cacheprovider --durations=15 >"$LOGS/sqlite.log" 2>&1 &
sqlite=$!
KAM_HOME=var/test-postgres KAM_CONN_MAX_AGE=0 bash .ci/postgres.sh $BIN/pytest -q -p no:cacheprovider --durations=15 \
  >"$LOGS/postgres.log" 2>&1 &
postgres=$!
status=0
wait $sqlite || status=1
echo "== SQLite =="
cat "$LOGS/sqlite.log"
wait $postgres || status=1
echo "== PostgreSQL =="
cat "$LOGS/postgres.log"
echo "== both legs in $((SECONDS - started)) s =="
exit $status
