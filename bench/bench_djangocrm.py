"""KAM's account list against DjangoCRM's company list, the same companies on both, in one run.

    python bench/bench_djangocrm.py --home var/bench-pages-100k --crm-home var/bench-djangocrm --runs 7

KAM: the demo database at --home (built when empty, --accounts), its account list as HQ's
director (who sees every account). DjangoCRM (django-crm-admin, the version below, from PyPI):
installed by this script into a virtualenv of its own under --crm-home (its Django and
packages, not KAM's; mysqlclient left out, SQLite as DjangoCRM's settings default), migrated
and given its initial data (`setupdata`), then the same companies as KAM's accounts — their
names — loaded into it, owned by a superuser without a department (who sees every company).
Kept and reused while it holds as many companies as KAM has accounts.

Three pages, KAM's PAGE_SIZE rows each (25; DjangoCRM's company list is set to the same), on both: the first page of the list, a search for a
fragment of a company's name, and a deep page (the middle of the list). Both answer in
their own process through Django's test client (server time: middleware, queries, template;
no network), each request of one alternating with the same request of the other, so neither
profits from the other's warm caches; wall and CPU time, median and p95. *Ratio* = DjangoCRM's
median ÷ KAM's. Both run on SQLite on the same disk.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

from benchlib import setup

CRM_VERSION = "1.7.0"  # the last release on Django 5.2 (2.x needs Django 6 and Python 3.12)
CRM_LIST = "/en/123/crm/company/"
SIDE = Path(__file__).resolve().parent / "djangocrm" / "side.py"
SETTINGS = '''from webcrm.settings import *  # noqa: F401,F403

DEBUG = False
ALLOWED_HOSTS = ["*"]
DATABASES = {{"default": {{"ENGINE": "django.db.backends.sqlite3", "NAME": {database!r}}}}}
'''


def _run(argv: list[str], **kw) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, capture_output=True, text=True, **kw)
    if done.returncode:
        raise SystemExit(f"{' '.join(argv[:4])} … failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return done


class DjangoCRM:
    """DjangoCRM in its own virtualenv under `home`."""

    def __init__(self, home: Path):
        self.home = home
        self.python = home / "venv" / "bin" / "python"
        self.env = {**os.environ, "DJANGO_SETTINGS_MODULE": "kam_bench_settings", "PYTHONPATH": str(home)}
        self.env.pop("KAM_HOME", None)

    def install(self) -> None:
        if not self.python.exists():
            print(f"installing django-crm-admin {CRM_VERSION} into {self.home / 'venv'} …", file=sys.stderr)
            _run([sys.executable, "-m", "venv", str(self.home / "venv")])
        pip = [str(self.python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        if subprocess.run([str(self.python), "-m", "pip", "show", "django-crm-admin"], capture_output=True).returncode:
            _run([*pip, "--no-deps", f"django-crm-admin=={CRM_VERSION}"])
            wanted = _run([str(self.python), "-c", "import importlib.metadata as m; "
                                                   "print('\\n'.join(m.requires('django-crm-admin') or []))"]).stdout
            # mysqlclient needs MySQL's client library to build; the benchmark uses SQLite.
            _run([*pip, *[r for r in wanted.split() if r and not r.lower().startswith("mysqlclient")]])
        database = self.home / "crm.sqlite3"
        (self.home / "kam_bench_settings.py").write_text(SETTINGS.format(database=str(database)), encoding="utf-8")
        if not database.exists():
            print("DjangoCRM: migrate and setupdata …", file=sys.stderr)
            _run([str(self.python), "-m", "django", "migrate", "--verbosity", "0"], env=self.env, cwd=self.home)
            _run([str(self.python), "-m", "django", "setupdata"], env={**self.env, "DJANGO_SUPERUSER_PASSWORD": "bench-2026"},
                 cwd=self.home)

    def companies(self) -> int:
        done = _run([str(self.python), "-c", "import django; django.setup(); from crm.models import Company; "
                                             "print(Company.objects.count())"], env=self.env, cwd=self.home)
        return int(done.stdout.split()[-1])

    def load(self, names: list[str]) -> None:
        names_file = self.home / "names.txt"
        names_file.write_text("\n".join(names) + "\n", encoding="utf-8")
        print(f"DjangoCRM: loading {len(names):,} companies …", file=sys.stderr)
        _run([str(self.python), str(SIDE), "load", str(names_file)], env=self.env, cwd=self.home)

    def serve(self, page_size: int) -> subprocess.Popen:
        server = subprocess.Popen([str(self.python), str(SIDE), "serve"], env={**self.env, "PAGE_SIZE": str(page_size)},
                                  cwd=self.home, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        ready = json.loads(server.stdout.readline())
        assert ready.get("ready"), ready
        return server


def ask(server: subprocess.Popen, url: str) -> dict:
    server.stdin.write(url + "\n")
    server.stdin.flush()
    return json.loads(server.stdout.readline())


def summary(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def deep_cursor(user, offset: int) -> str:
    """The cursor of the page after the `offset`-th row of `user`'s account list in its own
    order: KAM pages by cursor beyond its numbered first pages (the list's "next" link)."""
    from kam.accounts import selectors
    from kam.accounts.card import extras
    from kam.accounts.card.filters import AccountFilter
    from kam.core.paging import keyset_or_none

    keyset = keyset_or_none(extras.with_columns(selectors.account_list(user=user, filters=AccountFilter())))
    assert keyset is not None
    return keyset.cursor(keyset.queryset[offset - 1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", default=str(Path("var") / "bench-pages"), help="KAM's demo database")
    parser.add_argument("--accounts", type=int, default=100_000, help="demo size built when KAM's database is empty")
    parser.add_argument("--crm-home", default=str(Path("var") / "bench-djangocrm"))
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    setup(args.home)

    from django.core.management import call_command
    from django.test import Client

    from kam.accounts.models import Account
    from kam.core.conf import config
    from kam.core.models import User
    from kam.demo import build_demo

    call_command("migrate", verbosity=0)
    args.page_size = config().PAGE_SIZE  # DjangoCRM is set to KAM's rows a page
    if not Account.objects.exists():
        print(f"building demo data: {args.accounts:,} accounts …", file=sys.stderr)
        build_demo(accounts=args.accounts, seed=2026, progress=True)
    names = list(Account.objects.alive().order_by("pk").values_list("name", flat=True))
    crm = DjangoCRM(Path(args.crm_home).resolve())
    crm.home.mkdir(parents=True, exist_ok=True)
    crm.install()
    if crm.companies() != len(names):
        crm.load(names)
    # KAM's database is measured as KAM leaves it (as bench_pages.py does): never ANALYZEd on
    # SQLite — statistics would change its plans for every page, not only these three.

    # The search: a fragment of a company's name in the middle of the list, as a person types it.
    term = names[len(names) // 2][2:4]
    deep = len(names) // args.page_size // 2
    q = urllib.parse.quote(term)
    director = User.objects.get(username="director")
    cases = [
        ("list, first page", "/accounts/", f"{CRM_LIST}"),
        (f"search “{term}”", f"/accounts/?q={q}", f"{CRM_LIST}?q={q}"),
        (f"deep page {deep:,}", f"/accounts/?cursor={urllib.parse.quote(deep_cursor(director, deep * args.page_size))}",
         f"{CRM_LIST}?p={deep}"),
    ]
    kam = Client(HTTP_HOST="127.0.0.1")
    kam.force_login(director)
    server = crm.serve(args.page_size)
    print(f"data: {len(names):,} accounts in KAM, {crm.companies():,} companies in DjangoCRM {CRM_VERSION}; "
          f"{args.page_size} rows a page; median of {args.runs} after {args.warmup} warm-up; load {os.getloadavg()[0]:.2f}")
    results = []
    try:
        for label, kam_url, crm_url in cases:
            mine, theirs = {"ms": [], "cpu": []}, {"ms": [], "cpu": []}
            for n in range(args.warmup + args.runs):
                wall, cpu = time.perf_counter(), time.process_time()
                response = kam.get(kam_url)
                wall, cpu = (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000
                assert response.status_code == 200, (kam_url, response.status_code)
                other = ask(server, crm_url)
                assert other["status"] == 200 and other["rows"] > 0, (crm_url, other)
                if n >= args.warmup:
                    mine["ms"].append(wall)
                    mine["cpu"].append(cpu)
                    theirs["ms"].append(other["ms"])
                    theirs["cpu"].append(other["cpu_ms"])
            (k50, k95), (c50, c95) = summary(mine["ms"]), summary(theirs["ms"])
            row = {"case": label, "kam_ms": k50, "kam_p95": k95, "kam_cpu": statistics.median(mine["cpu"]),
                   "crm_ms": c50, "crm_p95": c95, "crm_cpu": statistics.median(theirs["cpu"]), "ratio": c50 / k50,
                   "crm_rows": other["rows"]}
            results.append(row)
            print(f"  {label:<22} KAM {k50:7.1f} ms (p95 {k95:7.1f}, cpu {row['kam_cpu']:6.1f})   "
                  f"DjangoCRM {c50:7.1f} ms (p95 {c95:7.1f}, cpu {row['crm_cpu']:6.1f}, {other['rows']} rows)   "
                  f"ratio {row['ratio']:5.1f}×")
    finally:
        server.stdin.close()
        server.wait(timeout=30)
    print(f"load after: {os.getloadavg()[0]:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"term": term, "deep": deep, "cases": results}, ensure_ascii=False, indent=1),
                                   encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
