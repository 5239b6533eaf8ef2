"""Demo revenue: two years of monthly billing per account, and the tier snapshots it gives.

Key-channel accounts spend more (a median near 9,000 元 a month against 1,500 for the
others), each account drifts up or down over the months, some months have no bill (fewer for
key accounts), bills fall on any day of the month, a few accounts carry a refund and a few
churn in the last year. The tiers then come out as a key-account team would know
them: a few hundred crystal and higher levels, a long tail of commercial ones.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import numpy as np
from django.db import transaction
from django.utils import timezone

from kam.accounts.models import Account, Channel
from kam.core.bulk import insert_rows
from kam.revenue.importers import monthly_refresh
from kam.revenue.models import RevenueFact
from kam.tiering import services as tiering
from kam.tiering.models import Scheme

MEDIAN_MONTHLY = {Channel.KEY: 9_000, Channel.COMMERCIAL: 1_500, Channel.PUBLIC: 2_500, Channel.TRANSIENT: 600}
# Accounts that churn within the last year: the share per channel, and how much more or less
# likely it is by industry (government, manufacturing and property lose the most in the sources).
# How regularly an account buys: the chance of a bill in a month is drawn per account from
# Beta(a, b) by channel (key accounts are billed nearly every month, walk-in ones now and then).
REGULARITY = {Channel.KEY: (40, 1), Channel.PUBLIC: (30, 1), Channel.COMMERCIAL: (20, 1), Channel.TRANSIENT: (6, 1)}
# Orders besides the bill: per account a monthly rate drawn from a gamma distribution with
# this mean by channel (shape ORDER_SHAPE), each order about a fifth of a month's bill.
ORDER_RATE = {Channel.KEY: 1.5, Channel.PUBLIC: 0.8, Channel.COMMERCIAL: 0.5, Channel.TRANSIENT: 0.3}
ORDER_SHAPE = 0.8
ORDER_PRODUCT = "订单"
CHURN_SHARE = {Channel.KEY: 0.03, Channel.COMMERCIAL: 0.06, Channel.PUBLIC: 0.04, Channel.TRANSIENT: 0.08}
CHURN_BY_INDUSTRY = {"gov": 2.0, "manufacturing": 1.5, "real_estate": 1.6, "retail": 1.2, "finance": 0.6,
                     "education": 0.7}


def build_revenue(*, seed: int, today: date, months: int = 24) -> int:
    """For the `months` whole months before `today`: at most one bill per account and month (how
    many months have one depends on the account) and orders at the account's own rate, each on
    a day of its month. A few
    accounts churn in the last year: from a month on they stop buying or spend a fraction."""
    rng = np.random.default_rng(seed)
    accounts = list(Account.objects.order_by("id").values_list("pk", "channel", "industry__code"))
    last = tiering.month_start(today, 1)
    month_list = [tiering.month_start(last, back) for back in reversed(range(months))]
    now = timezone.now()
    lines, touched = [], set()
    for account_id, channel, industry in accounts:
        base = MEDIAN_MONTHLY.get(channel, 1_500) * rng.lognormal(0, 0.9)
        drift = rng.normal(0.004, 0.02)  # per month
        refund_month = rng.integers(months) if rng.random() < 0.02 else -1
        churns = rng.random() < CHURN_SHARE.get(channel, 0.08) * CHURN_BY_INDUSTRY.get(industry, 1.0)
        churn_month = int(rng.integers(max(0, months - 12), months)) if churns else months
        remaining = rng.uniform(0.1, 0.45) if rng.random() < 0.5 else 0.0  # what is left after churning
        regularity = rng.beta(*REGULARITY.get(channel, (2, 1)))
        order_rate = rng.gamma(ORDER_SHAPE, ORDER_RATE.get(channel, 0.5) / ORDER_SHAPE)

        def line(month: date, day: int, amount: float, product: str, account_id: int = account_id) -> None:
            amount = Decimal(f"{amount:.2f}")
            lines.append(SimpleNamespace(
                account_id=account_id, date=month + timedelta(days=day), month=month, amount=amount,
                margin=(amount * Decimal(f"{rng.uniform(0.12, 0.35):.2f}")).quantize(Decimal("0.01")),
                quantity=None, product=product, created_at=now))
            touched.add((account_id, month))

        for k, month in enumerate(month_list):
            keeps = remaining if k >= churn_month else 1.0
            orders = rng.poisson(order_rate * keeps)
            for day in rng.choice(28, size=min(orders, 28), replace=False):
                line(month, int(day), base * keeps * rng.lognormal(-1.6, 0.5), ORDER_PRODUCT)
            if rng.random() > regularity or not keeps:
                continue  # no bill that month
            season = 1 + 0.08 * math.sin(2 * math.pi * (month.month - 3) / 12)
            amount = base * math.exp(drift * k) * season * rng.lognormal(0, 0.15) * keeps
            line(month, int(rng.integers(28)), -amount * 0.3 if k == refund_month else amount, "")
    with transaction.atomic():
        insert_rows(RevenueFact, lines)
        monthly_refresh(touched)
    return len(lines)


def build_snapshots(*, actor, today: date) -> int:
    """A snapshot of every active scheme at the end of last month; for monthly spend also the
    annual key-account list of this year, fixed from the end of the year before."""
    last_day = today.replace(day=1) - timedelta(days=1)
    made = 0
    for scheme in Scheme.objects.filter(is_active=True).order_by("id"):
        if scheme.code == "monthly-spend":
            annual = tiering.snapshot_create(actor=actor, scheme=scheme, as_of=date(today.year - 1, 12, 31))
            tiering.snapshot_freeze(actor=actor, snapshot=annual, year=today.year)
            made += 1
        tiering.snapshot_create(actor=actor, scheme=scheme, as_of=last_day)
        made += 1
    return made
