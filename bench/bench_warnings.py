"""The nightly early-warning sweep and health computation at 100,000 accounts.

    bash .ci/postgres.sh .venv/bin/python bench/bench_warnings.py --accounts 100000 --repeat 3
    .venv/bin/python bench/bench_warnings.py --accounts 5000 --repeat 1     # SQLite, small

Data (seed 2026, written with COPY on PostgreSQL — executemany elsewhere — setup, not timed,
kept between runs of one size): the demo organisation; --accounts accounts spread over its
specialists, 2 % in the public pool, credit figures on 60 % (8 % overdue); 24 months of
monthly revenue up to the month before the day evaluated (2,400,000 rows at 100,000
accounts), 15 % of accounts spending about half in the last three months; one monthly-spend
snapshot putting 40 % in K1…K6 and 10 % in CA (with service standards); 6 activities per
account on average over the last year (visits, calls, meetings); 2 contacts per account on
average with decision roles, 3 % of accounts with a key contact who left without a
successor; an open opportunity on 20 % of accounts, a rival on half of them, quoting on
two thirds of those; a model fit with a score (P(alive) and the fit before's) for every
account; two satisfaction surveys on 40 % of accounts.

Timed, each the median of --repeat runs (each run first deletes the warnings, their tasks
and the health rows):
- night 1: `warning_sweep(as_of=D)` + `health_sweep(as_of=D)` on a database without
  warnings — many open, each with its task;
- night 2: the same for D + 1 day — mostly unchanged: warnings kept, evidence refreshed
  where it changed, health rows of the month rewritten.
Target: each night under 60 s on PostgreSQL.

Baseline (stated as such, not run over all accounts): the straightforward way — a loop
over the accounts, each rule and health part read through the ORM one account at a time
(its revenue months, credit fields, tier, last visit and call, contacts, rivals on open
deals, score, last two surveys, open warnings) — timed on --sample accounts and scaled
linearly to all accounts. It reads only; it writes no warning, task or health row, so the
ratio flatters it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
from benchlib import copy_rows, empty, setup

TARGET_SECONDS = 60.0  # per night, on PostgreSQL
DATABASE_MARKER = "bench_warnings database"
AS_OF = date(2026, 6, 15)
MONTHS = 24
TIERS = np.array(["K6", "K5", "K4", "K3", "K2", "K1", "CA", ""], dtype=object)
TIER_WEIGHTS = np.array([0.01, 0.02, 0.04, 0.08, 0.10, 0.15, 0.10, 0.50])
ROLES = np.array(["decision_maker", "influencer", "procurement", "gatekeeper", "expert", "user", "unknown"], dtype=object)


def add_months(month: date, k: int) -> date:
    i = month.year * 12 + month.month - 1 + k
    return date(i // 12, i % 12 + 1, 1)


def organisation() -> None:
    """HQ with a director; three branches, each with a manager and two offices of five specialists."""
    from kam.core.models import Role
    from kam.core.services import orgunit_create, user_create

    hq = orgunit_create(code="HQ", name="省公司总部", kind="hq")
    user_create(username="director", role=Role.DIRECTOR, unit=hq)
    for b in range(3):
        branch = orgunit_create(code=f"B{b}", name=f"第{b + 1}分公司", kind="branch", parent=hq)
        user_create(username=f"manager{b}", role=Role.MANAGER, unit=branch)
        for o in range(2):
            office = orgunit_create(code=f"B{b}O{o}", name=f"第{b + 1}分公司{o + 1}部", kind="office", parent=branch)
            for k in range(5):
                user_create(username=f"spec{b}{o}{k}", role=Role.SPECIALIST, unit=office)


def prepare(accounts: int, seed: int, reload: bool):
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from kam.accounts.models import Account, Contact
    from kam.activities.models import Activity, ServiceStandard
    from kam.core.bulk import insert_rows, new_instances
    from kam.core.models import Role, User
    from kam.imports.models import MappingTemplate
    from kam.insight.models import AccountScore, ModelFit, SatisfactionSurvey
    from kam.revenue.models import MonthlyRevenue
    from kam.sales.models import Competitor, Opportunity, Rival
    from kam.tiering.models import Scheme, Snapshot, SnapshotEntry, SnapshotState

    call_command("migrate", verbosity=0)
    if not (Account.objects.exists() or User.objects.exists()):
        print("building the organisation and users …", file=sys.stderr)
        organisation()
        MappingTemplate.objects.create(user=User.objects.get(username="director"), kind="accounts", name=DATABASE_MARKER)
    elif not MappingTemplate.objects.filter(name=DATABASE_MARKER).exists():
        raise SystemExit("This database holds data the benchmark did not make; give it an empty one.")
    director = User.objects.get(username="director")
    marker = f"bench_warnings size {accounts} seed {seed} as of {AS_OF}"
    if not reload and MappingTemplate.objects.filter(name=marker).exists():
        return director
    print(f"loading {accounts:,} accounts and their data …", file=sys.stderr)
    empty(Account, ModelFit, Snapshot)
    MappingTemplate.objects.filter(name__startswith="bench_warnings size ").delete()
    scheme = Scheme.objects.get(code="monthly-spend")
    if not ServiceStandard.objects.filter(scheme=scheme).exists():
        import importlib

        from django.apps import apps

        importlib.import_module("kam.activities.migrations.0002_service_standards").seed(apps, None)
    rng = np.random.default_rng(seed)
    owners = list(User.objects.filter(role=Role.SPECIALIST, is_active=True).values_list("pk", "unit_id"))
    now = timezone.now()
    start = time.perf_counter()
    pick = rng.integers(0, len(owners), size=accounts)
    pooled = rng.random(accounts) < 0.02
    credit = rng.random(accounts) < 0.6
    overdue = credit & (rng.random(accounts) < 0.08 / 0.6)
    limit = np.round(rng.lognormal(11, 1, accounts), -3)
    owed = np.round(limit * rng.uniform(0.05, 0.6, accounts), 2)

    def money(x):
        return Decimal(str(x))

    make = new_instances(Account)
    with transaction.atomic():
        insert_rows(Account, (
            make(code=f"W{n:07d}", name=f"预警基准客户{n:07d}", name_key=f"预警基准客户{n:07d}", search_text=f"w{n:07d}",
                 credit_limit=money(limit[i]) if credit[i] else None,
                 receivables=money(owed[i] * 2) if credit[i] else None,
                 receivables_over_90_days=money(owed[i]) if overdue[i] else (money(0) if credit[i] else None),
                 overdue_amount=money(owed[i]) if overdue[i] else (money(0) if credit[i] else None),
                 owner_id=None if pooled[i] else owners[pick[i]][0], pooled_at=now if pooled[i] else None,
                 unit_id=owners[pick[i]][1], lifecycle_status="active", created_by_id=director.pk,
                 created_at=now, updated_at=now)
            for i, n in enumerate(range(1, accounts + 1))), batch_size=20_000)
    ids = np.array(Account.objects.order_by("pk").values_list("pk", flat=True), dtype=np.int64)
    print(f"  accounts in {time.perf_counter() - start:.1f} s", file=sys.stderr)

    # monthly revenue: 24 months to the month before AS_OF; 15 % fall to about half in the last 3
    first = add_months(date(AS_OF.year, AS_OF.month, 1), -MONTHS)
    level = rng.lognormal(9, 1.2, accounts)
    falling = rng.random(accounts) < 0.15
    months = [add_months(first, k) for k in range(MONTHS)]
    with transaction.atomic():
        def revenue():
            for k, month in enumerate(months):
                noise = rng.lognormal(0, 0.25, accounts)
                factor = np.where(falling & (k >= MONTHS - 3), rng.uniform(0.3, 0.8, accounts), 1.0)
                amounts = np.round(level * noise * factor, 2)
                for i in range(accounts):
                    yield (int(ids[i]), month, money(amounts[i]), None, None, 1)
        copy_rows(MonthlyRevenue, ["account_id", "month", "amount", "margin", "quantity", "lines"], revenue())
    print(f"  {accounts * MONTHS:,} revenue months in {time.perf_counter() - start:.1f} s", file=sys.stderr)

    # tiers (one snapshot at the start of the year) and activities over the last year
    tiers = rng.choice(TIERS, size=accounts, p=TIER_WEIGHTS)
    with transaction.atomic():
        snap = Snapshot.objects.create(scheme=scheme, as_of=date(AS_OF.year - 1, 12, 31), window_start=date(AS_OF.year - 1, 1, 1),
                                       method=scheme.method, state=SnapshotState.DONE, accounts=accounts)
        entry = new_instances(SnapshotEntry)
        insert_rows(SnapshotEntry, (entry(snapshot_id=snap.pk, account_id=int(a), tier=str(t), revenue=Decimal(0))
                                    for a, t in zip(ids, tiers, strict=True) if t), batch_size=20_000)
    n_acts = accounts * 6
    who = rng.choice(ids, size=n_acts)
    kinds = rng.choice(np.array(["visit", "call", "meeting"], dtype=object), size=n_acts, p=[0.4, 0.5, 0.1])
    end = datetime.combine(AS_OF, datetime.min.time()).timestamp()
    stamps = rng.uniform(end - 365 * 86400, end, size=n_acts)
    zone = timezone.get_current_timezone()
    with transaction.atomic():
        copy_rows(Activity, ["account_id", "kind", "occurred_at", "decision_maker_met", "summary", "next_step", "location",
                             "created_by_id", "created_at"],
                  ((int(a), str(k), datetime.fromtimestamp(float(s), tz=zone), False, "", "", "", director.pk, now)
                   for a, k, s in zip(who, kinds, stamps, strict=True)))
    print(f"  tiers and {n_acts:,} activities in {time.perf_counter() - start:.1f} s", file=sys.stderr)

    # contacts: 2 on average; 3 % of accounts with a key contact who left without a successor
    per = rng.poisson(2, accounts)
    left = rng.random(accounts) < 0.03
    contact = new_instances(Contact)
    with transaction.atomic():
        insert_rows(Contact, (
            contact(account_id=int(ids[i]), name=f"联系人{j}", decision_role=str(rng.choice(ROLES)),
                    is_key=j == 0, status="left" if left[i] and j == 0 else "active",
                    left_on=AS_OF - timedelta(days=int(rng.integers(3, 90))) if left[i] and j == 0 else None,
                    created_at=now, updated_at=now)
            for i in range(accounts) for j in range(int(per[i]))), batch_size=20_000)
    # open opportunities, rivals
    competitors = list(Competitor.objects.values_list("pk", flat=True))
    with_deal = ids[rng.random(accounts) < 0.2]
    owner_of = {int(a): (None if pooled[i] else owners[pick[i]][0]) for i, a in enumerate(ids)}
    with transaction.atomic():
        deal = new_instances(Opportunity)
        insert_rows(Opportunity, (deal(account_id=int(a), name="专线项目", owner_id=owner_of[int(a)] or director.pk,
                                       stage="design", stage_entered_at=now, amount=Decimal(200000),
                                       expected_close=AS_OF + timedelta(days=90), created_by_id=director.pk,
                                       created_at=now, updated_at=now) for a in with_deal), batch_size=20_000)
        deals = np.array(Opportunity.objects.order_by("pk").values_list("pk", flat=True), dtype=np.int64)
        rivalled = deals[rng.random(len(deals)) < 0.5]
        quoted = rng.random(len(rivalled)) < 2 / 3
        rival = new_instances(Rival)
        insert_rows(Rival, (rival(opportunity_id=int(o), competitor_id=competitors[int(rng.integers(0, len(competitors)))],
                                  quote=Decimal(180000) if q else None, status="active", updated_at=now)
                            for o, q in zip(rivalled, quoted, strict=True)), batch_size=20_000)
    # scores and surveys
    with transaction.atomic():
        fit = ModelFit.objects.create(window_start=date(AS_OF.year - 3, 1, 1), calibration_end=AS_OF, count_params={},
                                      count_log_likelihood=0.0, customers=accounts, repeat_customers=accounts)
        p = rng.beta(5, 1.5, accounts)
        before = np.clip(p + rng.normal(0.02, 0.12, accounts), 0, 1)
        copy_rows(AccountScore, ["account_id", "fit_id", "frequency", "recency", "age", "p_alive", "p_alive_before",
                                 "expected_purchases", "scored_at"],
                  ((int(a), fit.pk, 5, 40.0, 52.0, float(p[i]), float(before[i]), 2.0, now) for i, a in enumerate(ids)))
        surveyed = ids[rng.random(accounts) < 0.4]
        copy_rows(SatisfactionSurvey, ["account_id", "surveyed_on", "score", "note", "created_at"],
                  ((int(a), day, Decimal(str(round(float(rng.uniform(4, 10)), 1))), "", now)
                   for a in surveyed for day in (AS_OF - timedelta(days=200), AS_OF - timedelta(days=30))))
    print(f"  contacts, deals, scores, surveys in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    MappingTemplate.objects.create(user=director, kind="accounts", name=marker)
    return director


def reset() -> None:
    """No warnings, no warning tasks, no health rows: the first night again."""
    from django.db import connection

    from kam.activities.models import Task, TaskSource
    from kam.insight.models import HealthScore, Warning

    empty(Warning, HealthScore)  # and the retention actions on the warnings
    # Only the warnings' tasks: the other tasks (none here) would stay.
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {Task.history.model._meta.db_table} WHERE source_kind = %s", [TaskSource.WARNING])
    Task.objects.filter(source_kind=TaskSource.WARNING).delete()


def settle() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def night(day: date) -> tuple[float, dict, dict]:
    from kam.insight.health.services import health_sweep
    from kam.insight.warnings.services import warning_sweep

    mark = time.perf_counter()
    warnings = warning_sweep(as_of=day)
    health = health_sweep(as_of=day)
    return time.perf_counter() - mark, warnings, health


def baseline(sample: int, day: date) -> float:
    """Per account through the ORM: every rule and health part read one account at a time."""
    from django.db.models import Max, Sum

    from kam.accounts.models import Account, Contact
    from kam.activities.compliance import measure as compliance
    from kam.activities.models import Activity
    from kam.insight.models import AccountScore, SatisfactionSurvey, Warning, WarningRule
    from kam.revenue.models import MonthlyRevenue
    from kam.sales.models import OPEN_STAGES, Rival
    from kam.tiering.models import Scheme, SnapshotEntry

    rules = {r.code: r.params for r in WarningRule.objects.filter(is_enabled=True)}
    scheme = Scheme.objects.get(code="monthly-spend")
    visit_c, call_c = compliance.cadences(scheme)
    visit_kinds, call_kinds = compliance.contact_kinds()
    this = date(day.year, day.month, 1)
    recent_from, base_from = add_months(this, -3), add_months(this, -9)
    mark = time.perf_counter()
    fired = 0
    for account in Account.objects.alive().order_by("pk")[:sample]:
        base = MonthlyRevenue.objects.filter(account=account, month__gte=base_from, month__lt=recent_from).aggregate(
            s=Sum("amount"))["s"] or 0
        recent = MonthlyRevenue.objects.filter(account=account, month__gte=recent_from, month__lt=this).aggregate(
            s=Sum("amount"))["s"] or 0
        fired += bool(base and (base / 6 - recent / 3) * 100 >= rules["spend_drop"]["drop_percent"] * base / 6)
        fired += bool((account.overdue_amount or 0) >= Decimal(rules["payment_overdue"]["min_amount"]))
        entry = SnapshotEntry.objects.filter(account=account, snapshot__scheme=scheme).order_by("-snapshot__as_of").first()
        tier = entry.tier if entry else ""
        for kinds, cads in ((visit_kinds, visit_c), (call_kinds, call_c)):
            last = Activity.objects.filter(account=account, kind__in=kinds).aggregate(m=Max("occurred_at"))["m"]
            gap = cads[tier].gap_days if tier in cads else 0
            fired += bool(gap and (last is None or (day - last.date()).days > gap))
        fired += any(c.is_key and c.successor_id is None and c.left_on for c in Contact.objects.filter(
            account=account, status="left"))
        fired += Rival.objects.filter(opportunity__account=account, opportunity__stage__in=OPEN_STAGES,
                                      quote__isnull=False, status__in=["active", "leading"]).exists()
        score = AccountScore.objects.filter(account=account).first()
        if score:
            fired += score.p_alive < rules["p_alive_low"]["threshold"]
        surveys = list(SatisfactionSurvey.objects.filter(account=account, surveyed_on__lte=day).order_by("-surveyed_on")[:2])
        fired += bool(surveys and surveys[0].score < Decimal(str(rules["satisfaction_drop"]["below"])))
        list(Contact.objects.filter(account=account, status="active").values_list("decision_role", flat=True))
        list(Warning.objects.open().filter(account=account).values_list("severity", flat=True))
    return time.perf_counter() - mark


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sample", type=int, default=1000, help="accounts the per-account baseline is timed on")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--reload", action="store_true")
    parser.add_argument("--home", default=str(Path("var") / "bench-warnings"))
    args = parser.parse_args()
    setup(args.home)

    from django.db import connection

    prepare(args.accounts, args.seed, args.reload)
    reset()
    settle()
    vendor = f"{connection.vendor} {connection.Database.sqlite_version if connection.vendor == 'sqlite' else connection.pg_version}"
    print(f"data: {args.accounts:,} accounts, {args.accounts * MONTHS:,} revenue months, ~{args.accounts * 6:,} activities, "
          f"~{args.accounts * 2:,} contacts, deals on 20 %, scores on all, surveys on 40 %; seed {args.seed}; "
          f"database: {vendor}; nights {AS_OF} and {AS_OF + timedelta(days=1)}; repeats: {args.repeat}")
    first, second = [], []
    for run in range(1, args.repeat + 1):
        reset()
        seconds, w1, h1 = night(AS_OF)
        first.append(seconds)
        seconds, w2, h2 = night(AS_OF + timedelta(days=1))
        second.append(seconds)
        print(f"  run {run}: night 1 {first[-1]:.2f} s ({w1['opened']:,} warnings opened, {w1['tasks']:,} tasks, "
              f"{h1['accounts']:,} health rows); night 2 {second[-1]:.2f} s ({w2['opened']:,} opened, {w2['kept']:,} kept, "
              f"{w2['cleared']:,} cleared, {w2['tasks']:,} tasks)")
    sample = min(args.sample, args.accounts)
    base_seconds = baseline(sample, AS_OF)
    scaled = base_seconds * args.accounts / sample
    one, two = statistics.median(first), statistics.median(second)
    target = f"<{TARGET_SECONDS:.0f}s {'PASS' if max(one, two) < TARGET_SECONDS else 'FAIL'}"
    if connection.vendor != "postgresql":
        target += " (the target is set for PostgreSQL)"
    print(f"\nbaseline: per-account ORM reads on {sample:,} accounts {base_seconds:.2f} s, scaled to {args.accounts:,}: "
          f"{scaled:.0f} s (extrapolated, reads only)")
    print(f"Result ({vendor}): warnings + health, median of {args.repeat}: night 1 {one:.2f} s, night 2 {two:.2f} s; "
          f"per-account baseline (extrapolated) / night 1 {scaled / one:.0f}x; {target}")


if __name__ == "__main__":
    main()
