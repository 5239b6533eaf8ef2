"""Every benchmark in bench/ still runs: each once at a tiny size (seconds), in its own data
directory — or, on the PostgreSQL leg, its own database — asserting it completes and prints
the figure it exists for. The figures themselves are not judged here (tiny sizes say nothing
about speed); a set-up that no longer follows the models, a renamed function or a crash is.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
POSTGRES = bool(os.environ.get("DATABASE_URL"))

# (script, arguments at a tiny size, a line its result prints, whether it has a PostgreSQL leg)
RUNS = [
    ("bench_accounts.py", ["--accounts", "200", "--runs", "2", "--warmup", "0"], "cases meet their target", True),
    ("bench_churn.py", ["--accounts", "200", "--repeat", "1", "--sample", "20"], "rates (HQ, 12 months)", True),
    ("bench_compliance.py", ["--accounts", "200", "--activities", "2000", "--repeat", "1"],
     "compliance per unit, median of 1", True),
    ("bench_funnel.py", ["--accounts", "200", "--opportunities", "2000", "--repeat", "1"],
     "funnel + stage conversion", True),
    ("bench_import.py", ["--rows", "200", "--repeat", "1", "--formats", "csv,xlsx", "--no-baseline"],
     "formats meet their targets", True),
    ("bench_scoring.py", ["--accounts", "200", "--months", "12", "--repeat", "1", "--no-baseline"],
     "refit_and_score:", True),
    ("bench_tiering.py", ["--accounts", "200", "--months", "6", "--repeat", "1"], "pareto-abc", True),
    ("bench_warnings.py", ["--accounts", "200", "--repeat", "1", "--sample", "20"],
     "warnings + health, median of 1", True),
    ("bench_workbook_guard.py", ["--rows", "200", "--repeat", "1"], "guard ÷ openpyxl read_only (cpu)", False),
    ("bench_bgnbd.py", ["--customers", "2000", "--repeat", "1", "--recovery", "10"], "gamma-gamma fit, median", False),
    ("bench_pages.py", ["--accounts", "60", "--runs", "1", "--warmup", "0", "--users", "director,gz_th_spec1"],
     "accounts, median of 1", True),
    # installs DjangoCRM from PyPI into its own virtualenv (half a minute), as anyone would
    ("bench_djangocrm.py", ["--accounts", "60", "--runs", "1", "--warmup", "0"], "DjangoCRM", False),
]
# The scripts without a data directory of their own.
NO_HOME = {"bench_bgnbd.py"}
# The scripts with a second one: the peer they compare against.
PEER_HOME = {"bench_djangocrm.py": "--crm-home"}


def _own_database(url: str) -> tuple[str, str]:
    """A new, empty database on the PostgreSQL server of `url`: (its URL, its name)."""
    import psycopg

    name = f"kam_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}")), name


def _drop(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.parametrize(("script", "arguments", "figure", "has_postgres"), RUNS, ids=[r[0] for r in RUNS])
def test_the_benchmark_runs_at_a_tiny_size_and_prints_its_figure(tmp_path, script, arguments, figure, has_postgres):
    if POSTGRES and not has_postgres:
        pytest.skip(f"{script} has no PostgreSQL leg; the SQLite leg runs it")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(PYTHONPATH=str(ROOT / "src"), KAM_HOME=str(tmp_path / "kam"), KAM_CONN_MAX_AGE="0")
    database = None
    if POSTGRES:
        env["DATABASE_URL"], database = _own_database(os.environ["DATABASE_URL"])
    command = [sys.executable, str(BENCH / script), *arguments]
    if script not in NO_HOME:
        command += ["--home", str(tmp_path / "bench")]
    if script in PEER_HOME:
        command += [PEER_HOME[script], str(tmp_path / "peer")]
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=420, cwd=ROOT, env=env)
    finally:
        if database:
            _drop(os.environ["DATABASE_URL"], database)
    output = run.stdout + run.stderr
    assert "Traceback" not in output, output[-4000:]
    assert figure in run.stdout, output[-4000:]
