"""Revenue facts for the scoring tests: written straight into the table, with the monthly
aggregates tiering reads beside them."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
from django.utils import timezone

from kam.accounts.models import Account
from kam.core import summaries
from kam.insight.models import AccountScore, ModelFit
from kam.revenue.models import MonthlyRevenue, RevenueFact


def quick_accounts(owners, prefix: str) -> list[Account]:
    """Accounts owned by `owners` (one each, in the owner's unit), inserted in one statement:
    the scoring tests need dozens of them and nothing of the account services."""
    Account.objects.bulk_create([
        Account(code=f"{prefix}{n:03d}", name=f"模型测试{prefix}{n:03d}号公司", name_key=f"模型测试{prefix}{n:03d}",
                owner=owner, unit_id=owner.unit_id, created_by=owner)
        for n, owner in enumerate(owners)
    ])
    return list(Account.objects.filter(code__startswith=prefix).order_by("code"))


def add_facts(lines) -> None:
    """lines: (account, date, amount, product) — amount in yuan as text or number."""
    facts, months = [], defaultdict(Decimal)
    for account, day, amount, product in lines:
        month = day.replace(day=1)
        facts.append(RevenueFact(account_id=account.pk, date=day, month=month, amount=Decimal(str(amount)),
                                 product=product))
        months[(account.pk, month)] += Decimal(str(amount))
    RevenueFact.objects.bulk_create(facts, batch_size=2000)
    for (account_id, month), amount in months.items():
        row, created = MonthlyRevenue.objects.get_or_create(account_id=account_id, month=month,
                                                            defaults={"amount": amount, "lines": 1})
        if not created:
            MonthlyRevenue.objects.filter(pk=row.pk).update(amount=row.amount + amount)


def random_history(accounts, *, start: date, end: date, seed: int = 7) -> list[tuple]:
    """A purchase history per account: a first day in the first half of [start, end], then
    a rate and a lifetime of its own; amounts around a level of its own."""
    rng = np.random.default_rng(seed)
    days = (end - start).days
    lines = []
    for account in accounts:
        first = int(rng.integers(0, days // 2))
        rate = rng.gamma(1.5, 1 / 40)  # purchases a day
        life = int(rng.exponential(days))
        level = float(rng.lognormal(7, 0.8))
        day = first
        while day <= min(days, first + life):
            amount = round(level * float(rng.lognormal(0, 0.3)), 2)
            lines.append((account, start + timedelta(days=day), amount, "宽带"))
            day += max(1, int(rng.exponential(1 / rate)))
    return lines


def store_scores(rows: dict, *, calibration_end: date = date(2026, 6, 30), **fit) -> ModelFit:
    """A fit and its scores written by hand: {account: {field: value}}; unnamed fields get
    plain values (P(alive) 0.5, 3 purchases, 1,000 yuan)."""
    fit = ModelFit.objects.create(**{
        "window_start": date(2023, 7, 1), "calibration_end": calibration_end,
        "count_params": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, "count_log_likelihood": -9582.4,
        "spend_params": {"p": 6.25, "q": 3.74, "gamma": 15.44}, "spend_log_likelihood": -4000.0,
        "customers": 2357, "repeat_customers": 946, "scored_accounts": len(rows), **fit})
    AccountScore.objects.bulk_create([AccountScore(**{
        "account": account, "fit": fit, "frequency": 4, "recency": 30.0, "age": 40.0, "p_alive": 0.5,
        "expected_purchases": 3.0, "expected_spend": Decimal("333.33"), "expected_value": Decimal("1000.00"),
        "clv": Decimal("2500.00"), "scored_at": timezone.now(), **values}) for account, values in rows.items()])
    summaries.invalidate("scores")  # as the scoring does after writing its scores in bulk
    return fit
