"""`make load` works: bench/load/run.py at a tiny size — a 100-account demo, four simulated
people (one of each role and a second specialist) going once through their day without pauses
— makes every kind of request and none fails; and it sends traffic nowhere but 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "bench" / "load" / "run.py"
sys.path.insert(0, str(RUN.parent))

from plan import KINDS, SETUP_KINDS, VISIT_SUMMARIES  # noqa: E402

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")),
    reason="the load test's own check runs on SQLite; the PostgreSQL leg does not repeat it",
)


def test_a_tiny_load_test_makes_every_kind_of_request_without_errors(tmp_path):
    # given a data directory of its own, and
    # when the load test builds a 100-account demo, serves it and 4 people go through their day
    report = tmp_path / "report.json"
    run = subprocess.run(
        [sys.executable, str(RUN), "--home", str(tmp_path / "load"), "--accounts", "100", "--users", "4",
         "--passes", "1", "--duration", "90", "--think", "0", "--workers", "2", "--no-background",
         "--report", str(report)],
        capture_output=True, text=True, timeout=240, cwd=ROOT,
    )

    # then it reports requests of every kind, none of them failed, and the server's memory
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    result = json.loads(report.read_text(encoding="utf-8"))
    kinds = result["summary"]["kinds"]
    assert {k for k in (*KINDS, *SETUP_KINDS) if kinds.get(k, {}).get("requests", 0) > 0} == {*KINDS, *SETUP_KINDS}
    assert result["summary"]["total"]["errors"] == 0
    assert result["summary"]["seconds"] < 90  # the run ended when the last person was done
    assert result["summary"]["total"]["requests"] == sum(k["requests"] for k in kinds.values())
    assert result["memory"]["gunicorn"]["processes"] == 3  # the master and the 2 workers asked for
    assert result["memory"]["gunicorn"]["peak_mib"] > 0
    assert "p95 ms" in run.stdout and "log visit" in run.stdout
    # the visits reported as logged are in the database (a visit posted as the run ended may
    # be written without its answer being counted: at most one a person)
    logged = _visits_logged(tmp_path / "load" / "kam.sqlite3")
    assert kinds["log visit"]["requests"] <= logged <= kinds["log visit"]["requests"] + 4

    # and the server is gone
    assert not _listening(int(result["url"].rsplit(":", 1)[1]))


def _visits_logged(database: Path) -> int:
    import sqlite3

    with sqlite3.connect(database) as connection:
        marks = ",".join("?" * len(VISIT_SUMMARIES))
        (count,) = connection.execute(
            f"SELECT count(*) FROM activities_activity WHERE kind = 'visit' AND summary IN ({marks})",
            VISIT_SUMMARIES).fetchone()
    connection.close()
    return count


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_only_one_kind_of_request_when_asked(tmp_path):
    # given the tiny demo, when two people make only list requests
    report = tmp_path / "report.json"
    run = subprocess.run(
        [sys.executable, str(RUN), "--home", str(tmp_path / "load"), "--accounts", "100", "--users", "2",
         "--passes", "3", "--duration", "60", "--think", "0", "--workers", "1", "--no-background",
         "--only", "list", "--report", str(report)],
        capture_output=True, text=True, timeout=240, cwd=ROOT,
    )

    # then the run made list requests and, after its set-up, nothing else
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    kinds = json.loads(report.read_text(encoding="utf-8"))["summary"]["kinds"]
    assert {k for k, v in kinds.items() if v["requests"]} == {"list", *SETUP_KINDS}
    assert kinds["list"]["requests"] == 2 * 3

    # and a kind the plan does not know is refused before anything starts
    refused = subprocess.run([sys.executable, str(RUN), "--home", str(tmp_path / "other"), "--only", "lists"],
                             capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert refused.returncode == 2 and "unknown kind lists" in refused.stderr
    assert not (tmp_path / "other").exists()


def test_another_host_is_refused(tmp_path):
    run = subprocess.run(
        [sys.executable, str(RUN), "--home", str(tmp_path / "load"), "--host", "10.0.0.1"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )

    assert run.returncode == 2
    assert "127.0.0.1 only" in run.stderr
    assert not (tmp_path / "load").exists()  # nothing was built or started
