#!/usr/bin/env bash
# The whole suite on SQLite, then on PostgreSQL. Fails if either leg fails.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
status=0
echo "== SQLite =="
$BIN/pytest -q -p no:cacheprovider || status=1
echo "== PostgreSQL =="
KAM_CONN_MAX_AGE=0 bash .ci/postgres.sh $BIN/pytest -q -p no:cacheprovider || status=1
exit $status
