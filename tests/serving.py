"""KAM served for real, in child processes, for the checks that need a server of its own:
hostile uploads measured in the serving process, a worker killed with SIGKILL, supervision.

`KamServer` makes a database of its own (a SQLite file, or a new database on the PostgreSQL
server of DATABASE_URL), migrated — a copy of one database migrated once per test process
(`migrated_copy`), as `kam migrate` takes longer than anything else these checks set up — seeds it with a Python snippet run by `kam manage shell`
(the test factories importable), starts `kam serve` in its own process group and stops it.
"""

from __future__ import annotations

import atexit
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import requests

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_children(pid: int) -> list[int]:
    """Every descendant of `pid`, read from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def process_name(pid: int) -> str:
    """/proc/PID/comm: `kam serve` names the children it forks ("kam worker-1", "kam scheduler")."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _status_kb(pid: int, field: str) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.M)
    return int(match.group(1)) if match else 0


def rss_bytes(pid: int) -> int:
    return _status_kb(pid, "VmRSS") * 1024


def peak_rss_bytes(pid: int) -> int:
    """The highest resident size since the last `reset_peak_rss` (or the start)."""
    return _status_kb(pid, "VmHWM") * 1024


def reset_peak_rss(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def wait_for(predicate, *, timeout: float, every: float = 0.1, what: str = "the condition"):
    """Poll `predicate` until it returns something true (returned) or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        if result := predicate():
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(every)


# --- a migrated database, copied ------------------------------------------------------------

_template: dict[str, str] = {}


def _pg_admin_url() -> str:
    return urlunparse(urlparse(os.environ["DATABASE_URL"])._replace(path="/postgres"))


def _migrate_template() -> str:
    """Run `kam migrate` once in this process's life: into a SQLite file (its path returned), or
    into a database of its own on the PostgreSQL server of DATABASE_URL (its name returned)."""
    url = os.environ.get("DATABASE_URL", "")
    home = Path(tempfile.mkdtemp(prefix="kam-template-"))
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        name = f"kam_template_{os.getpid()}_{secrets.token_hex(3)}"
        with psycopg.connect(_pg_admin_url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        atexit.register(_drop_pg_database, name)
        target = urlunparse(urlparse(url)._replace(path=f"/{name}"))
    else:
        name = str(home / "kam.sqlite3")
        target = f"sqlite:///{name}"
    env = {**os.environ, "KAM_HOME": str(home), "DATABASE_URL": target, "KAM_CONN_MAX_AGE": "0",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    subprocess.run([sys.executable, "-m", "kam.cli", "migrate", "--no-input", "-v0"], env=env, cwd=home,
                   capture_output=True, text=True, timeout=900, check=True)
    return name


def _drop_pg_database(name: str) -> None:
    import psycopg

    try:
        with psycopg.connect(_pg_admin_url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except psycopg.Error:
        pass  # the throw-away server is gone already


def migrated_copy(database_url: str) -> None:
    """Fill the empty database of `database_url` (a SQLite file not yet written, or an existing
    PostgreSQL database) with a copy of the one migrated database of this test process."""
    if "template" not in _template:
        _template["template"] = _migrate_template()
    template = _template["template"]
    if database_url.startswith(("postgres://", "postgresql://")):
        import psycopg

        name = urlparse(database_url).path.lstrip("/")
        with psycopg.connect(_pg_admin_url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return
    import sqlite3

    path = database_url.removeprefix("sqlite:///")
    with sqlite3.connect(template) as source, sqlite3.connect(path) as copy:
        source.backup(copy)
    source.close()
    copy.close()


class KamServer:
    def __init__(self, *, workers: int = 2, env: dict | None = None):
        self.home = Path(tempfile.mkdtemp(prefix="kam-serve-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.log_path = self.home / "serve.log"
        self.process: subprocess.Popen | None = None
        self._pg_database = None
        self.database_url = self._make_database()
        self.env = {
            **os.environ,
            "KAM_HOME": str(self.home),
            "DATABASE_URL": self.database_url,
            "KAM_SECRET_KEY": secrets.token_urlsafe(40),
            "KAM_DEBUG": "0",
            "KAM_CONN_MAX_AGE": "0",
            "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(TESTS), os.environ.get("PYTHONPATH", "")]),
            "PYTHONUNBUFFERED": "1",
            # Static files from the source tree: collecting them takes seconds these checks do
            # not need (tests/core/test_serving_fast.py serves them collected).
            "KAM_STATIC": "source",
            **(env or {}),
        }
        self.env.pop("DJANGO_SETTINGS_MODULE", None)

    # --- database -------------------------------------------------------------------
    def _make_database(self) -> str:
        url = os.environ.get("DATABASE_URL", "")
        if not url.startswith(("postgres://", "postgresql://")):
            return f"sqlite:///{self.home / 'kam.sqlite3'}"
        import psycopg

        parts = urlparse(url)
        self._pg_database = f"kam_serve_{os.getpid()}_{secrets.token_hex(3)}"
        admin = urlunparse(parts._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self._pg_database}"')
        return urlunparse(parts._replace(path=f"/{self._pg_database}"))

    def _drop_database(self) -> None:
        if not self._pg_database:
            return
        import psycopg

        parts = urlparse(os.environ["DATABASE_URL"])
        admin = urlunparse(parts._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self._pg_database}" WITH (FORCE)')

    # --- commands ---------------------------------------------------------------------
    def kam(self, *args: str, timeout: float = 300, check: bool = True, input: str | None = None):
        return subprocess.run([sys.executable, "-m", "kam.cli", *args], env=self.env, cwd=self.home,
                              capture_output=True, text=True, timeout=timeout, check=check, input=input)

    def python(self, code: str, timeout: float = 300) -> str:
        """Run `code` in `kam manage shell` against this server's database; returns its stdout."""
        result = self.kam("manage", "shell", "--no-imports", "-c", code, timeout=timeout, check=False)
        if result.returncode:
            raise AssertionError(f"kam manage shell failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def migrate(self) -> None:
        """The database migrated: a copy of the one this test process migrated with `kam migrate`."""
        migrated_copy(self.database_url)

    # --- serving ------------------------------------------------------------------------
    def start(self, *extra: str, timeout: float = 90) -> None:
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kam.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(self.workers), "--no-migrate", *extra],
            env=self.env, cwd=self.home, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"kam serve exited with {self.process.returncode}:\n{self.log()}")
            try:
                if requests.get(f"{self.url}/login/", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise AssertionError(f"kam serve did not answer within {timeout} s:\n{self.log()}")

    def stop(self) -> int | None:
        """SIGTERM, as a service manager stops it; anything left after 20 s is killed. Returns
        `kam serve`'s exit status. Its children run in process groups of their own: any of them
        still there after it are killed too."""
        children = proc_children(self.process.pid) if self.process is not None else []
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
            for pid in children:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            return self.process.returncode
        return None

    def close(self) -> None:
        self.stop()
        self._drop_database()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def processes(self) -> dict[int, str]:
        """pid → "[name] command line" of everything `kam serve` runs: gunicorn's master and
        workers, and the children it forks ("[kam worker-1] …", "[kam scheduler] …")."""
        if self.process is None:
            return {}
        return {pid: f"[{process_name(pid)}] {cmdline(pid)}" for pid in proc_children(self.process.pid)}

    def pids(self, pattern: str) -> list[int]:
        return [pid for pid, line in self.processes().items() if re.search(pattern, line)]

    def worker_pids(self) -> list[int]:
        """The background workers (`kam worker`) `kam serve` runs."""
        return self.pids(r"^\[kam worker-\d+\]")

    # --- the database, read directly --------------------------------------------------------
    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Rows of `sql` on this server's database, read by the test process itself (`?` for
        parameters on both databases)."""
        if self._pg_database is None:
            import sqlite3

            with sqlite3.connect(self.home / "kam.sqlite3", timeout=30) as connection:
                return connection.execute(sql, params).fetchall()
        import psycopg

        with psycopg.connect(self.database_url) as connection:
            return connection.execute(sql.replace("?", "%s"), params).fetchall()

    # --- clients -------------------------------------------------------------------------
    def session(self, username: str, password: str) -> requests.Session:
        """A browser-like session logged in through the login form."""
        s = requests.Session()
        s.get(f"{self.url}/login/", timeout=30)
        response = s.post(f"{self.url}/login/", data={
            "username": username, "password": password, "csrfmiddlewaretoken": s.cookies["csrftoken"],
        }, headers={"Referer": f"{self.url}/login/"}, timeout=30, allow_redirects=False)
        assert response.status_code == 302, f"login as {username} failed: {response.status_code}"
        s.headers["X-CSRFToken"] = s.cookies["csrftoken"]
        s.headers["Referer"] = f"{self.url}/"
        return s
