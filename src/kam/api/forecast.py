"""The customer-base models over HTTP: the stored fits, the scores of the accounts the caller
may see (with the models page's filters) and one account's forecast. The same selectors and
scoping as the pages: an account outside the caller's scope is a 404."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema

from kam.api.account_schemas import IdParam, Ref, errors, ref
from kam.api.paging import CursorQuery, PageFields, page_of
from kam.insight.forecast import selectors, services
from kam.insight.forecast.filters import ScoreFilter
from kam.insight.models import AccountScore, CountModel, ModelFit, Period

router = Router(tags=["forecast"])
LIST_ERRORS = errors()
ERRORS = errors(404)


class ScoreQuery(ScoreFilter, CursorQuery):
    """The score list's filter and the page."""


class FitOut(Schema):
    id: int
    count_model: CountModel
    period: Period
    window_start: dt.date = Field(..., description="the first day of the revenue facts the fit read")
    calibration_end: dt.date = Field(..., description="the last day of the revenue facts the fit read")
    parameters: dict[str, float] = Field(..., description="the count model's: r, alpha, a, b (BG/NBD) or "
                                                          "r, alpha, s, beta (Pareto/NBD)")
    log_likelihood: float
    spend_parameters: dict[str, float] | None = Field(..., description="gamma-gamma p, q, gamma; None when not fitted")
    spend_log_likelihood: float | None
    spend_used: bool = Field(..., description="false when the spend model was not fitted or has no finite mean "
                                              "(q ≤ 1): expected spend is then each account's own mean")
    customers: int
    repeat_customers: int
    converged: bool
    seconds: float
    scored_accounts: int
    current: bool = Field(..., description="the scores come from this fit")
    created_at: dt.datetime


class FitPage(PageFields):
    items: list[FitOut]


class ScoreOut(Schema):
    account: Ref
    code: str
    fit: int
    p_alive: float = Field(..., description="the probability that the account still buys")
    p_alive_before: float | None = Field(..., description="the same from the fit before")
    frequency: int = Field(..., description="repeat purchases in the fit's data")
    recency: float = Field(..., description="from the first purchase to the last, in the fit's periods")
    age: float = Field(..., description="from the first purchase to the end of the data, in the fit's periods")
    expected_purchases: float = Field(..., description="over the next INSIGHT_HORIZON_MONTHS months")
    expected_spend: Decimal | None = Field(..., description="per purchase, yuan")
    expected_value: Decimal | None = Field(..., description="over the next INSIGHT_HORIZON_MONTHS months, yuan")
    clv: Decimal | None = Field(..., description="lifetime value over INSIGHT_CLV_MONTHS months, discounted, yuan")
    scored_at: dt.datetime


class ScorePage(PageFields):
    items: list[ScoreOut]


def _fit(fit: ModelFit, current: ModelFit | None) -> dict[str, Any]:
    return {
        "id": fit.pk, "count_model": fit.count_model, "period": fit.period, "window_start": fit.window_start,
        "calibration_end": fit.calibration_end, "parameters": fit.count_params,
        "log_likelihood": fit.count_log_likelihood, "spend_parameters": fit.spend_params,
        "spend_log_likelihood": fit.spend_log_likelihood, "spend_used": services.spend_usable(fit.spend_params),
        "customers": fit.customers, "repeat_customers": fit.repeat_customers, "converged": fit.converged,
        "seconds": fit.seconds, "scored_accounts": fit.scored_accounts,
        "current": current is not None and fit.pk == current.pk, "created_at": fit.created_at,
    }


def _score(s: AccountScore) -> dict[str, Any]:
    return {
        "account": ref(s.account), "code": s.account.code, "fit": s.fit_id, "p_alive": s.p_alive,
        "p_alive_before": s.p_alive_before, "frequency": s.frequency, "recency": s.recency, "age": s.age,
        "expected_purchases": s.expected_purchases, "expected_spend": s.expected_spend,
        "expected_value": s.expected_value, "clv": s.clv, "scored_at": s.scored_at,
    }


@router.get("/forecast/fits", response={200: FitPage, **LIST_ERRORS},
            summary="The customer-base model fits, latest first")
def list_fits(request: HttpRequest, query: Query[CursorQuery]) -> dict[str, Any]:
    current = selectors.current_fit()
    return page_of(selectors.fit_list(), query, lambda fit: _fit(fit, current))


@router.get("/forecast/fits/{fit_id}", response={200: FitOut, **ERRORS}, summary="One model fit")
def get_fit(request: HttpRequest, fit_id: IdParam) -> dict[str, Any]:
    fit = selectors.fit_list().filter(pk=fit_id).first()
    if fit is None:
        raise Http404
    return _fit(fit, selectors.current_fit())


@router.get("/forecast/scores", response={200: ScorePage, **LIST_ERRORS},
            summary="The forecasts of the accounts you can see, with the models page's filters")
def list_scores(request: HttpRequest, query: Query[ScoreQuery]) -> dict[str, Any]:
    return page_of(selectors.score_list(user=request.user, filters=query), query, _score)


@router.get("/accounts/{account_id}/forecast", response={200: ScoreOut, **ERRORS},
            summary="An account's forecast (404 when the account has none or is not yours to see)")
def account_forecast(request: HttpRequest, account_id: IdParam) -> dict[str, Any]:
    score = selectors.score_get(user=request.user, account_id=account_id)
    if score is None:
        raise Http404
    return _score(score)
