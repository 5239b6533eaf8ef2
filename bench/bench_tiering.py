"""Tiering at scale: revenue import and recomputing pareto-abc and monthly-spend, against pandas.

    python bench/bench_tiering.py --accounts 1000000 --months 24 --repeat 3
    bash .ci/postgres.sh .venv/bin/python bench/bench_tiering.py      # on PostgreSQL

Data: --accounts accounts (codes T0000001…) with --months months of revenue ending in the
month of --as-of, one line per account and month (seed 2026): a heavy-tailed monthly
spend per account (log-normal), seasonal and random variation, 8 % of accounts without
revenue in a given month, 1 % refunds (negative lines). Accounts and the first months are
loaded straight into the tables (setup, not timed as an import); the last month — one
line per account, --accounts lines — is imported through KAM's import engine as a CSV
file, the way a monthly billing extract arrives, and timed (upload → check → run).

Timed, each the median of --repeat runs, in the same process:
- KAM: `tiering.services.compute` (read the monthly aggregates of the window and the window
  before it, then the scheme's rule) for pareto-abc (12 months) and monthly-spend (3), and
  once each `snapshot_create`, which also stores one entry per account;
- pandas, the baseline: read the window's revenue lines from the same database into a
  DataFrame, group by account, sort, cumulative sum, tiers by the same cuts (pareto), or
  the average monthly spend against the same minimums (monthly-spend).
The tier counts of KAM and of pandas must agree, or the benchmark fails.

Database: SQLite in --home (default var/bench-tiering), or DATABASE_URL when set. The data
is kept between runs of the same size and seed (--reload to rebuild it). --no-import keeps
a last month imported by an earlier run and times only the recomputes.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import statistics
import sys
import time
from datetime import date
from fractions import Fraction
from pathlib import Path

import numpy as np
from benchlib import copy_rows, empty, setup, timed_import

TARGET_SECONDS = 10.0  # recompute on PostgreSQL at 1,000,000 accounts × 24 months
SCHEMES = ("pareto-abc", "monthly-spend")
DATABASE_MARKER = "bench_tiering database"  # a mapping template that marks the benchmark's own database


# --- data ---------------------------------------------------------------------------------------


def months_ending(as_of: date, count: int) -> list[date]:
    """The first days of the `count` calendar months ending with the month of `as_of`, oldest first."""
    year, month = as_of.year, as_of.month
    out = []
    for _ in range(count):
        out.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def monthly_fen(accounts: int, months: int, seed: int) -> np.ndarray:
    """months × accounts amounts in fen (int64): the generated revenue lines."""
    rng = np.random.default_rng(seed)
    base = rng.lognormal(mean=7.2, sigma=1.6, size=accounts)  # 元 per month, heavy-tailed
    trend = rng.normal(0.0, 0.02, size=accounts)
    out = np.empty((months, accounts), dtype=np.int64)
    for m in range(months):
        season = 1.0 + 0.15 * np.sin(2 * np.pi * m / 12)
        noise = rng.lognormal(0.0, 0.25, size=accounts)
        amount = base * season * noise * (1.0 + trend) ** m
        amount[rng.random(accounts) < 0.08] = 0.0
        refund = rng.random(accounts) < 0.01
        amount[refund] = -amount[refund] * 0.3
        out[m] = np.round(amount * 100).astype(np.int64)
    return out


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


def load(accounts: int, months: list[date], amounts: np.ndarray, actor) -> None:
    """Accounts and the revenue of all months but the last, straight into the tables."""
    from django.db import connection, transaction
    from django.utils import timezone

    from kam.accounts.models import Account
    from kam.core.bulk import insert_rows, new_instances
    from kam.revenue.models import MonthlyRevenue, RevenueFact

    now = timezone.now()
    make = new_instances(Account)
    start = time.perf_counter()
    with transaction.atomic():
        insert_rows(Account, (
            make(code=f"T{n:07d}", name=f"基准客户{n:07d}", name_key=f"基准客户{n:07d}", search_text=f"t{n:07d}",
                 owner_id=actor.pk, unit_id=actor.unit_id, created_by_id=actor.pk, created_at=now, updated_at=now)
            for n in range(1, accounts + 1)
        ), batch_size=20_000)
    ids = np.array(Account.objects.order_by("code").values_list("id", flat=True), dtype=np.int64)
    print(f"  {accounts:,} accounts loaded in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    stamp = connection.ops.adapt_datetimefield_value(now)
    for m, month in enumerate(months[:-1]):
        mark = time.perf_counter()
        row_mask = amounts[m] != 0
        fact_rows = [(int(i), month, month, yuan(int(a)), "", stamp) for i, a in zip(ids[row_mask], amounts[m][row_mask], strict=True)]
        sum_rows = [(int(i), month, yuan(int(a)), 1) for i, a in zip(ids[row_mask], amounts[m][row_mask], strict=True)]
        with transaction.atomic():
            copy_rows(RevenueFact, ["account_id", "date", "month", "amount", "product", "created_at"], fact_rows)
            copy_rows(MonthlyRevenue, ["account_id", "month", "amount", "lines"], sum_rows)
        print(f"  {month:%Y-%m}: {len(fact_rows):,} lines loaded in {time.perf_counter() - mark:.1f} s", file=sys.stderr)


def last_month_csv(accounts: int, month: date, amounts: np.ndarray) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["客户编号", "账期", "金额"])
    for n in range(accounts):
        if amounts[n]:
            writer.writerow([f"T{n + 1:07d}", f"{month:%Y-%m}", yuan(int(amounts[n]))])
    return out.getvalue().encode("utf-8-sig")


def kam_import(actor, data: bytes, lines: int) -> dict[str, float]:
    job, phases = timed_import(actor, "revenue", "revenue.csv", data)
    assert job.state == "done" and job.created == lines, (job.state, job.created, job.message, job.preview)
    return phases


# --- the baseline ---------------------------------------------------------------------------------


def pandas_tiers(scheme, as_of: date) -> tuple[float, dict[str, int]]:
    """Plain pandas: load the window's revenue lines, group, sort, cumulative sum, cut."""
    import pandas as pd
    from django.db import connection

    from kam.tiering.services import window

    start, end = window(as_of, scheme.window_months)
    mark = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT account_id, amount FROM revenue_revenuefact WHERE date >= %s AND date <= %s", [start, end])
        facts = pd.DataFrame(cursor.fetchall(), columns=["account_id", "amount"])
    facts["fen"] = (facts["amount"].astype("float64") * 100).round().astype("int64")
    revenue = facts.groupby("account_id")["fen"].sum()
    if scheme.method == "pareto":
        positive = revenue[revenue > 0].sort_values(ascending=False, kind="stable")
        before = positive.cumsum() - positive  # revenue ranked above each account
        total = int(positive.sum())
        thresholds = [math.ceil(Fraction(c) * total) for c in scheme.params["cuts"]]
        tier = np.searchsorted(thresholds, before.to_numpy(), side="right")
        labels = np.asarray(scheme.params["tiers"], dtype=object)
        counts = pd.Series(labels[tier]).value_counts().to_dict()
    else:
        bands = sorted(scheme.params["bands"], key=lambda b: Fraction(b["min"]))  # lowest first
        minimums = [math.ceil(Fraction(b["min"]) * 100 * scheme.window_months) for b in bands]
        positive = revenue[revenue > 0].to_numpy()
        index = np.searchsorted(minimums, positive, side="right") - 1
        codes = np.asarray([b["code"] for b in bands], dtype=object)
        counts = pd.Series(codes[index[index >= 0]]).value_counts().to_dict()
    return time.perf_counter() - mark, {str(k): int(v) for k, v in counts.items()}


def kam_counts(computation) -> dict[str, int]:
    positive = computation.facts.revenue > 0
    codes, counts = np.unique(computation.result.tiers[positive].astype(str), return_counts=True)
    return {str(c): int(n) for c, n in zip(codes, counts, strict=True)}


# --- running ------------------------------------------------------------------------------------------


def prepare(accounts: int, months: int, seed: int, as_of: date, reload: bool, keep_last: bool = False) -> tuple:
    from django.core.management import call_command

    from kam.accounts.models import Account
    from kam.core.models import OrgUnit, User
    from kam.demo import build_demo
    from kam.imports.models import ImportJob, MappingTemplate
    from kam.revenue.models import MonthlyRevenue, RevenueFact
    from kam.tiering.models import Snapshot

    marker = f"bench_tiering size {accounts}x{months} seed {seed} as of {as_of}"
    call_command("migrate", verbosity=0)
    if not (OrgUnit.objects.exists() or Account.objects.exists() or User.objects.exists()):
        print("building the demo organisation and users …", file=sys.stderr)
        build_demo(accounts=1, seed=seed, progress=False)
        MappingTemplate.objects.create(user=User.objects.get(username="director"), kind="revenue", name=DATABASE_MARKER)
    elif not MappingTemplate.objects.filter(name=DATABASE_MARKER).exists():
        raise SystemExit("This database holds data the benchmark did not make; give it an empty one.")
    actor = User.objects.get(username="director")
    amounts = monthly_fen(accounts, months, seed)
    month_list = months_ending(as_of, months)
    empty(Snapshot, ImportJob)
    if reload or not MappingTemplate.objects.filter(name=marker).exists():
        print(f"loading {accounts:,} accounts × {months - 1} months …", file=sys.stderr)
        empty(Account)
        MappingTemplate.objects.filter(name__startswith="bench_tiering size ").delete()
        load(accounts, month_list, amounts, actor)
        MappingTemplate.objects.create(user=actor, kind="revenue", name=marker)
    elif not (keep_last and MonthlyRevenue.objects.filter(month=month_list[-1]).exists()):
        # Keep the loaded months; forget the imported one, which each run imports again.
        RevenueFact.objects.filter(month=month_list[-1]).delete()
        MonthlyRevenue.objects.filter(month=month_list[-1]).delete()
    settle()
    return actor, amounts, month_list


def settle() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 10, 31),
                        help="the day the tiers are computed for; the revenue months end with its month")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--reload", action="store_true", help="rebuild the data even if it is there")
    parser.add_argument("--no-import", action="store_true",
                        help="keep the last month an earlier run imported; time the recomputes only")
    parser.add_argument("--home", default=str(Path("var") / "bench-tiering"))
    args = parser.parse_args()
    setup(args.home)

    from django.db import connection

    from kam.revenue.models import MonthlyRevenue
    from kam.tiering.models import Scheme
    from kam.tiering.services import compute, snapshot_create

    actor, amounts, month_list = prepare(args.accounts, args.months, args.seed, args.as_of, args.reload,
                                         keep_last=args.no_import)
    vendor = f"{connection.vendor} {connection.Database.sqlite_version if connection.vendor == 'sqlite' else connection.pg_version}"
    print(f"data: {args.accounts:,} accounts × {args.months} months ({month_list[0]:%Y-%m} … {month_list[-1]:%Y-%m}), "
          f"seed {args.seed}; database: {vendor}; repeats: {args.repeat}")

    lines = int((amounts[-1] != 0).sum())
    phases = None
    if not (args.no_import and MonthlyRevenue.objects.filter(month=month_list[-1]).exists()):
        data = last_month_csv(args.accounts, month_list[-1], amounts[-1])
        print(f"\n== import of {month_list[-1]:%Y-%m}: {lines:,} lines, csv {len(data) / 1e6:.1f} MB ==")
        phases = kam_import(actor, data, lines)
        print(f"  {phases['total']:.1f} s (upload {phases['upload']:.1f}, check {phases['check']:.1f}, "
              f"run {phases['run']:.1f}); {lines / phases['total']:,.0f} lines/s")
        del data
        settle()

    results = {}
    for code in SCHEMES:
        scheme = Scheme.objects.get(code=code)
        print(f"\n== {code} ({scheme.window_months} months) ==")
        kam_times, pandas_times = [], []
        for run in range(1, args.repeat + 1):
            mark = time.perf_counter()
            computation = compute(scheme, args.as_of)
            kam_times.append(time.perf_counter() - mark)
            elapsed, expected = pandas_tiers(scheme, args.as_of)
            pandas_times.append(elapsed)
            got = kam_counts(computation)
            assert got == expected, f"{code}: KAM {got} ≠ pandas {expected}"
            print(f"  run {run}: KAM {kam_times[-1]:.2f} s, pandas {elapsed:.2f} s; tiers agree: {got}")
        mark = time.perf_counter()
        snapshot_create(actor=actor, scheme=scheme, as_of=args.as_of)
        stored = time.perf_counter() - mark
        print(f"  snapshot (computed and {args.accounts:,} entries stored): {stored:.1f} s")
        results[code] = (statistics.median(kam_times), statistics.median(pandas_times), stored)

    print(f"\nResults ({vendor}, {args.accounts:,} accounts × {args.months} months, median of {args.repeat})")
    if phases:
        print(f"  import of one month, {lines:,} lines: {phases['total']:.1f} s ({lines / phases['total']:,.0f} lines/s)")
    print(f"  {'scheme':<14} {'KAM s':>7} {'pandas s':>9} {'pandas/KAM':>11} {'snapshot s':>11}  targets")
    for code, (kam, pandas_s, stored) in results.items():
        ok_speed = kam <= pandas_s
        ok_time = kam < TARGET_SECONDS
        target = f"not slower than pandas {'PASS' if ok_speed else 'FAIL'}, <{TARGET_SECONDS:.0f}s {'PASS' if ok_time else 'FAIL'}"
        if connection.vendor != "postgresql":
            target += " (the time target is set for PostgreSQL)"
        print(f"  {code:<14} {kam:>7.2f} {pandas_s:>9.2f} {pandas_s / kam:>10.1f}x {stored:>11.1f}  {target}")


if __name__ == "__main__":
    main()
