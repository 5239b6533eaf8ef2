"""The sales funnel and stage conversion for a period at 1,000,000 opportunities with their stage history.

    python bench/bench_funnel.py --opportunities 1000000 --repeat 3
    bash .ci/postgres.sh .venv/bin/python bench/bench_funnel.py      # on PostgreSQL

Data (seed 2026): the demo organisation; --accounts accounts over its specialists;
--opportunities opportunities on them, created evenly from 2025-01-01 to 2026-10-31, 85 % in
contact and 15 % in design. Each stays a random time in a stage (exponential, mean 25 days)
and then moves on (72 %; one in ten skips a stage), is lost (18 %) or goes back a stage
(10 %); in tender it is won (45 %) or lost. A move that would fall after 2026-11-01 does not
happen: the opportunity is still open. About 3.5 stage changes per opportunity (the first is
its creation). Written with COPY on PostgreSQL and executemany on SQLite (setup, not timed),
kept between runs of one size (SQLite).

Timed, each the median of --repeat runs, in the same process, for HQ (sees everything):
- KAM: `analytics.funnel` + `analytics.stage_conversion` for --period, the numbers of the
  analytics page's funnel and conversion;
- the baseline, pandas over the same rows: the opportunities' stage, amount and close date
  and the period's stage changes read from the same database into DataFrames; the funnel by
  group-by, the conversion by sorting the changes and a grouped running maximum.
The two must agree, or the benchmark fails. `analytics.days_per_stage` is timed as well, for
information.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
from benchlib import copy_rows, empty, setup

TARGET_SECONDS = 3.0  # on PostgreSQL
DATABASE_MARKER = "bench_funnel database"
STAGES = ["contact", "design", "review", "tender", "won", "lost"]  # codes 0…5
CLOSED_AT = datetime(2026, 11, 1, tzinfo=UTC).timestamp()
LOCAL_OFFSET = 8 * 3600  # Asia/Shanghai, for the close dates


def simulate(n: int, rng: np.random.Generator):
    """(opportunity index, from code or -1, to code, epoch seconds) per change, and each
    opportunity's last stage and time."""
    first = datetime(2025, 1, 1, tzinfo=UTC).timestamp()
    last = datetime(2026, 10, 31, tzinfo=UTC).timestamp()
    t = rng.uniform(first, last, size=n).astype(np.int64)
    stage = np.where(rng.random(n) < 0.85, 0, 1)
    idx = np.arange(n)
    parts = [(idx, np.full(n, -1), stage.copy(), t.copy())]
    alive = np.ones(n, dtype=bool)
    for _step in range(14):
        live = np.flatnonzero(alive)
        if not len(live):
            break
        when = t[live] + rng.exponential(25 * 86400, size=len(live)).astype(np.int64)
        late = when > CLOSED_AT
        alive[live[late]] = False
        live, when = live[~late], when[~late]
        here = stage[live]
        roll = rng.random(len(live))
        skip = (rng.random(len(live)) < 0.1).astype(np.int64)
        there = np.where(roll < 0.72, np.minimum(here + 1 + skip, 3), np.where(roll < 0.90, 5, np.maximum(here - 1, 0)))
        there = np.where((there == here) & (here == 0), 1, there)
        tender = here == 3
        there[tender] = np.where(rng.random(int(tender.sum())) < 0.45, 4, 5)
        parts.append((live, here, there, when))
        stage[live], t[live] = there, when
        alive[live[there >= 4]] = False
    rows = tuple(np.concatenate([p[k] for p in parts]) for k in range(4))
    order = np.lexsort((rows[3], rows[0]))
    return tuple(r[order] for r in rows), stage, t


def _stamp(seconds: np.ndarray, vendor: str) -> list[str]:
    text = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
    return [s.replace("T", " ") + ("+00" if vendor == "postgresql" else "") for s in text.tolist()]


def prepare(accounts: int, opportunities: int, seed: int, reload: bool):
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from kam.accounts.models import Account
    from kam.core.bulk import insert_rows, new_instances
    from kam.core.models import OrgUnit, Role, User
    from kam.demo import build_demo
    from kam.imports.models import MappingTemplate
    from kam.sales.models import Opportunity, OutcomeReason, StageChange

    call_command("migrate", verbosity=0)
    if not (OrgUnit.objects.exists() or Account.objects.exists() or User.objects.exists()):
        print("building the demo organisation and users …", file=sys.stderr)
        build_demo(accounts=1, seed=seed, progress=False)
        MappingTemplate.objects.create(user=User.objects.get(username="director"), kind="accounts", name=DATABASE_MARKER)
    elif not MappingTemplate.objects.filter(name=DATABASE_MARKER).exists():
        raise SystemExit("This database holds data the benchmark did not make; give it an empty one.")
    director = User.objects.get(username="director")
    marker = f"bench_funnel size {accounts}x{opportunities} seed {seed}"
    if not reload and MappingTemplate.objects.filter(name=marker).exists():
        return director
    print(f"loading {accounts:,} accounts and {opportunities:,} opportunities …", file=sys.stderr)
    # The accounts (the demo's one too) and all that hangs off them: opportunities, their stage
    # changes, rivals and reviews, leads.
    empty(Account)
    MappingTemplate.objects.filter(name__startswith="bench_funnel size ").delete()
    rng = np.random.default_rng(seed)
    owners = list(User.objects.filter(role=Role.SPECIALIST, is_active=True).values_list("pk", "unit_id"))
    now = timezone.now()
    start = time.perf_counter()
    pick = rng.integers(0, len(owners), size=accounts)
    make = new_instances(Account)
    with transaction.atomic():
        insert_rows(Account, (
            make(code=f"F{n:07d}", name=f"漏斗基准客户{n:07d}", name_key=f"漏斗基准客户{n:07d}", search_text=f"f{n:07d}",
                 owner_id=owners[pick[n - 1]][0], unit_id=owners[pick[n - 1]][1], created_by_id=director.pk,
                 created_at=now, updated_at=now)
            for n in range(1, accounts + 1)), batch_size=20_000)
    account_ids = np.array(Account.objects.order_by("pk").values_list("pk", flat=True), dtype=np.int64)
    account_owner = np.array([owners[p][0] for p in pick], dtype=np.int64)

    (opp, frm, to, at), stage, last_t = simulate(opportunities, rng)
    which = rng.integers(0, accounts, size=opportunities)
    amount = (rng.lognormal(12.5, 1.0, size=opportunities) // 100 * 100).astype(np.int64)
    created = at[np.r_[True, opp[1:] != opp[:-1]]]  # the first change of each is its creation
    closed = stage >= 4
    closed_on = [None if not c else date.fromordinal(int((s + LOCAL_OFFSET) // 86400) + 719163).isoformat()
                 for c, s in zip(closed.tolist(), last_t.tolist(), strict=True)]
    reasons = {"won": OutcomeReason.objects.get(code="price").pk, "lost": OutcomeReason.objects.get(code="rival_low_price").pk}
    vendor = connection.vendor
    created_s, last_s = _stamp(created, vendor), _stamp(last_t, vendor)
    now_s = _stamp(np.array([int(now.timestamp())]), vendor)[0]
    print(f"  {len(opp):,} stage changes simulated ({time.perf_counter() - start:.0f} s)", file=sys.stderr)
    with transaction.atomic():
        copy_rows(Opportunity, ["account_id", "name", "owner_id", "stage", "stage_entered_at", "amount", "our_quote",
                                     "expected_close", "description", "lead_id", "closed_on", "outcome_reason_id",
                                     "outcome_note", "created_by_id", "created_at", "updated_at", "version"],
               ((int(account_ids[w]), f"基准项目{i}", int(account_owner[w]), STAGES[s], last_s[i], str(a), None,
                 "2026-12-31", "", None, closed_on[i], reasons.get(STAGES[s]), "基准" if s >= 4 else "",
                 int(account_owner[w]), created_s[i], now_s, 1)
                for i, (w, s, a) in enumerate(zip(which.tolist(), stage.tolist(), amount.tolist(), strict=True))))
    print(f"  opportunities written ({time.perf_counter() - start:.0f} s)", file=sys.stderr)
    opp_ids = np.array(list(connection.cursor().execute("SELECT id FROM sales_opportunity ORDER BY id").fetchall())
                       if vendor == "sqlite" else _ids(connection), dtype=np.int64).reshape(-1)
    by = account_owner[which]
    at_s = _stamp(at, vendor)
    with transaction.atomic():
        copy_rows(StageChange, ["opportunity_id", "from_stage", "to_stage", "at", "by_id"],
               ((int(opp_ids[o]), "" if f < 0 else STAGES[f], STAGES[t], at_s[i], int(by[o]))
                for i, (o, f, t) in enumerate(zip(opp.tolist(), frm.tolist(), to.tolist(), strict=True))))
    print(f"  {len(opp):,} stage changes written ({time.perf_counter() - start:.0f} s)", file=sys.stderr)
    MappingTemplate.objects.create(user=director, kind="accounts", name=marker)
    return director


def _ids(connection) -> list:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM sales_opportunity ORDER BY id")
        return [r[0] for r in cursor.fetchall()]


def settle() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def kam_funnel(user, period):
    from kam.sales.analytics import selectors as analytics

    scope = analytics.scope_for(user=user)
    steps = analytics.funnel(scope, period)
    conversion = analytics.stage_conversion(scope, period)
    return ({s.stage: (s.count, int(s.amount.to_integral_value())) for s in steps},
            {r.stage: (r.entered, r.moved_on, r.won) for r in conversion})


def kam_days(user, period):
    from kam.sales.analytics import selectors as analytics

    return analytics.days_per_stage(analytics.scope_for(user=user), period)


def pandas_funnel(period):
    """The baseline: the same rows into DataFrames, the same definitions with group-bys."""
    import pandas as pd
    from django.db import connection

    progress = {"lost": 0, "contact": 1, "design": 2, "review": 3, "tender": 4, "won": 5}
    with connection.cursor() as cursor:
        cursor.execute("SELECT o.stage, o.amount, o.closed_on FROM sales_opportunity o "
                       "JOIN accounts_account a ON a.id = o.account_id WHERE a.deleted_at IS NULL")
        opps = pd.DataFrame(cursor.fetchall(), columns=["stage", "amount", "closed_on"])
        cursor.execute("SELECT c.opportunity_id, c.to_stage, c.at, c.id FROM sales_stagechange c "
                       "JOIN sales_opportunity o ON o.id = c.opportunity_id JOIN accounts_account a ON a.id = o.account_id "
                       "WHERE a.deleted_at IS NULL AND c.at >= %s AND c.at < %s",
                       [connection.ops.adapt_datetimefield_value(period.lo), connection.ops.adapt_datetimefield_value(period.hi)])
        changes = pd.DataFrame(cursor.fetchall(), columns=["opp", "to", "at", "id"])
    opps["amount"] = opps["amount"].astype(float)
    closed_on = pd.to_datetime(opps["closed_on"]).dt.date
    shown = opps[opps["stage"].isin(["contact", "design", "review", "tender"])
                 | (opps["stage"].isin(["won", "lost"]) & (closed_on >= period.start) & (closed_on <= period.end))]
    grouped = shown.groupby("stage")["amount"].agg(["count", "sum"])
    funnel = {s: (int(grouped.loc[s, "count"]) if s in grouped.index else 0,
                  int(round(grouped.loc[s, "sum"])) if s in grouped.index else 0) for s in STAGES}
    changes["p"] = changes["to"].map(progress)
    changes = changes.sort_values(["opp", "at", "id"]).reset_index(drop=True)
    backwards = changes.iloc[::-1]
    running = backwards.groupby("opp")["p"].cummax().iloc[::-1]
    changes["later"] = running.groupby(changes["opp"]).shift(-1).fillna(-1).astype(int)
    conversion = {}
    for stage in ["contact", "design", "review", "tender"]:
        first = changes[changes["p"] == progress[stage]].drop_duplicates("opp", keep="first")
        conversion[stage] = (len(first), int((first["later"] > progress[stage]).sum()), int((first["later"] == 5).sum()))
    return funnel, conversion


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--opportunities", type=int, default=1_000_000)
    parser.add_argument("--period", default="2026", help="a year, half-year, quarter or month: 2026, 2026-H1, 2026-Q2, 2026-06")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--reload", action="store_true")
    parser.add_argument("--home", default=str(Path("var") / "bench-funnel"))
    args = parser.parse_args()
    setup(args.home)

    from django.db import connection

    from kam.activities.compliance.measure import parse_period
    from kam.sales.analytics.selectors import Period

    period = Period(*parse_period(args.period))
    director = prepare(args.accounts, args.opportunities, args.seed, args.reload)
    settle()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sales_stagechange")
        changes = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM sales_stagechange WHERE at >= %s AND at < %s",
                       [connection.ops.adapt_datetimefield_value(period.lo), connection.ops.adapt_datetimefield_value(period.hi)])
        in_period = cursor.fetchone()[0]
    vendor = f"{connection.vendor} {connection.Database.sqlite_version if connection.vendor == 'sqlite' else connection.pg_version}"
    print(f"data: {args.opportunities:,} opportunities on {args.accounts:,} accounts, {changes:,} stage changes "
          f"({in_period:,} in the period {period.start} … {period.end}), seed {args.seed}; database: {vendor}; "
          f"repeats: {args.repeat}")
    kam_times, pandas_times, day_times = [], [], []
    for run in range(1, args.repeat + 1):
        mark = time.perf_counter()
        got = kam_funnel(director, period)
        kam_times.append(time.perf_counter() - mark)
        mark = time.perf_counter()
        expected = pandas_funnel(period)
        pandas_times.append(time.perf_counter() - mark)
        mark = time.perf_counter()
        days = kam_days(director, period)
        day_times.append(time.perf_counter() - mark)
        assert got == expected, f"KAM {got} ≠ pandas {expected}"
        print(f"  run {run}: KAM {kam_times[-1]:.2f} s, pandas {pandas_times[-1]:.2f} s, agree "
              f"(contact entered {got[1]['contact'][0]:,}, moved on {got[1]['contact'][1]:,}); "
              f"days per stage {day_times[-1]:.2f} s ({', '.join(f'{d.stage} {d.mean_days:.1f}' for d in days if d.stays)})")
    kam, base = statistics.median(kam_times), statistics.median(pandas_times)
    target = f"<{TARGET_SECONDS:.0f}s {'PASS' if kam < TARGET_SECONDS else 'FAIL'}"
    if connection.vendor != "postgresql":
        target += " (the target is set for PostgreSQL)"
    print(f"\nResult ({vendor}): funnel + stage conversion for {args.period}, median of {args.repeat}: KAM {kam:.2f} s, "
          f"pandas {base:.2f} s, pandas/KAM {base / kam:.1f}x; {target}; days per stage {statistics.median(day_times):.2f} s")


if __name__ == "__main__":
    main()
