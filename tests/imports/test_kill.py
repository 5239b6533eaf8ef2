"""A `kam import` killed with SIGKILL half-way leaves whole batches, and running it again
finishes the file with exactly its rows.

Runs the real command in a child process against its own database: a SQLite file, or
a fresh database on the PostgreSQL server of the PostgreSQL leg.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

ROWS = 200_000
BATCH = 2_000
KAM = [sys.executable, "-m", "kam.cli"]


@contextmanager
def scratch_database(tmp_path: Path):
    """(DATABASE_URL, query function) of an empty database for the child process."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        path = tmp_path / "kill.sqlite3"

        def query(sql: str):
            with sqlite3.connect(path, timeout=30) as connection:
                return connection.execute(sql).fetchone()

        yield f"sqlite:///{path}", query
        return
    import psycopg

    name = f"kam_kill_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    scratch = url.rsplit("/", 1)[0] + f"/{name}"

    def query(sql: str):
        with psycopg.connect(scratch) as connection:
            return connection.execute(sql).fetchone()

    try:
        yield scratch, query
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


def _kam(env, *args, check=True, **kw):
    return subprocess.run([*KAM, *args], env=env, check=check, capture_output=True, text=True, timeout=600, **kw)


def test_sigkill_half_way_leaves_whole_batches_and_a_rerun_completes(tmp_path):
    with scratch_database(tmp_path) as (url, query):
        env = {**os.environ, "DATABASE_URL": url, "KAM_HOME": str(tmp_path / "home"),
               "KAM_IMPORT_BATCH_ROWS": str(BATCH), "KAM_CONN_MAX_AGE": "0"}
        _kam(env, "migrate", "-v0")
        _kam(env, "manage", "shell", "-c",
             "from kam.core.services import orgunit_create, user_create;"
             "hq = orgunit_create(code='HQ', name='总部', kind='hq');"
             "user_create(username='admin', role='admin', unit=hq, password='x-2026-secret')")
        source = tmp_path / "accounts.csv"
        with source.open("w", newline="", encoding="utf-8-sig") as handle:
            writer = csv.writer(handle)
            writer.writerow(["客户编号", "客户名称", "渠道"])
            writer.writerows([f"KILL{n:06d}", f"Kill Test Customer {n}", "商业客户"] for n in range(ROWS))

        # when the import is killed once at least a third of the file is written
        child = subprocess.Popen([*KAM, "import", "accounts", str(source), "--mode", "valid", "--user", "admin"],
                                 env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 400
        done = 0
        while time.monotonic() < deadline and child.poll() is None:
            row = query("SELECT rows_done FROM imports_importjob ORDER BY id DESC LIMIT 1")
            done = row[0] if row else 0
            if done >= ROWS // 3:
                break
            time.sleep(0.2)
        assert child.poll() is None, "the import finished before it could be killed"
        os.kill(child.pid, signal.SIGKILL)
        child.wait()

        # then the database holds whole batches only, exactly as far as the job says
        accounts = query("SELECT COUNT(*) FROM accounts_account")[0]
        history = query("SELECT COUNT(*) FROM accounts_historicalaccount")[0]
        rows_done, state = query("SELECT rows_done, state FROM imports_importjob ORDER BY id DESC LIMIT 1")
        assert state == "running"
        assert ROWS // 3 <= accounts < ROWS
        assert accounts == rows_done == history
        assert accounts % BATCH == 0

        # and running the same command again resumes and finishes with exactly the file's rows
        again = _kam(env, "import", "accounts", str(source), "--mode", "valid", "--user", "admin", "--json")
        result = json.loads(again.stdout)
        assert result["state"] == "done" and result["job"] == query("SELECT MAX(id) FROM imports_importjob")[0]
        assert query("SELECT COUNT(*), COUNT(DISTINCT code) FROM accounts_account") == (ROWS, ROWS)
        assert query("SELECT COUNT(*) FROM accounts_historicalaccount")[0] == ROWS
        assert query("SELECT COUNT(*) FROM imports_importjob")[0] == 1  # resumed, not started afresh

        # and checking the same file once more finds nothing left to write
        fresh = json.loads(_kam(env, "import", "accounts", str(source), "--restart", "--dry-run", "--json").stdout)
        assert fresh["counts"]["unchanged"] == ROWS and fresh["counts"]["create"] == 0
