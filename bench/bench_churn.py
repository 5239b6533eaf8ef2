"""The nightly churn sweep and the churn page's rates at 100,000 accounts.

    .venv/bin/python bench/bench_churn.py --accounts 100000 --repeat 3
    bash .ci/postgres.sh .venv/bin/python bench/bench_churn.py --accounts 100000 --repeat 3

Data (seed 1, setup not timed, kept between runs of one size in --home or DATABASE_URL):
--accounts accounts in one branch; 24 months of revenue up to October 2026, one line a month
per account (2,400,000 lines at 100,000 accounts), each account's monthly spend drawn
log-normal around e^7 元; 10 % of the accounts churn in one of the last 12 months — half stop
buying, half keep 30 % of their spend.

Timed, the median of --repeat runs (each run first deletes the churn events):
- first night: `churn_sweep(as_of=2026-11-02)` on a database without events;
- same night again: nothing to write (the sweep is idempotent);
- a month on: `churn_sweep(as_of=2026-12-02)`;
- the churn page's numbers for HQ: `churn_rates` over December 2025 – November 2026 by month,
  with the breakdowns by reason, industry, tier and unit.

Baseline (stated as such, not run over all accounts): the straightforward sweep — per account
through the ORM, the recent and baseline sums of its monthly revenue and its last revenue day
(three queries), then the two definitions in Python — timed on --sample accounts and scaled
linearly to all accounts. It reads only; it writes no event, so the ratio flatters it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from benchlib import empty, setup  # noqa: E402

AS_OF = date(2026, 11, 2)


def build(accounts: int) -> None:
    import numpy as np
    from django.db import transaction
    from django.utils import timezone

    from kam.accounts.models import Account
    from kam.core.bulk import insert_rows, new_instances
    from kam.core.services import orgunit_create, user_create
    from kam.insight.churn.services import month_start
    from kam.revenue.models import MonthlyRevenue, RevenueFact

    hq = orgunit_create(code="HQ", name="总部", kind="hq", parent=None)
    branch = orgunit_create(code="B1", name="分公司", kind="branch", parent=hq)
    boss = user_create(username="boss", role="admin", unit=hq)
    spec = user_create(username="spec", role="specialist", unit=branch)
    rng = np.random.default_rng(1)
    now = timezone.now()
    make = new_instances(Account)
    with transaction.atomic():
        insert_rows(Account, (make(code=f"C{n:07d}", name=f"客户{n:07d}", name_key=f"客户{n:07d}", search_text=f"c{n}",
                                   owner_id=spec.pk, unit_id=branch.pk, created_by_id=boss.pk, created_at=now,
                                   updated_at=now) for n in range(1, accounts + 1)), batch_size=20_000)
    ids = np.array(Account.objects.order_by("pk").values_list("pk", flat=True))
    months = [month_start(date(2026, 11, 1), k) for k in range(24, 0, -1)]
    base = rng.lognormal(7, 1, size=accounts)
    stop = np.where(rng.random(accounts) < 0.1, rng.integers(12, 24, size=accounts), 99)
    kept = np.where(rng.random(accounts) < 0.5, 0.0, 0.3)
    fact, monthly = new_instances(RevenueFact), new_instances(MonthlyRevenue)
    with transaction.atomic():
        for k, month in enumerate(months):
            amount = base * rng.lognormal(0, 0.1, size=accounts)
            amount = np.where(k >= stop, amount * kept, amount)
            rows = [(int(i), Decimal(f"{a:.2f}")) for i, a in zip(ids[amount > 0], amount[amount > 0], strict=True)]
            insert_rows(RevenueFact, (fact(account_id=i, date=month + timedelta(days=9), month=month, amount=a,
                                           product="", created_at=now) for i, a in rows), batch_size=20_000)
            insert_rows(MonthlyRevenue, (monthly(account_id=i, month=month, amount=a, lines=1) for i, a in rows),
                        batch_size=20_000)


def baseline(sample: int) -> tuple[float, int]:
    """Seconds for `sample` accounts checked one by one through the ORM; accounts found."""
    from django.db.models import Max, Sum

    from kam.accounts.models import Account
    from kam.insight.churn.services import month_start
    from kam.insight.models import ChurnDefinition
    from kam.revenue.models import MonthlyRevenue, RevenueFact

    drop = ChurnDefinition.objects.get(code="spend-drop").params
    days = ChurnDefinition.objects.get(code="no-revenue").params["days"]
    recent_start = month_start(AS_OF, drop["recent_months"])
    base_start = month_start(recent_start, drop["baseline_months"])
    found = 0
    started = time.perf_counter()
    for pk in Account.objects.order_by("pk").values_list("pk", flat=True)[:sample]:
        months = MonthlyRevenue.objects.filter(account_id=pk)
        recent = months.filter(month__gte=recent_start, month__lt=month_start(AS_OF)).aggregate(s=Sum("amount"))["s"]
        before = months.filter(month__gte=base_start, month__lt=recent_start).aggregate(s=Sum("amount"))["s"]
        last = RevenueFact.objects.filter(account_id=pk, amount__gt=0).aggregate(d=Max("date"))["d"]
        recent, before = recent or Decimal(0), before or Decimal(0)
        if before > 0 and recent * drop["baseline_months"] * 100 <= before * drop["recent_months"] * (
                100 - drop["drop_percent"]):
            found += 1
        if last is not None and (AS_OF - last).days >= days:
            found += 1
    return time.perf_counter() - started, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sample", type=int, default=1000)
    parser.add_argument("--home", default="var/bench-churn")
    args = parser.parse_args()
    setup(args.home)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from kam.accounts.models import Account
    from kam.core.models import User
    from kam.insight.churn.rates import churn_rates
    from kam.insight.churn.services import churn_sweep
    from kam.insight.models import ChurnEvent
    from kam.revenue.models import RevenueFact

    if Account.objects.count() != args.accounts:
        if Account.objects.exists():
            sys.exit(f"the database in {args.home} holds another size; remove it first")
        started = time.perf_counter()
        build(args.accounts)
        print(f"data built in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    print(f"{connection.vendor}: {Account.objects.count():,} accounts, {RevenueFact.objects.count():,} revenue lines")
    boss = User.objects.get(username="boss")
    times: dict[str, list[float]] = {"first night": [], "same night again": [], "a month on": [], "rates (HQ, 12 months)": []}
    for _run in range(args.repeat):
        empty(ChurnEvent)
        for label, day in (("first night", AS_OF), ("same night again", AS_OF),
                           ("a month on", AS_OF + timedelta(days=30))):
            started = time.perf_counter()
            result = churn_sweep(as_of=day)
            times[label].append(time.perf_counter() - started)
            print(f"  {label}: {times[label][-1]:.2f} s {result}")
        started = time.perf_counter()
        rates = churn_rates(user=boss, start=date(2025, 12, 1), end=date(2026, 11, 30), by="month")
        times["rates (HQ, 12 months)"].append(time.perf_counter() - started)
        total = rates.breakdowns.total
        print(f"  rates: {times['rates (HQ, 12 months)'][-1]:.2f} s; by count {total.count_percent}, "
              f"by amount {total.amount_percent}")
    seconds, found = baseline(args.sample)
    scaled = seconds * args.accounts / args.sample
    print(f"\nmedians of {args.repeat} ({connection.vendor}, {args.accounts:,} accounts):")
    for label, values in times.items():
        print(f"  {label:<24} {statistics.median(values):7.2f} s")
    first = statistics.median(times["first night"])
    print(f"  baseline, per account through the ORM: {seconds:.2f} s for {args.sample:,} accounts ({found} found), "
          f"about {scaled:,.0f} s for {args.accounts:,} — {scaled / first:.0f}x the first night")


if __name__ == "__main__":
    main()
