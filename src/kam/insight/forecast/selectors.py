"""What the models page and the API read: the current fit, the scores of the accounts the user
may see, and the histogram of P(alive)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, IntegerField, QuerySet, Value
from django.db.models.functions import Cast, Floor, Greatest, Least

from kam.insight.forecast.filters import SCORE_ORDERS, ScoreFilter
from kam.insight.models import AccountScore, ModelFit


def current_fit() -> ModelFit | None:
    """The fit the stored scores come from: the latest converged one that scored any account
    (a fit that did not converge never scores; one stored so before it may, and then counts
    only while there is no converged fit)."""
    scoring = ModelFit.objects.filter(scored_accounts__gt=0).order_by("-created_at", "-id")
    return scoring.filter(converged=True).first() or scoring.first()


def fit_list() -> QuerySet[ModelFit]:
    """The stored fits, latest first (the model's ordering)."""
    return ModelFit.objects.select_related("created_by")


def score_list(*, user: Any, filters: ScoreFilter | None = None, in_order: bool = True) -> QuerySet[AccountScore]:
    """The scores of the accounts `user` may see, filtered and ordered — for a page of them
    (`in_order`: AccountScore.objects.visible_in_order), or to be counted or read whole."""
    filters = filters or ScoreFilter()
    seen = AccountScore.objects.visible_in_order(user) if in_order else AccountScore.objects.visible_to(user)
    queryset = seen.select_related("account", "account__owner", "fit")
    if filters.p_alive_below is not None:
        queryset = queryset.filter(p_alive__lt=filters.p_alive_below)
    if filters.min_value is not None:
        queryset = queryset.filter(expected_value__gte=filters.min_value)
    return queryset.order_by(*SCORE_ORDERS.get(filters.order, SCORE_ORDERS["value"]))


def score_get(*, user: Any, account_id: int) -> AccountScore | None:
    return score_list(user=user, in_order=False).filter(account_id=account_id).first()


def tenth_of_p_alive(bins: int = 10) -> Greatest:
    """The tenth of P(alive) a score falls in, 0 (0–0.1) … 9 (0.9–1), worked out by the
    database (a figure on an edge, 0.3, in the tenth it opens; 1.0 in the last)."""
    return Greatest(Value(0), Least(Cast(Floor(F("p_alive") * bins), IntegerField()), Value(bins - 1)))


def p_alive_histogram(queryset: QuerySet[AccountScore], bins: int = 10) -> list[int]:
    """How many of the scores fall in each tenth of P(alive), 0–0.1 … 0.9–1 (every score in one)."""
    # Counted by the database, a tenth at a time: no value crosses to Python.
    counts = dict(queryset.order_by().annotate(tenth=tenth_of_p_alive(bins)).values_list("tenth")
                  .annotate(n=Count("pk")).values_list("tenth", "n"))
    return [int(counts.get(n, 0)) for n in range(bins)]
