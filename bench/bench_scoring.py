"""The nightly refit at scale: the customer-base models fitted on the revenue facts and every
account scored, against the `lifetimes` fitters on the same summary.

    python bench/bench_scoring.py --accounts 100000 --months 36 --repeat 5
    bash .ci/postgres.sh .venv/bin/python bench/bench_scoring.py      # on PostgreSQL

Data: --accounts accounts with --months months of revenue ending in the month before
--as-of, one line per account and month on the account's own billing day (seed 2026): the
heavy-tailed monthly spend of bench_tiering (8 % of months without revenue, 1 % refunds),
and on top a customer base that comes and goes — 30 % of the accounts start in a random
month of the first half, 20 % stop in a random month after they started. Loaded straight
into the tables (setup, not timed).

Timed, the median of --repeat runs: `kam.insight.forecast.services.refit_and_score(as_of=)` — read the
facts of INSIGHT_HISTORY_MONTHS months into numpy, summarise per account, fit BG/NBD and
gamma-gamma, store the fit and upsert one score per account (P(alive), expected purchases,
value, lifetime value), with its phases; and as the baseline for the fitting phase, the
`lifetimes` BetaGeoFitter and GammaGammaFitter on the same summary, in the same process.

Database: SQLite in --home (default var/bench-scoring), or DATABASE_URL when set. The data
is kept between runs of the same size and seed (--reload to rebuild it).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from datetime import date, timedelta
from pathlib import Path

import numpy as np
from bench_tiering import monthly_fen, months_ending, settle, yuan
from benchlib import copy_rows, empty, setup

TARGET_SECONDS = 600.0  # a comfortable share of the nightly run
DATABASE_MARKER = "bench_scoring database"
PREFIX = "MS"  # the benchmark's account codes


def history(accounts: int, months: int, seed: int) -> np.ndarray:
    """months × accounts amounts in fen, with accounts that start late and accounts that stop."""
    amounts = monthly_fen(accounts, months, seed)
    rng = np.random.default_rng(seed + 1)
    start = np.where(rng.random(accounts) < 0.3, rng.integers(0, months // 2, accounts), 0)
    stop = np.where(rng.random(accounts) < 0.2, start + rng.integers(1, months, accounts), months)
    month = np.arange(months)[:, None]
    amounts[(month < start) | (month >= stop)] = 0
    return amounts


def load(accounts: int, month_list: list[date], amounts: np.ndarray, actor, seed: int) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from kam.accounts.models import Account
    from kam.core.bulk import insert_rows, new_instances
    from kam.revenue.models import MonthlyRevenue, RevenueFact

    now = timezone.now()
    make = new_instances(Account)
    with transaction.atomic():
        insert_rows(Account, (
            make(code=f"{PREFIX}{n:07d}", name=f"模型基准客户{n:07d}", name_key=f"模型基准客户{n:07d}", search_text=f"{PREFIX.lower()}{n:07d}",
                 owner_id=actor.pk, unit_id=actor.unit_id, created_by_id=actor.pk, created_at=now, updated_at=now)
            for n in range(1, accounts + 1)
        ), batch_size=20_000)
    ids = np.array(Account.objects.filter(code__startswith=PREFIX).order_by("code").values_list("id", flat=True), dtype=np.int64)
    billing_day = np.random.default_rng(seed + 2).integers(0, 28, accounts)
    stamp = connection.ops.adapt_datetimefield_value(now)
    for m, month in enumerate(month_list):
        mark = time.perf_counter()
        mask = amounts[m] != 0
        rows = [(int(i), month + timedelta(days=int(d)), month, yuan(int(a)), "", stamp)
                for i, d, a in zip(ids[mask], billing_day[mask], amounts[m][mask], strict=True)]
        sums = [(int(i), month, yuan(int(a)), 1) for i, a in zip(ids[mask], amounts[m][mask], strict=True)]
        with transaction.atomic():
            copy_rows(RevenueFact, ["account_id", "date", "month", "amount", "product", "created_at"], rows)
            copy_rows(MonthlyRevenue, ["account_id", "month", "amount", "lines"], sums)
        print(f"  {month:%Y-%m}: {len(rows):,} lines loaded in {time.perf_counter() - mark:.1f} s", file=sys.stderr)


def prepare(accounts: int, months: int, seed: int, as_of: date, reload: bool):
    from django.core.management import call_command

    from kam.accounts.models import Account
    from kam.core.models import OrgUnit, User
    from kam.demo import build_demo
    from kam.imports.models import MappingTemplate
    from kam.insight.models import ModelFit

    call_command("migrate", verbosity=0)
    if not (OrgUnit.objects.exists() or Account.objects.exists() or User.objects.exists()):
        print("building the demo organisation and users …", file=sys.stderr)
        build_demo(accounts=1, seed=seed, progress=False)
        MappingTemplate.objects.create(user=User.objects.get(username="director"), kind="revenue", name=DATABASE_MARKER)
    elif not MappingTemplate.objects.filter(name=DATABASE_MARKER).exists():
        raise SystemExit("This database holds data the benchmark did not make; give it an empty one.")
    actor = User.objects.get(username="director")
    marker = f"bench_scoring size {accounts}x{months} seed {seed} as of {as_of}"
    empty(ModelFit)  # and the scores
    if reload or not MappingTemplate.objects.filter(name=marker).exists():
        print(f"loading {accounts:,} accounts × {months} months …", file=sys.stderr)
        empty(Account)  # the demo's one too, and all revenue
        MappingTemplate.objects.filter(name__startswith="bench_scoring size ").delete()
        month_list = months_ending(as_of - timedelta(days=1), months)
        load(accounts, month_list, history(accounts, months, seed), actor, seed)
        MappingTemplate.objects.create(user=actor, kind="revenue", name=marker)
    settle()
    return actor


def timed_refit(as_of: date) -> dict[str, float]:
    """refit_and_score with its phases: read, summarise, fit, forecast, store."""
    from kam.insight.forecast import services as scoring

    phases: dict[str, float] = {}
    originals = {name: getattr(scoring, name) for name in ("transactions_from_revenue", "summarise", "forecast",
                                                           "score_accounts")}

    def timed(name):
        def run(*args, **kwargs):
            mark = time.perf_counter()
            try:
                return originals[name](*args, **kwargs)
            finally:
                phases[name] = phases.get(name, 0.0) + time.perf_counter() - mark
        return run

    for name in originals:
        setattr(scoring, name, timed(name))
    try:
        mark = time.perf_counter()
        result = scoring.refit_and_score(as_of=as_of)
        phases["total"] = time.perf_counter() - mark
    finally:
        for name, original in originals.items():
            setattr(scoring, name, original)
    assert result["fit"] is not None, result
    phases["fit"] = phases["total"] - sum(v for k, v in phases.items() if k != "total")
    phases["scored"] = result["scored"]
    return phases


def lifetimes_fit(as_of: date) -> tuple[float, dict]:
    """The baseline: lifetimes' fitters on the same summary."""
    from kam.core.conf import config
    from kam.insight.forecast import services as scoring

    start, end = scoring.history_window(as_of - timedelta(days=1), config().INSIGHT_HISTORY_MONTHS)
    summary = scoring.summarise(scoring.transactions_from_revenue(start=start, end=end), calibration_end=end,
                                period=config().INSIGHT_PERIOD)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from lifetimes import BetaGeoFitter, GammaGammaFitter

        mark = time.perf_counter()
        count = BetaGeoFitter().fit(summary.frequency, summary.recency, summary.age)
        repeat = summary.frequency > 0
        spend = GammaGammaFitter().fit(summary.frequency[repeat], summary.mean_value[repeat])
        elapsed = time.perf_counter() - mark
    return elapsed, {**count.params_.to_dict(), **spend.params_.to_dict()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 11, 1),
                        help="the nightly run's day; the revenue months end with the month before")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--reload", action="store_true", help="rebuild the data even if it is there")
    parser.add_argument("--no-baseline", action="store_true", help="skip the lifetimes fitters")
    parser.add_argument("--home", default=str(Path("var") / "bench-scoring"))
    args = parser.parse_args()
    setup(args.home)

    from django.db import connection

    from kam.core.conf import config
    from kam.insight.models import ModelFit

    prepare(args.accounts, args.months, args.seed, args.as_of, args.reload)
    vendor = f"{connection.vendor} {connection.Database.sqlite_version if connection.vendor == 'sqlite' else connection.pg_version}"
    print(f"data: {args.accounts:,} accounts × {args.months} months to {args.as_of - timedelta(days=1)}, seed {args.seed}; "
          f"database: {vendor}; model {config().INSIGHT_COUNT_MODEL} per {config().INSIGHT_PERIOD}, "
          f"{config().INSIGHT_HISTORY_MONTHS} months of history; repeats: {args.repeat}")
    runs = []
    for run in range(1, args.repeat + 1):
        phases = timed_refit(args.as_of)
        runs.append(phases)
        print(f"  run {run}: {phases['total']:.1f} s — read {phases['transactions_from_revenue']:.1f}, "
              f"summarise {phases['summarise']:.1f}, fit {phases['fit']:.1f}, forecast {phases['forecast']:.1f}, "
              f"store {phases['score_accounts']:.1f}; {phases['scored']:,} accounts scored")
    fit = ModelFit.objects.order_by("-id").first()
    print(f"  last fit: {fit.count_params}, log-likelihood {fit.count_log_likelihood:.1f}; spend {fit.spend_params}")
    median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"\nResults ({vendor}, {args.accounts:,} accounts × {args.months} months, median of {args.repeat})")
    print(f"  refit_and_score: {median['total']:.1f} s (read {median['transactions_from_revenue']:.1f}, "
          f"summarise {median['summarise']:.1f}, fit {median['fit']:.1f}, forecast {median['forecast']:.1f}, "
          f"store {median['score_accounts']:.1f}); target < {TARGET_SECONDS:.0f} s "
          f"{'PASS' if median['total'] < TARGET_SECONDS else 'FAIL'}")
    if not args.no_baseline:
        try:
            elapsed, params = lifetimes_fit(args.as_of)
        except Exception as exc:  # lifetimes gives up on data where the purchase rate hardly varies
            print(f"  lifetimes BG/NBD + gamma-gamma on the same summary: failed ({type(exc).__name__}: "
                  f"{str(exc).strip().splitlines()[0]})")
            return
        print(f"  lifetimes BG/NBD + gamma-gamma on the same summary: {elapsed:.1f} s, against our fit phase "
              f"{median['fit']:.1f} s ({elapsed / median['fit']:.1f}x); its estimates "
              f"{ {k: round(v, 4) for k, v in params.items()} }")


if __name__ == "__main__":
    main()
