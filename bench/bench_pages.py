"""Every page of the navigation, for HQ, a branch manager and a specialist, on a demo database.

    python bench/bench_pages.py --home var/bench-pages-10k --accounts 10000
    python bench/bench_pages.py --home var/bench-pages-100k --accounts 100000 --json 100k.json
    python bench/bench_pages.py --compare 10k.json 100k.json

Builds the full demo at --home (or DATABASE_URL) when the database is empty, then requests
each page of the menu and an account card in-process with Django's test client (server
time: middleware, queries, template; no network) with the cache emptied before every
request, so no figure is a cached one. Per page and user: the median and p95 wall time, the
median CPU time of this process (the database's work on SQLite is in-process too; on
PostgreSQL it is the server's, not counted), the query count and the HTML size. On PostgreSQL
the database is VACUUM ANALYZEd first (the steady state autovacuum leaves).

Baseline, in the same run: the same pages with the read models switched off
(KAM_READ_MODELS=0 — the figures computed from the raw facts on every request, as before
the read models), each request alternating with one of the current way so that neither
profits from the other's warm caches; *ratio* = baseline median ÷ median. `--compare` prints how each page grew
from one data size to another (the 100,000 figure ÷ the 10,000 one).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

USERS = ("director", "gz_manager", "gz_th_spec1")
PAGES = (
    ("home", "home", ()),
    ("accounts", "accounts:list", ()),
    ("accounts filtered", "accounts:list", "?lifecycle_status=active&channel=key"),
    ("account card", "accounts:detail", None),
    ("tiering", "tiering:list", ()),
    ("activities", "activities:list", ()),
    ("tasks", "activities:tasks", ()),
    ("plan", "activities:plan", ()),
    ("compliance", "activities:compliance", ()),
    ("standards", "activities:standards", ()),
    ("playbooks", "activities:playbooks", ()),
    ("staffing", "activities:staffing", ()),
    ("leads", "sales:leads", ()),
    ("pool", "sales:pool", ()),
    ("opportunities", "sales:opportunities", ()),
    ("board", "sales:board", ()),
    ("reviews", "sales:reviews", ()),
    ("analytics", "sales:analytics", ()),
    ("churn", "insight:churn", ()),
    ("warnings", "insight:warnings", ()),
    ("models", "insight:models", ()),
    ("imports", "imports:list", ()),
)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def urls_for(user) -> list[tuple[str, str]]:
    from django.urls import reverse

    from kam.accounts.models import Account

    card = (Account.objects.visible_to(user).filter(contacts__isnull=False)
            .order_by("-updated_at", "-id").values_list("pk", flat=True).first())
    found = []
    for label, name, query in PAGES:
        if query is None:
            if card is not None:
                found.append((label, reverse(name, args=[card])))
            continue
        found.append((label, reverse(name) + ("" if isinstance(query, tuple) else query)))
    return found


def _one(client, url: str) -> tuple[float, float, int, int, int]:
    """One uncached request: wall ms, CPU ms, queries, bytes, status."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        wall, cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return wall * 1000, cpu * 1000, len(captured), len(response.content), response.status_code


def _figures(samples: list[tuple[float, float, int, int, int]]) -> dict:
    walls = [s[0] for s in samples]
    return {"median": statistics.median(walls), "p95": percentile(walls, 0.95),
            "cpu": statistics.median(s[1] for s in samples), "queries": samples[-1][2],
            "kb": samples[-1][3] / 1024, "status": samples[-1][4]}


def measure(client, url: str, runs: int, warmup: int, modes: list[bool]) -> dict[bool, dict]:
    """`runs` requests of `url` in each mode (read models on, off), alternating request by
    request so that neither gains from the other's warm caches; after `warmup` of each."""
    samples: dict[bool, list] = {mode: [] for mode in modes}
    for n in range(warmup + runs):
        for mode in (modes if n % 2 == 0 else modes[::-1]):
            with with_read_models(mode):
                sample = _one(client, url)
            if n >= warmup:
                samples[mode].append(sample)
    return {mode: _figures(found) for mode, found in samples.items()}


def run_pages(runs: int, warmup: int, users: list[str], only: set[str], modes: list[bool]) -> dict[bool, dict]:
    from django.test import Client

    from kam.core.models import User

    results: dict[bool, dict] = {mode: {} for mode in modes}
    for username in users:
        user = User.objects.get(username=username)
        client = Client()
        client.force_login(user)
        for label, url in urls_for(user):
            with with_read_models(True):
                if (only and label not in only) or client.get(url).status_code == 403:
                    continue  # a page the user's menu does not offer
            for mode, row in measure(client, url, runs, warmup, modes).items():
                results[mode][f"{username} {label}"] = {"user": username, "page": label, "url": url, **row}
            row = results[True][f"{username} {label}"]
            base = results.get(False, {}).get(f"{username} {label}")
            print(f"  {username:<12} {label:<18} {row['median']:8.1f} ms  p95 {row['p95']:8.1f}  "
                  f"cpu {row['cpu']:7.1f}  {row['queries']:3d} q  {row['kb']:6.0f} KB  {row['status']}"
                  + (f"   baseline {base['median']:8.1f} ms" if base else ""), flush=True)
    return results


def with_read_models(enabled: bool):
    from django.conf import settings
    from django.test.utils import override_settings

    return override_settings(KAM={**settings.KAM, "READ_MODELS": enabled},
                             ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"])


def table(current: dict, baseline: dict | None, title: str) -> None:
    print(f"\n{title}\n")
    head = "| user | page | median ms | p95 ms | CPU ms | queries | KB |"
    rule = "|---|---|---:|---:|---:|---:|---:|"
    if baseline:
        head += " baseline median ms | ratio |"
        rule += "---:|---:|"
    print(head)
    print(rule)
    for key, row in current.items():
        line = (f"| {row['user']} | {row['page']} | {row['median']:.1f} | {row['p95']:.1f} | {row['cpu']:.1f} | "
                f"{row['queries']} | {row['kb']:.0f} |")
        if baseline and key in baseline:
            base = baseline[key]["median"]
            line += f" {base:.1f} | {base / row['median']:.1f}× |"
        print(line)
    slow = [k for k, r in current.items() if r["median"] >= 200]
    big = [k for k, r in current.items() if r["kb"] > 200]
    failed = [k for k, r in current.items() if r["status"] != 200]
    print(f"\npages: {len(current)}; median ≥ 200 ms: {len(slow)} {slow}; over 200 KB: {len(big)} {big}; "
          f"not 200: {len(failed)} {failed}")


def compare(small_file: str, large_file: str) -> int:
    small, large = json.loads(Path(small_file).read_text()), json.loads(Path(large_file).read_text())
    print(f"\n{large['accounts']:,} against {small['accounts']:,} accounts: median growth per page\n")
    print("| user | page | median ms (small) | median ms (large) | growth |")
    print("|---|---|---:|---:|---:|")
    worst = 0.0
    for key, row in large["pages"].items():
        if key not in small["pages"]:
            continue
        growth = row["median"] / small["pages"][key]["median"]
        worst = max(worst, growth)
        print(f"| {row['user']} | {row['page']} | {small['pages'][key]['median']:.1f} | {row['median']:.1f} | {growth:.1f}× |")
    print(f"\nlargest growth: {worst:.1f}×")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", default=str(Path("var") / "bench-pages"))
    parser.add_argument("--accounts", type=int, default=10_000, help="demo size built when the database is empty")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--users", default=",".join(USERS))
    parser.add_argument("--pages", default="", help="comma-separated page labels (default: all)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the pages computed from raw facts")
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--compare", nargs=2, metavar=("SMALL", "LARGE"), help="compare two --json files")
    args = parser.parse_args()
    if args.compare:
        return compare(*args.compare)

    from benchlib import setup

    setup(args.home)
    from django.core.management import call_command

    from kam.accounts.models import Account
    from kam.demo import build_demo

    call_command("migrate", verbosity=0)
    if not Account.objects.exists():
        print(f"building the demo at {args.accounts:,} accounts …", flush=True)
        print(build_demo(accounts=args.accounts, progress=True).splitlines()[0], flush=True)
    from django.core.management import get_commands

    if "rebuild_summaries" in get_commands():
        call_command("rebuild_summaries", verbosity=0)
    from django.db import connection

    if connection.vendor == "postgresql":
        # The steady state autovacuum leaves: statistics for the planner and a visibility map.
        # (SQLite is measured as KAM leaves it: it never runs ANALYZE there.)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    accounts = Account.objects.count()
    load = os.getloadavg()
    print(f"{accounts:,} accounts; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    users = [u for u in args.users.split(",") if u]
    only = {p for p in args.pages.split(",") if p}
    modes = [True] if args.no_baseline else [True, False]
    print("\nwith the read models" + ("" if args.no_baseline else "; baseline, from the raw facts, alternating")
          + ":", flush=True)
    results = run_pages(args.runs, args.warmup, users, only, modes)
    current, baseline = results[True], results.get(False)
    table(current, baseline, f"{accounts:,} accounts, median of {args.runs}")
    if args.json:
        Path(args.json).write_text(json.dumps({"accounts": accounts, "pages": current, "baseline": baseline,
                                               "load": load}, ensure_ascii=False, indent=1))
    return 0 if all(r["status"] == 200 for r in current.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
