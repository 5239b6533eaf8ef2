"""Service compliance for a quarter, per unit, at 100,000 accounts and 2,000,000 activities.

    python bench/bench_compliance.py --accounts 100000 --activities 2000000 --repeat 5
    bash .ci/postgres.sh .venv/bin/python bench/bench_compliance.py      # on PostgreSQL

Data (seed 2026): the demo organisation; --accounts accounts spread over its offices and
specialists, one monthly-spend snapshot at the start of the year putting 40 % of them in
the key-account levels K1…K6 and 10 % in commercial A/A+ (the rest below any standard),
and a second snapshot on the quarter's middle day that moves 5 % of the accounts; and
--activities activities over the year up to the end of the quarter, one kind each (visit,
call, meeting, letter, demo, quote…), more for the higher tiers. Everything is written
with kam.core.bulk.insert_rows (setup, not timed) and kept between runs of one size.

Timed, each the median of --repeat runs, in the same process, for HQ (sees everything):
- KAM: `compliance.measure` for the quarter rolled up per shown unit — the numbers the
  compliance page's table shows;
- the baseline, pandas over the same rows: read the accounts, the two snapshots' entries
  and the quarter's and look-back's visit and call rows from the same database into
  DataFrames, find each account's tier per day segment, the pro-rata requirement,
  counts, last contact, the day it entered a tier asking for contacts, and the
  per-branch roll-up with merges and group-bys.
The per-branch figures of KAM and pandas must agree, or the benchmark fails.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
from benchlib import empty, setup

TARGET_SECONDS = 3.0  # on PostgreSQL
DATABASE_MARKER = "bench_compliance database"
KINDS = np.array(["visit", "call", "meeting", "letter", "demo", "quote", "bid", "event"], dtype=object)
KIND_WEIGHTS = np.array([0.30, 0.35, 0.08, 0.10, 0.05, 0.06, 0.03, 0.03])
TIERS = np.array(["K6", "K5", "K4", "K3", "K2", "K1", "CA", "CB", "CC", "CD"], dtype=object)
TIER_WEIGHTS = np.array([0.005, 0.015, 0.03, 0.07, 0.10, 0.18, 0.10, 0.15, 0.15, 0.20])


def prepare(accounts: int, activities: int, seed: int, quarter: tuple[date, date], reload: bool):
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from kam.accounts.models import Account
    from kam.activities.models import Activity
    from kam.core.bulk import insert_rows, new_instances
    from kam.core.models import OrgUnit, Role, User
    from kam.demo import build_demo
    from kam.imports.models import MappingTemplate
    from kam.tiering.models import Scheme, Snapshot, SnapshotEntry, SnapshotState

    call_command("migrate", verbosity=0)
    if not (OrgUnit.objects.exists() or Account.objects.exists() or User.objects.exists()):
        print("building the demo organisation and users …", file=sys.stderr)
        build_demo(accounts=1, seed=seed, progress=False)
        MappingTemplate.objects.create(user=User.objects.get(username="director"), kind="accounts", name=DATABASE_MARKER)
    elif not MappingTemplate.objects.filter(name=DATABASE_MARKER).exists():
        raise SystemExit("This database holds data the benchmark did not make; give it an empty one.")
    director = User.objects.get(username="director")
    marker = f"bench_compliance size {accounts}x{activities} seed {seed} quarter {quarter[0]}"
    scheme = Scheme.objects.get(code="monthly-spend")
    if not reload and MappingTemplate.objects.filter(name=marker).exists():
        return director, scheme
    print(f"loading {accounts:,} accounts and {activities:,} activities …", file=sys.stderr)
    empty(Account, Snapshot)
    MappingTemplate.objects.filter(name__startswith="bench_compliance size ").delete()
    rng = np.random.default_rng(seed)
    owners = list(User.objects.filter(role=Role.SPECIALIST, is_active=True).values_list("pk", "unit_id"))
    now = timezone.now()
    start = time.perf_counter()
    make = new_instances(Account)
    pick = rng.integers(0, len(owners), size=accounts)
    with transaction.atomic():
        insert_rows(Account, (
            make(code=f"C{n:07d}", name=f"合规基准客户{n:07d}", name_key=f"合规基准客户{n:07d}", search_text=f"c{n:07d}",
                 owner_id=owners[pick[n - 1]][0], unit_id=owners[pick[n - 1]][1], created_by_id=director.pk,
                 created_at=now, updated_at=now)
            for n in range(1, accounts + 1)), batch_size=20_000)
    ids = np.array(Account.objects.order_by("pk").values_list("pk", flat=True), dtype=np.int64)
    tiers = rng.choice(TIERS, size=accounts, p=TIER_WEIGHTS)
    moved = tiers.copy()
    change = rng.random(accounts) < 0.05
    moved[change] = rng.choice(TIERS, size=int(change.sum()), p=TIER_WEIGHTS)
    middle = quarter[0] + (quarter[1] - quarter[0]) / 2
    with transaction.atomic():
        for as_of, column in ((date(quarter[0].year - 1, 12, 31), tiers), (middle, moved)):
            snap = Snapshot.objects.create(scheme=scheme, as_of=as_of, window_start=as_of, method=scheme.method,
                                           state=SnapshotState.DONE, accounts=accounts)
            entry = new_instances(SnapshotEntry)
            insert_rows(SnapshotEntry, (entry(snapshot_id=snap.pk, account_id=int(i), tier=str(t), revenue=0)
                                        for i, t in zip(ids, column, strict=True)), batch_size=20_000)
    print(f"  accounts and snapshots in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    # Activities: higher tiers are contacted more; times spread over the year to the quarter's end.
    weight = np.select([np.isin(tiers, TIERS[:4]), np.isin(tiers, TIERS[4:7])], [4.0, 2.0], 1.0)
    who = rng.choice(ids, size=activities, p=weight / weight.sum())
    kinds = rng.choice(KINDS, size=activities, p=KIND_WEIGHTS)
    first = datetime(quarter[1].year, 1, 1).timestamp()
    last = datetime.combine(quarter[1], datetime.min.time()).timestamp() + 86_399
    stamps = rng.uniform(first, last, size=activities)
    owner_of = dict(zip(ids.tolist(), [owners[p][0] for p in pick], strict=True))
    make = new_instances(Activity)
    zone = timezone.get_current_timezone()
    start = time.perf_counter()
    chunk = 200_000
    for at in range(0, activities, chunk):
        with transaction.atomic():
            insert_rows(Activity, (
                make(account_id=int(a), kind=str(k), occurred_at=datetime.fromtimestamp(float(s), tz=zone),
                     summary="", created_by_id=owner_of[int(a)], created_at=now)
                for a, k, s in zip(who[at:at + chunk], kinds[at:at + chunk], stamps[at:at + chunk], strict=True)),
                batch_size=20_000)
        print(f"  {min(at + chunk, activities):,} activities ({time.perf_counter() - start:.0f} s)", file=sys.stderr)
    MappingTemplate.objects.create(user=director, kind="accounts", name=marker)
    return director, scheme


def settle() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def kam_per_unit(user, scheme, quarter):
    from kam.activities.compliance import cadence, summary
    from kam.activities.compliance import measure as compliance

    m = compliance.measure(user=user, scheme=scheme, start=quarter[0], end=quarter[1], as_of=quarter[1])
    units = summary.shown_units(user)  # rolled up as the read model's rows are, per shown unit
    place = np.array([units.index.get(int(u), -1) for u in m.unit], dtype=np.int64)
    columns = (m.required_visits, cadence.credited(m.required_visits, m.done_visits), m.required_calls,
               cadence.credited(m.required_calls, m.done_calls), m.overdue)
    return {units.names[k]: tuple(int(np.asarray(c)[place == i].sum()) for c in columns) for i, k in enumerate(units.keys)}


def pandas_per_unit(user, scheme, quarter):
    """The baseline: the same rows into DataFrames, the same rules with merges and group-bys."""
    import pandas as pd
    from django.db import connection
    from django.utils import timezone

    from kam.activities.compliance import cadence
    from kam.activities.compliance import measure as compliance
    from kam.core.models import OrgUnit

    visit_kinds, call_kinds = compliance.contact_kinds()
    visit_c, call_c = compliance.cadences(scheme)
    start, end = quarter
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, unit_id FROM accounts_account WHERE deleted_at IS NULL")
        accounts = pd.DataFrame(cursor.fetchall(), columns=["account_id", "unit_id"])
        cursor.execute("SELECT id, as_of FROM tiering_snapshot WHERE scheme_id = %s AND state = 'done' ORDER BY as_of, id",
                       [scheme.pk])
        snaps = cursor.fetchall()
        sources = [cadence.Source(pk, as_of) for pk, as_of in snaps]
        runs = cadence.decisive_sources(start, end, sources)
        longest = max([c.gap_days for c in [*visit_c.values(), *call_c.values()]] or [0])
        look_from = min(start, end - timedelta(days=longest + 1))
        clock_runs = cadence.decisive_sources(end - timedelta(days=longest + 1), end, sources)
        entries = {}
        for key in {k for _a, _b, k in runs + clock_runs if k is not None}:
            cursor.execute("SELECT account_id, tier FROM tiering_snapshotentry WHERE snapshot_id = %s", [key])
            entries[key] = pd.DataFrame(cursor.fetchall(), columns=["account_id", "tier"]).set_index("account_id")["tier"]
        cursor.execute(
            "SELECT account_id, kind, occurred_at FROM activities_activity WHERE occurred_at >= %s AND occurred_at < %s",
            [compliance.local_start(look_from), compliance.local_start(end + timedelta(days=1))])
        acts = pd.DataFrame(cursor.fetchall(), columns=["account_id", "kind", "occurred_at"])
    acts = acts[acts["kind"].isin(visit_kinds + call_kinds)]
    acts["contact"] = np.where(acts["kind"].isin(visit_kinds), "v", "c")
    occurred = pd.to_datetime(acts["occurred_at"], utc=True).dt.tz_convert(str(timezone.get_current_timezone()))
    acts["day"] = occurred.dt.date
    frame = accounts.set_index("account_id")
    for kind, cads in (("v", visit_c), ("c", call_c)):
        need = pd.Series(0.0, index=frame.index)
        for first, last, key in runs:
            tier = entries[key].reindex(frame.index).fillna("") if key is not None else pd.Series("", index=frame.index)
            weights = {code: c.count * cadence.due_fraction(first, last, c.months) for code, c in cads.items()}
            need += tier.map(weights).fillna(0.0)
        frame[f"req_{kind}"] = np.floor(need + 0.5 + 1e-9).astype("int64")
        mine = acts[acts["contact"] == kind]
        inside = mine[(mine["day"] >= start) & (mine["day"] <= end)]
        frame[f"done_{kind}"] = inside.groupby("account_id").size().reindex(frame.index).fillna(0).astype("int64")
        last_day = mine.groupby("account_id")["day"].max().reindex(frame.index)
        tier_now = entries[runs[-1][2]].reindex(frame.index).fillna("")
        gap = tier_now.map({code: c.gap_days for code, c in cads.items()}).fillna(0).astype("int64")
        # the clock starts at the later of the last contact and the entry into tiers asking for the kind
        asking = [code for code, c in cads.items() if c.gap_days]
        entered = pd.Series(-1, index=frame.index)
        running = pd.Series(True, index=frame.index)
        for first, _last, key in reversed(clock_runs):
            tier = entries[key].reindex(frame.index).fillna("") if key is not None else pd.Series("", index=frame.index)
            running &= tier.isin(asking)
            entered[running] = first.toordinal()
        clock = np.maximum(last_day.map(lambda d: d.toordinal() if isinstance(d, date) else -1), entered)
        frame[f"late_{kind}"] = (gap > 0) & ((clock == -1) | (end.toordinal() - clock > gap))
        frame[f"cred_{kind}"] = np.minimum(frame[f"done_{kind}"], frame[f"req_{kind}"])
    frame["overdue"] = frame["late_v"] | frame["late_c"]
    units = pd.DataFrame(list(OrgUnit.objects.values_list("pk", "path", "name")), columns=["unit_id", "path", "name"])
    branches = units[units["path"].str.count("/") == 3]
    units["branch"] = units["path"].map(lambda p: next((n for bp, n in zip(branches["path"], branches["name"],
                                                                               strict=True) if p.startswith(bp)), None))
    frame = frame.reset_index().merge(units[["unit_id", "branch"]], on="unit_id")
    rolled = frame.groupby("branch")[["req_v", "cred_v", "req_c", "cred_c", "overdue"]].sum()
    return {name: tuple(int(x) for x in row) for name, row in rolled.iterrows()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--activities", type=int, default=2_000_000)
    parser.add_argument("--quarter", default="2026-Q2")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--reload", action="store_true")
    parser.add_argument("--home", default=str(Path("var") / "bench-compliance"))
    args = parser.parse_args()
    setup(args.home)

    from django.db import connection

    from kam.activities.compliance import measure as compliance

    quarter = compliance.parse_period(args.quarter)
    director, scheme = prepare(args.accounts, args.activities, args.seed, quarter, args.reload)
    settle()
    vendor = f"{connection.vendor} {connection.Database.sqlite_version if connection.vendor == 'sqlite' else connection.pg_version}"
    print(f"data: {args.accounts:,} accounts, {args.activities:,} activities ({quarter[1].year}-01-01 … {quarter[1]}), "
          f"2 snapshots of monthly-spend, seed {args.seed}; database: {vendor}; quarter {args.quarter}; "
          f"repeats: {args.repeat}")
    kam_times, pandas_times = [], []
    for run in range(1, args.repeat + 1):
        mark = time.perf_counter()
        got = kam_per_unit(director, scheme, quarter)
        kam_times.append(time.perf_counter() - mark)
        mark = time.perf_counter()
        expected = pandas_per_unit(director, scheme, quarter)
        pandas_times.append(time.perf_counter() - mark)
        assert got == {k: v for k, v in expected.items() if k in got}, f"KAM {got} ≠ pandas {expected}"
        print(f"  run {run}: KAM {kam_times[-1]:.2f} s, pandas {pandas_times[-1]:.2f} s; per unit agree: "
              f"{sum(v[0] for v in got.values()):,} visits required, {sum(v[4] for v in got.values()):,} overdue")
    kam, base = statistics.median(kam_times), statistics.median(pandas_times)
    target = f"<{TARGET_SECONDS:.0f}s {'PASS' if kam < TARGET_SECONDS else 'FAIL'}"
    if connection.vendor != "postgresql":
        target += " (the target is set for PostgreSQL)"
    print(f"\nResult ({vendor}): compliance per unit, median of {args.repeat}: KAM {kam:.2f} s, "
          f"pandas {base:.2f} s, pandas/KAM {base / kam:.1f}x; {target}")


if __name__ == "__main__":
    main()
