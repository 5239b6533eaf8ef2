"""Demo revenue: two years of monthly billing per account, and the tier snapshots it gives.

Key-channel accounts spend more (a median near 9,000 元 a month against 1,500 for the
others), each account drifts up or down over the months, some months have no bill (fewer for
key accounts), bills fall on any day of the month, a few accounts carry a refund and a few
churn in the last year. The tiers then come out as a key-account team would know
them: a few hundred crystal and higher levels, a long tail of commercial ones.

The lines of a few thousand accounts are drawn at once with numpy (an account × month grid)
and go in with their monthly sums, counted in whole fen, in the same transaction; nothing is
read back, and no more than one batch of lines is held at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import numpy as np
from django.utils import timezone

from kam.accounts.models import Account, Channel
from kam.core.bulk import insert_values, instants
from kam.demo import batches
from kam.demo.progress import Progress
from kam.revenue.models import MonthlyRevenue, RevenueFact
from kam.tiering import services as tiering
from kam.tiering.models import Scheme

ACCOUNTS_PER_BATCH = 5000
MEDIAN_MONTHLY = {Channel.KEY: 9_000, Channel.COMMERCIAL: 1_500, Channel.PUBLIC: 2_500, Channel.TRANSIENT: 600}
# How regularly an account buys: the chance of a bill in a month is drawn per account from
# Beta(a, b) by channel (key accounts are billed nearly every month, walk-in ones now and then).
REGULARITY = {Channel.KEY: (40, 1), Channel.PUBLIC: (30, 1), Channel.COMMERCIAL: (20, 1), Channel.TRANSIENT: (6, 1)}
# Orders besides the bill: per account a monthly rate drawn from a gamma distribution with
# this mean by channel (shape ORDER_SHAPE), each order about a fifth of a month's bill.
ORDER_RATE = {Channel.KEY: 1.5, Channel.PUBLIC: 0.8, Channel.COMMERCIAL: 0.5, Channel.TRANSIENT: 0.3}
ORDER_SHAPE = 0.8
ORDER_PRODUCT = "订单"
# Accounts that churn within the last year: the share per channel, and how much more or less
# likely it is by industry (government, manufacturing and property lose the most in the sources).
CHURN_SHARE = {Channel.KEY: 0.03, Channel.COMMERCIAL: 0.06, Channel.PUBLIC: 0.04, Channel.TRANSIENT: 0.08}
CHURN_BY_INDUSTRY = {"gov": 2.0, "manufacturing": 1.5, "real_estate": 1.6, "retail": 1.2, "finance": 0.6,
                     "education": 0.7}
DAYS = 28  # bills and orders fall on the first 28 days of a month
FACT_FIELDS = ("account_id", "date", "month", "amount", "margin", "quantity", "product", "created_at")
MONTHLY_FIELDS = ("account_id", "month", "amount", "margin", "quantity", "lines")


def account_batches(size: int, *fields: str) -> Iterator[list[tuple]]:
    """The live accounts' `fields` (after the id) by ascending id, `size` at a time."""
    last = 0
    while rows := list(Account.objects.alive().filter(pk__gt=last).order_by("pk").values_list("pk", *fields)[:size]):
        yield rows
        last = rows[-1][0]


def _by_channel(table: dict, channels: list[str], default: float) -> np.ndarray:
    return np.array([table.get(c, default) for c in channels], dtype=np.float64)


def _lines(gen: np.random.Generator, channels: list[str], industries: list[str | None], months: list[date]) -> dict:
    """The lines of one batch of accounts, as arrays: account (its place in the batch), month
    (its place in `months`), day of the month (0-based), amount and margin in fen, and
    whether it is an order."""
    n, m = len(channels), len(months)
    base = _by_channel(MEDIAN_MONTHLY, channels, 1_500) * gen.lognormal(0, 0.9, size=n)
    drift = gen.normal(0.004, 0.02, size=n)  # per month
    refund_month = np.where(gen.random(n) < 0.02, gen.integers(m, size=n), -1)
    churn_p = _by_channel(CHURN_SHARE, channels, 0.08) * np.array(
        [CHURN_BY_INDUSTRY.get(i or "", 1.0) for i in industries], dtype=np.float64)
    churn_month = np.where(gen.random(n) < churn_p, gen.integers(max(0, m - 12), m, size=n), m)
    remaining = np.where(gen.random(n) < 0.5, gen.uniform(0.1, 0.45, size=n), 0.0)  # what is left after churning
    shape = np.array([REGULARITY.get(c, (2, 1)) for c in channels], dtype=np.float64)
    regularity = gen.beta(shape[:, 0], shape[:, 1])
    order_rate = gen.gamma(ORDER_SHAPE, _by_channel(ORDER_RATE, channels, 0.5) / ORDER_SHAPE)

    k = np.arange(m)
    keeps = np.where(k[None, :] >= churn_month[:, None], remaining[:, None], 1.0)
    # Orders: each on a different day of its month.
    orders = np.minimum(gen.poisson(order_rate[:, None] * keeps), DAYS)
    cells = np.flatnonzero(orders)
    per_cell = orders.ravel()[cells]
    days_drawn = np.argsort(gen.random((len(cells), DAYS)), axis=1)
    taken = np.arange(DAYS)[None, :] < per_cell[:, None]
    order_cell = np.repeat(cells, per_cell)
    order_day = days_drawn[taken]
    order_amount = (base * 1.0)[order_cell // m] * keeps.ravel()[order_cell] * gen.lognormal(-1.6, 0.5, size=len(order_cell))
    # Bills: at most one a month, none when the account skips the month or has stopped buying.
    billed = (gen.random((n, m)) <= regularity[:, None]) & (keeps > 0)
    season = 1 + 0.08 * np.sin(2 * np.pi * (np.array([d.month for d in months]) - 3) / 12)
    bill = base[:, None] * np.exp(drift[:, None] * k[None, :]) * season[None, :] * gen.lognormal(0, 0.15, size=(n, m)) * keeps
    bill = np.where(k[None, :] == refund_month[:, None], -bill * 0.3, bill)
    bill_day = gen.integers(DAYS, size=(n, m))
    bill_cell = np.flatnonzero(billed)

    cell = np.concatenate([order_cell, bill_cell])
    amount = np.rint(np.concatenate([order_amount, bill.ravel()[bill_cell]]) * 100)
    rate = np.rint(gen.uniform(0.12, 0.35, size=len(cell)) * 100) / 100  # the margin rate, two places
    margin = np.rint(amount * rate)
    day = np.concatenate([order_day, bill_day.ravel()[bill_cell]])
    is_order = np.concatenate([np.ones(len(order_cell), bool), np.zeros(len(bill_cell), bool)])
    order = np.lexsort((~is_order, day, cell))  # by account, month and day: the unique key's order
    return {"account": cell[order] // m, "month": cell[order] % m, "day": day[order],
            "amount": amount[order].astype(np.int64), "margin": margin[order].astype(np.int64),
            "order": is_order[order]}


def build_revenue(*, seed: int, today: date, months: int = 24, progress: bool = False) -> int:
    """For the `months` whole months before `today`: at most one bill per account and month (how
    many months have one depends on the account) and orders at the account's own rate, each on
    a day of its month. A few accounts churn in the last year: from a month on they stop buying
    or spend a fraction. Each batch of accounts draws from its own generator, and its monthly
    sums go in with its lines."""
    last = tiering.month_start(today, 1)
    month_list = [tiering.month_start(last, back) for back in reversed(range(months))]
    month_text = [m.isoformat() for m in month_list]
    day_text = [(m + timedelta(days=d)).isoformat() for m in month_list for d in range(DAYS)]
    created = instants(RevenueFact, [int(timezone.now().timestamp())])[0]

    def make(batch: tuple[int, list[tuple]]) -> tuple[list[tuple], list[tuple]]:
        k, rows = batch
        gen = np.random.default_rng([seed, k])
        ids = np.asarray([r[0] for r in rows], dtype=np.int64)
        lines = _lines(gen, [r[1] for r in rows], [r[2] for r in rows], month_list)
        account, month, amount, margin = ids[lines["account"]], lines["month"], lines["amount"], lines["margin"]
        n = len(account)
        facts = list(zip(account.tolist(), [day_text[i] for i in (month * DAYS + lines["day"]).tolist()],
                         [month_text[i] for i in month.tolist()], (amount / 100).tolist(), (margin / 100).tolist(),
                         [None] * n, [ORDER_PRODUCT if o else "" for o in lines["order"].tolist()], [created] * n,
                         strict=True))
        # The monthly sums, in whole fen: one row per account and month with any line.
        pairs, first, count = np.unique(lines["account"] * months + month, return_index=True, return_counts=True)
        monthly = list(zip(ids[pairs // months].tolist(), [month_text[i] for i in (pairs % months).tolist()],
                           (np.add.reduceat(amount, first) / 100).tolist(), (np.add.reduceat(margin, first) / 100).tolist(),
                           [None] * len(pairs), count.tolist(), strict=True))
        return facts, monthly

    def write(made: tuple[list[tuple], list[tuple]]) -> int:
        facts, monthly = made
        insert_values(MonthlyRevenue, MONTHLY_FIELDS, monthly, prepared=True, batch_size=5000)
        return insert_values(RevenueFact, FACT_FIELDS, facts, prepared=True, batch_size=5000)

    with Progress(progress, "revenue", Account.objects.alive().count(), "accounts") as bar:
        written = batches.run(enumerate(account_batches(ACCOUNTS_PER_BATCH, "channel", "industry__code")),
                              make=make, write=write, done=lambda batch, _n: bar.advance(len(batch[1])))
    return sum(written)


def build_snapshots(*, actor, today: date, progress: bool = False) -> int:
    """A snapshot of every active scheme at the end of last month; for monthly spend also the
    annual key-account list of this year, fixed from the end of the year before. The
    snapshots do not depend on each other (the annual list only on its own freeze)."""
    last_day = today.replace(day=1) - timedelta(days=1)
    work: list[tuple[Scheme, date, bool]] = []
    for scheme in Scheme.objects.filter(is_active=True).order_by("id"):
        if scheme.code == "monthly-spend":
            work.append((scheme, date(today.year - 1, 12, 31), True))
        work.append((scheme, last_day, False))

    def snapshot(piece: tuple[Scheme, date, bool]) -> int:
        scheme, as_of, annual = piece
        made = tiering.snapshot_create(actor=actor, scheme=scheme, as_of=as_of)
        if annual:
            tiering.snapshot_freeze(actor=actor, snapshot=made, year=today.year)
        return 1

    with Progress(progress, "snapshots", len(work)) as bar:
        return sum(batches.each(work, snapshot, done=lambda _piece, _n: bar.advance()))
