"""Helpers for the early-warning and health tests: accounts in two branches, revenue months,
scores, surveys, tiers, contacts written directly with explicit dates."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

import numpy as np
from django.utils import timezone

from kam.activities.models import Activity
from kam.insight.models import AccountScore, ModelFit, SatisfactionSurvey, WarningRule
from kam.insight.warnings.rules import RULES, Context
from kam.revenue.models import MonthlyRevenue
from kam.tiering.models import Snapshot, SnapshotEntry, SnapshotState


def months(account, first: date, amounts: list) -> None:
    """Monthly revenue from `first` on, one amount a month."""
    rows, month = [], first
    for amount in amounts:
        rows.append(MonthlyRevenue(account=account, month=month, amount=Decimal(str(amount)), lines=1))
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    MonthlyRevenue.objects.bulk_create(rows)


_fit = {}


def score(account, p_alive: float, before: float | None = None) -> AccountScore:
    fit = ModelFit.objects.first() or ModelFit.objects.create(
        window_start=date(2023, 1, 1), calibration_end=date(2026, 1, 1), count_params={}, count_log_likelihood=0,
        customers=1, repeat_customers=1)
    return AccountScore.objects.create(account=account, fit=fit, frequency=3, recency=10, age=20, p_alive=p_alive,
                                       p_alive_before=before, expected_purchases=1, scored_at=timezone.now())


def survey(account, day: date, value) -> SatisfactionSurvey:
    return SatisfactionSurvey.objects.create(account=account, surveyed_on=day, score=Decimal(str(value)))


def tiers(scheme, as_of: date, tiers_by_account: dict) -> None:
    snap = Snapshot.objects.create(scheme=scheme, as_of=as_of, window_start=as_of, method=scheme.method,
                                   state=SnapshotState.DONE)
    SnapshotEntry.objects.bulk_create(SnapshotEntry(snapshot=snap, account=a, tier=t, revenue=0)
                                      for a, t in tiers_by_account.items())


def contact_on(account, kind: str, day: date, actor) -> Activity:
    when = timezone.make_aware(datetime.combine(day, time(10)))
    return Activity.objects.create(account=account, kind=kind, occurred_at=when, summary="拜访", created_by=actor)


def fires(code: str, as_of: date, **params) -> dict:
    """The accounts the rule `code` fires on as of `as_of` (seeded params, overridden by `params`)."""
    from kam.accounts.models import Account

    rule = WarningRule.objects.get(code=code)
    ids = np.array(sorted(Account.objects.alive().values_list("pk", flat=True)), dtype=np.int64)
    return RULES[code](Context(as_of=as_of, ids=ids, only=None), {**rule.params, **params})


def only_rules(*codes: str) -> None:
    """Switch every rule off except `codes`."""
    WarningRule.objects.exclude(code__in=codes).update(is_enabled=False)
    WarningRule.objects.filter(code__in=codes).update(is_enabled=True)
