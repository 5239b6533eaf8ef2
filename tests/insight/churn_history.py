"""Hand-built revenue histories for the churn tests: lines straight into the revenue tables
(with their monthly sums rebuilt as the importer does), accounts per branch."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from kam.revenue.importers import monthly_refresh
from kam.revenue.models import RevenueFact


def month(year: int, m: int) -> date:
    return date(year, m, 1)


def revenue(account, lines: dict[date, str | int | Decimal]) -> None:
    """One line per day given: {date: amount}."""
    facts = [RevenueFact(account=account, date=day, month=day.replace(day=1), amount=Decimal(str(amount)))
             for day, amount in lines.items()]
    RevenueFact.objects.bulk_create(facts)
    monthly_refresh({(account.pk, day.replace(day=1)) for day in lines})


def monthly(account, first: date, amounts: list) -> None:
    """A line on the 10th of each month from `first`, one amount per month (None: no line)."""
    lines = {}
    index = first.year * 12 + first.month - 1
    for n, amount in enumerate(amounts):
        if amount is None:
            continue
        k = index + n
        lines[date(k // 12, k % 12 + 1, 10)] = amount
    revenue(account, lines)
