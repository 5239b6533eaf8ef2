"""Account list page, GET /api/accounts and an account card on a demo database of a stated size.

    python bench/bench_accounts.py --accounts 100000 --runs 30
    python bench/bench_accounts.py --home <a demo's KAM_HOME> --no-analyze

Builds the demo dataset in --home (default var/bench; not the app's own KAM_HOME) or
DATABASE_URL when the database is empty, then times requests in-process with Django's test client (server
time: middleware, query, template or serialisation; no network). Prints the median
and p90 per case and the ratio to a baseline measured in the same run: the bare
`Account.objects.visible_to(user).count()` for the same user, i.e. what one
unfiltered count of the visible set costs in this database. The CPU column is this process's
CPU time per request (median): the server's work, as the issue's "CPU per request" means it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from benchlib import setup


def timed(fn, runs: int, warmup: int, cpu: list[float] | None = None) -> list[float]:
    """Wall ms of each run of `fn`; its CPU ms appended to `cpu` when given."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
        if cpu is not None:
            cpu.append((time.process_time() - start_cpu) * 1000)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests before each case")
    parser.add_argument("--home", default=str(Path("var") / "bench"))
    parser.add_argument("--no-analyze", action="store_true",
                        help="leave the database's statistics as they are (SQLite: KAM runs no ANALYZE itself)")
    args = parser.parse_args()
    setup(args.home)

    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from kam.accounts.models import Account, Contact
    from kam.core.models import User
    from kam.core.services import api_token_issue
    from kam.demo import build_demo

    call_command("migrate", verbosity=0)
    if not Account.objects.exists():
        print(f"building demo data: {args.accounts:,} accounts …", file=sys.stderr)
        build_demo(accounts=args.accounts, seed=2026, progress=True)
    size = Account.objects.count()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The steady state autovacuum leaves: statistics and a visibility map,
            # so counts can use index-only scans.
            if not args.no_analyze:
                cursor.execute("VACUUM ANALYZE")
            version = connection.pg_version
        else:
            if not args.no_analyze:
                cursor.execute("ANALYZE")
            version = __import__("sqlite3").sqlite_version
    print(f"data: {size:,} accounts, {Contact.objects.count():,} contacts; database: {connection.vendor} {version}")
    print(f"runs per case: {args.runs} (after {args.warmup} warm-up requests); times are server time in ms")

    users = {"director (HQ, sees all)": User.objects.get(username="director"),
             "branch manager (a branch + own + team)": User.objects.get(username="gz_manager"),
             "specialist (own + team)": User.objects.get(username="gz_th_spec1")}
    rows = []
    for label, user in users.items():
        page = Client(HTTP_HOST="127.0.0.1")
        page.force_login(user)
        api = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=user, name='bench')}")
        visible = Account.objects.visible_to(user).count()
        card = f"/accounts/{Account.objects.visible_to(user).order_by('id').values_list('id', flat=True)[visible // 2]}/"
        baseline = statistics.median(timed(lambda u=user: Account.objects.visible_to(u).count(), args.runs,
                                           args.warmup))

        def get(client, url):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        cases = [
            ("page /accounts/", lambda c=page: get(c, "/accounts/"), 100),
            ("page /accounts/?q=zgyd", lambda c=page: get(c, "/accounts/?q=zgyd"), 100),
            ("page /accounts/?q=广州&page=3", lambda c=page: get(c, "/accounts/?q=%E5%B9%BF%E5%B7%9E&page=3"), 100),
            ("api  /api/accounts", lambda c=api: get(c, "/api/accounts"), 50),
            ("api  /api/accounts?q=zgyd", lambda c=api: get(c, "/api/accounts?q=zgyd"), 50),
            ("api  /api/accounts?q=guangzhou", lambda c=api: get(c, "/api/accounts?q=guangzhou"), 50),
            ("page an account card", lambda c=page, url=card: get(c, url), 100),
        ]
        print(f"\n{label}: {visible:,} visible accounts; baseline count() median {baseline:.2f} ms")
        print(f"  {'case':<34}{'median':>9}{'p90':>9}{'CPU':>9}{'ratio':>8}  target")
        for name, fn, target in cases:
            cpu: list[float] = []
            samples = sorted(timed(fn, args.runs, args.warmup, cpu))
            median = statistics.median(samples)
            p90 = samples[int(0.9 * (len(samples) - 1))]
            ok = "ok" if median < target else "MISSED"
            print(f"  {name:<34}{median:>8.1f} {p90:>8.1f} {statistics.median(cpu):>8.1f} {median / baseline:>7.1f}x"
                  f"  <{target} {ok}")
            rows.append((label, name, median, p90, target))
    missed = [r for r in rows if r[2] >= r[4]]
    print(f"\n{len(rows) - len(missed)} of {len(rows)} cases meet their target median")
    return 0


if __name__ == "__main__":
    sys.exit(main())
