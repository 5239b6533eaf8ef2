"""What the health card and the API read: an account's health rows and surveys, and the latest
score beside each account of a list."""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery

from kam.accounts.models import Account
from kam.insight.models import HealthScore, SatisfactionSurvey


def health_trend(*, user: Any, account: Account, months: int = 12) -> list[HealthScore]:
    """The account's health rows, the latest `months`, oldest first."""
    rows = list(HealthScore.objects.visible_to(user).filter(account=account).order_by("-month")[:months])
    return rows[::-1]


def account_surveys(*, user: Any, account: Account, limit: int = 20) -> list[SatisfactionSurvey]:
    return list(SatisfactionSurvey.objects.visible_to(user).filter(account=account).select_related("recorded_by")
                .order_by("-surveyed_on", "-id")[:limit])



def with_health(queryset: QuerySet[Account]) -> QuerySet[Account]:
    """Accounts annotated with `health_score`: the score of their latest HealthScore row (None
    before the first evaluation) — one index lookup per row shown, for lists and exports."""
    latest = HealthScore.objects.filter(account=OuterRef("pk")).order_by("-month").values("score")[:1]
    return queryset.annotate(health_score=Subquery(latest))
