"""`make load`: a key-account team's day against `kam serve` on this machine, measured.

1. A demo dataset in a data directory of its own (default var/load): migrated, then built with
   `kam demo --accounts N` unless it already holds a demo of that size (a SQLite database
   holding another size is rebuilt; another database is refused rather than emptied).
2. `kam serve` on 127.0.0.1 and a free port (its default number of gunicorn workers unless
   --workers), until it answers the login page.
3. locust, headless, with bench/load/locustfile.py: --users people for --duration.
4. The server stopped — always, also when something failed or on Ctrl-C — and a summary:
   requests/s and p50/p95/p99 per kind of request and in total, the errors, the machine's
   load average before and after, and the resident memory of gunicorn's master and workers
   (the sum of their RSS read from /proc, sampled through the run).

Exits 1 when any request failed (or none was made), 2 when the run could not be set up.
Traffic goes to 127.0.0.1 only: any other --host is refused.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
sys.path.insert(0, str(LOCUSTFILE.parent))

from plan import ALLOWED_HOST, KINDS, SETUP_KINDS  # noqa: E402

# How fast `kam demo` builds, to tell the user how long to wait: measured on 2 busy cores
# (2,000 accounts in about 35 s, migrations about 15 s). Only ever printed as an estimate.
DEMO_SECONDS_PER_ACCOUNT = 0.0175
MIGRATE_SECONDS = 15
READY_TIMEOUT_SECONDS = 120
RSS_SAMPLE_SECONDS = 0.5
STOP_GRACE_SECONDS = 20


def _kinds(text: str) -> str:
    """--only: kinds of request the plan knows, comma-separated."""
    unknown = [kind for kind in text.split(",") if kind and kind not in KINDS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown kind {', '.join(unknown)}; the kinds are {', '.join(KINDS)}")
    return text


class Interrupted(Exception):
    """SIGTERM or SIGHUP: stop as Ctrl-C does."""


def _on_signal(signum, frame):
    raise Interrupted(signal.Signals(signum).name)


def loadavg() -> tuple[float, float, float]:
    one, five, fifteen = Path("/proc/loadavg").read_text().split()[:3]
    return float(one), float(five), float(fifteen)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((ALLOWED_HOST, 0))
        return s.getsockname()[1]


# --- processes, read from /proc ------------------------------------------------------------
def descendants(pid: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parents.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def rss_bytes(pid: int) -> int:
    try:
        match = re.search(r"^VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
    except OSError:
        return 0
    return int(match.group(1)) * 1024 if match else 0


class MemorySampler(threading.Thread):
    """The summed RSS of gunicorn's master and workers (and, apart, of `kam serve`'s other
    processes: itself, the background workers, the scheduler), every RSS_SAMPLE_SECONDS."""

    def __init__(self, serve_pid: int):
        super().__init__(daemon=True)
        self.serve_pid = serve_pid
        self.web: list[int] = []
        self.other: list[int] = []
        self.web_processes = 0
        self.stopping = threading.Event()

    def sample(self) -> None:
        pids = descendants(self.serve_pid)
        web = [pid for pid in pids if "gunicorn" in cmdline(pid)]
        self.web_processes = max(self.web_processes, len(web))
        self.web.append(sum(rss_bytes(pid) for pid in web))
        self.other.append(rss_bytes(self.serve_pid) + sum(rss_bytes(pid) for pid in pids if pid not in web))

    def run(self) -> None:
        while not self.stopping.is_set():
            self.sample()
            self.stopping.wait(RSS_SAMPLE_SECONDS)

    def figures(self) -> dict:
        def mib(values: list[int]) -> dict:
            if not values:
                return {"peak_mib": 0.0, "mean_mib": 0.0}
            return {"peak_mib": round(max(values) / 2**20, 1), "mean_mib": round(statistics.fmean(values) / 2**20, 1)}

        return {"gunicorn": {**mib(self.web), "processes": self.web_processes}, "other": mib(self.other),
                "samples": len(self.web)}


# --- the dataset ---------------------------------------------------------------------------
class Kam:
    """`kam` commands against the load test's own data directory."""

    def __init__(self, home: Path):
        self.home = home
        self.env = {
            **os.environ, "KAM_HOME": str(home), "KAM_DEBUG": "0", "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": os.pathsep.join(p for p in [str(ROOT / "src"), os.environ.get("PYTHONPATH", "")] if p),
        }
        self.env.pop("DJANGO_SETTINGS_MODULE", None)

    @property
    def sqlite(self) -> bool:
        return not self.env.get("DATABASE_URL")

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "kam.cli", *args]

    def run(self, *args: str, capture: bool = False) -> str:
        """Run `kam ARGS`; with `capture` its output is kept (and shown only if it fails)."""
        pipe = subprocess.PIPE if capture else None
        result = subprocess.run(self.argv(*args), env=self.env, cwd=self.home, text=True, stdout=pipe, stderr=pipe)
        if result.returncode:
            shown = "\n".join(((result.stdout or "") + (result.stderr or "")).splitlines()[-30:])
            raise SystemExit(f"`kam {' '.join(args)}` failed with status {result.returncode}\n{shown}")
        return result.stdout or ""

    def contents(self) -> dict:
        code = ("import json; from kam.accounts.models import Account; from kam.core.models import OrgUnit, User; "
                "print(json.dumps({'accounts': Account.objects.count(), 'hq': OrgUnit.objects.filter(code='HQ').exists(), "
                "'demo_users': User.objects.filter(username__in=['director', 'gz_manager', 'gz_th_spec1']).count()}))")
        out = self.run("manage", "shell", "--no-imports", "-c", code, capture=True)
        return json.loads(out.strip().splitlines()[-1])


def prepare_dataset(kam: Kam, accounts: int) -> dict:
    """The demo of `accounts` accounts in kam.home, built or reused. Returns what was done."""
    started = time.monotonic()
    fresh = kam.sqlite and not (kam.home / "kam.sqlite3").exists()
    kam.run("migrate", "--no-input", "-v0")
    found = {"accounts": 0, "hq": False, "demo_users": 0} if fresh else kam.contents()
    if found["hq"] and found["demo_users"] == 3 and found["accounts"] == accounts:
        print(f"Reusing the demo of {accounts:,} accounts in {kam.home}.", flush=True)
        return {"built": False, "seconds": round(time.monotonic() - started, 1)}
    if found["accounts"] or found["hq"]:
        if not kam.sqlite:
            raise SystemExit(f"The database of DATABASE_URL holds other data ({found['accounts']:,} accounts); "
                             f"give the load test an empty one or one holding the demo of {accounts:,} accounts.")
        print(f"{kam.home} holds {found['accounts']:,} accounts, not {accounts:,}: building afresh.", flush=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            (kam.home / f"kam.sqlite3{suffix}").unlink(missing_ok=True)
        kam.run("migrate", "--no-input", "-v0")
    estimate = MIGRATE_SECONDS + accounts * DEMO_SECONDS_PER_ACCOUNT
    print(f"Building a demo of {accounts:,} accounts in {kam.home}: about {_duration(estimate)} on 2 cores "
          f"(2,000 accounts take about 35 s; it grows with the size). It is kept for the next run.", flush=True)
    kam.run("demo", "--accounts", str(accounts), "--quiet", capture=True)
    seconds = time.monotonic() - started
    print(f"Built in {_duration(seconds)}.", flush=True)
    return {"built": True, "seconds": round(seconds, 1)}


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


# --- the server ----------------------------------------------------------------------------
class Server:
    def __init__(self, kam: Kam, *, workers: str | None, background: bool):
        self.kam = kam
        self.port = free_port()
        self.url = f"http://{ALLOWED_HOST}:{self.port}"
        self.log_path = kam.home / "serve.log"
        args = ["serve", "--host", ALLOWED_HOST, "--port", str(self.port), "--no-migrate"]
        if workers:
            args += ["--workers", workers]
        if not background:
            args.append("--no-worker")
        self.argv = kam.argv(*args)
        self.process: subprocess.Popen | None = None
        self.children: set[int] = set()

    def start(self) -> None:
        with open(self.log_path, "wb") as log:
            # A session of its own: Ctrl-C reaches this script, which stops the server in order.
            self.process = subprocess.Popen(self.argv, env=self.kam.env, cwd=self.kam.home, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"kam serve exited with status {self.process.returncode}:\n{self.log_tail()}")
            self.children.update(descendants(self.process.pid))
            try:
                with urllib.request.urlopen(f"{self.url}/login/", timeout=5) as response:
                    if response.status == 200:
                        self.children.update(descendants(self.process.pid))
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.3)
        raise SystemExit(f"kam serve did not answer within {READY_TIMEOUT_SECONDS} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM, as a service manager stops it; whatever is left after a grace is killed."""
        if self.process is None:
            return
        self.children.update(descendants(self.process.pid))
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()
        for pid in self.children:  # they run in process groups of their own; all name our port
            if f"{self.port}" in cmdline(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.process = None

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


# --- locust and the summary ------------------------------------------------------------------
def run_locust(url: str, args, report: Path, log_path: Path) -> int:
    argv = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--only-summary",
            "--host", url, "-u", str(args.users), "-r", str(args.rate or args.users), "-t", str(args.duration),
            "--stop-timeout", "0", "--loglevel", "WARNING",
            "--kam-report", str(report), "--kam-think", args.think, "--kam-password", args.password,
            "--kam-passes", str(args.passes), "--kam-only", args.only]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in [str(ROOT / "src"), os.environ.get("PYTHONPATH", "")] if p)}
    with open(log_path, "wb") as log:
        locust = subprocess.Popen(argv, env=env, cwd=LOCUSTFILE.parent, stdout=log, stderr=subprocess.STDOUT)
        try:
            return locust.wait()
        except BaseException:
            # Stopped (Ctrl-C or SIGTERM): locust stops on SIGTERM whatever it inherited (a shell
            # may start it ignoring SIGINT); give it a moment to write its record.
            try:
                locust.send_signal(signal.SIGTERM)
                locust.wait(timeout=15)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                locust.kill()
                locust.wait()
            raise


def percentile(values: list[float], p: int) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def summarise(record: dict) -> dict:
    seconds = max(1e-9, (record.get("stopped") or 0) - (record.get("started") or 0))
    times: dict[str, list[float]] = record.get("times", {})
    failures: dict[str, dict[str, int]] = record.get("failures", {})
    order = [k for k in (*KINDS, *SETUP_KINDS) if k in times or k in failures]
    order += sorted(k for k in {*times, *failures} if k not in order)

    def row(values: list[float], errors: int) -> dict:
        return {"requests": len(values) + errors, "rps": round((len(values) + errors) / seconds, 2),
                "p50_ms": round(percentile(values, 50), 1), "p95_ms": round(percentile(values, 95), 1),
                "p99_ms": round(percentile(values, 99), 1), "errors": errors}

    kinds = {k: row(times.get(k, []), sum(failures.get(k, {}).values())) for k in order}
    every = [t for k in order for t in times.get(k, [])]
    total = row(every, sum(sum(f.values()) for f in failures.values()))
    return {"seconds": round(seconds, 1), "kinds": kinds, "total": total, "failures": failures}


def print_summary(result: dict) -> None:
    s = result["summary"]
    print()
    print(f"KAM load test: {result['users']} users for {s['seconds']} s (think time {result['think']} s), "
          f"{result['accounts']:,} demo accounts, {result['database']}, {result['cores']} cores")
    print(f"{'kind':<12} {'requests':>9} {'req/s':>8} {'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9} {'errors':>7}")
    for name, r in [*s["kinds"].items(), ("total", s["total"])]:
        if name == "total":
            print("-" * 69)
        print(f"{name:<12} {r['requests']:>9,} {r['rps']:>8.2f} {r['p50_ms']:>9.1f} {r['p95_ms']:>9.1f} "
              f"{r['p99_ms']:>9.1f} {r['errors']:>7,}")
    print("(login and ids: once per simulated user at its start; card parts and home parts: what those "
          "pages load once shown)")
    if s["failures"]:
        print("Errors:")
        for name, messages in s["failures"].items():
            for message, count in sorted(messages.items(), key=lambda m: -m[1])[:5]:
                print(f"  {name}: {count} × {message}")
    before, began, after = result["load_before"], result["load_began"], result["load_after"]
    print(f"Load average (1, 5, 15 min): {_load(before)} before, {_load(began)} as the run began, "
          f"{_load(after)} after")
    memory = result["memory"]
    print(f"Server memory (RSS, sampled {memory['samples']} times): gunicorn master + "
          f"{max(0, memory['gunicorn']['processes'] - 1)} workers peak {memory['gunicorn']['peak_mib']} MiB, "
          f"mean {memory['gunicorn']['mean_mib']} MiB; kam serve's other processes peak {memory['other']['peak_mib']} MiB")


def _load(values) -> str:
    return " ".join(f"{v:.2f}" for v in values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", default=str(ROOT / "var" / "load"), help="the load test's data directory")
    parser.add_argument("--accounts", type=int, default=2000, help="demo size")
    parser.add_argument("--users", type=int, default=8, help="simulated people at once")
    parser.add_argument("--rate", type=float, help="people started a second (default: all within a second)")
    parser.add_argument("--duration", default="60", help="how long, e.g. 60, 90s, 5m")
    parser.add_argument("--think", default="1-3", help="seconds each person waits between actions: MIN-MAX or N")
    parser.add_argument("--workers", help="gunicorn workers (default: kam serve's own)")
    parser.add_argument("--no-background", action="store_true", help="serve without background worker and scheduler")
    parser.add_argument("--host", default=ALLOWED_HOST, help=f"only {ALLOWED_HOST} is accepted")
    parser.add_argument("--password", default=os.environ.get("KAM_DEMO_PASSWORD", "kam-demo-2026"),
                        help="the demo users' password")
    parser.add_argument("--passes", type=int, default=0,
                        help="end once every person has been through their day this many times "
                             "(--duration then bounds the run); 0: run for --duration")
    parser.add_argument("--report", help="also write the summary as JSON to this file")
    parser.add_argument("--only", default="", type=_kinds,
                        help=f"comma-separated kinds of request, each person making only these: {', '.join(KINDS)}")
    args = parser.parse_args(argv)

    if args.host != ALLOWED_HOST:
        print(f"The load test sends traffic to {ALLOWED_HOST} only, not {args.host}.", file=sys.stderr)
        return 2
    if args.users < 1 or args.accounts < 1:
        print("--users and --accounts must be at least 1.", file=sys.stderr)
        return 2
    home = Path(args.home).resolve()
    if home in {(ROOT / "var").resolve(), Path(os.environ.get("KAM_HOME", ROOT / "var")).resolve()}:
        print(f"--home {home} is the app's own data directory; give the load test its own.", file=sys.stderr)
        return 2
    home.mkdir(parents=True, exist_ok=True)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _on_signal)

    load_before = loadavg()
    kam = Kam(home)
    server: Server | None = None
    sampler: MemorySampler | None = None
    record_path = home / "locust-record.json"
    record_path.unlink(missing_ok=True)
    interrupted = False
    try:
        dataset = prepare_dataset(kam, args.accounts)
        server = Server(kam, workers=args.workers, background=not args.no_background)
        started = time.monotonic()
        server.start()
        print(f"kam serve answers on {server.url} after {time.monotonic() - started:.1f} s; "
              f"running {args.users} users " + (f"through {args.passes} pass(es) of their day (at most {args.duration} s) …"
                                               if args.passes else f"for {args.duration} s …"), flush=True)
        sampler = MemorySampler(server.process.pid)
        sampler.start()
        load_began = loadavg()
        locust_status = run_locust(server.url, args, record_path, home / "locust.log")
        load_after = loadavg()
    except (KeyboardInterrupt, Interrupted):
        interrupted = True
        load_began = load_after = loadavg()
        locust_status = 130
        dataset = {}
    except SystemExit as exc:  # a step that could not be done says why
        print(exc, file=sys.stderr)
        return 2
    finally:
        if sampler is not None:
            sampler.stopping.set()
            sampler.join()
        if server is not None:
            server.stop()
            print(f"kam serve stopped (its log: {server.log_path}).", flush=True)

    if not record_path.exists():
        print(f"locust wrote no record (status {locust_status}); its log, {home / 'locust.log'}:", file=sys.stderr)
        log = home / "locust.log"
        print(log.read_text(errors="replace")[-3000:] if log.exists() else "(none)", file=sys.stderr)
        return 130 if interrupted else 2
    summary = summarise(json.loads(record_path.read_text(encoding="utf-8")))
    result = {
        "url": server.url if server else None, "accounts": args.accounts, "users": args.users, "duration": args.duration, "think": args.think,
        "workers": args.workers or "kam serve's default", "cores": os.cpu_count(),
        "database": "SQLite" if kam.sqlite else "DATABASE_URL", "dataset": dataset,
        "load_before": load_before, "load_began": load_began, "load_after": load_after,
        "memory": sampler.figures() if sampler else {}, "locust_status": locust_status,
        "interrupted": interrupted, "summary": summary,
    }
    print_summary(result)
    if args.report:
        Path(args.report).write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    if interrupted:
        print("Interrupted: the figures cover the part of the run that took place.")
        return 130
    if summary["total"]["errors"] or not summary["total"]["requests"]:
        print(f"FAILED: {summary['total']['errors']} of {summary['total']['requests']} requests failed "
              f"(server log: {home / 'serve.log'}, locust log: {home / 'locust.log'}).")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
