"""Early warning and account health over HTTP: the warnings of the caller's accounts with the
page's filters, one warning, recording a retention action, evaluating now, the rules; an
account's health (score, parts, trend) and its satisfaction surveys. The same services and
scoping as the pages: an account or warning outside the caller's scope is a 404."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, cast

from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict, StrictFloat, StrictInt, StrictStr

from kam.accounts.models import Account
from kam.api.account_schemas import Id, IdParam, Input, Ref, errors, ref
from kam.api.paging import CursorQuery, PageFields, page_of
from kam.core.filters import IsoDate
from kam.core.models import User
from kam.insight.health import selectors as health_selectors
from kam.insight.health import services as health_service
from kam.insight.models import (
    RetentionOutcome,
    SatisfactionSurvey,
    Severity,
    Warning,
    WarningRule,
    WarningState,
)
from kam.insight.warnings import selectors, services
from kam.insight.warnings.filters import WarningFilter
from kam.insight.warnings.rules import describe

router = Router(tags=["warnings"])
LIST_ERRORS = errors()
ERRORS = errors(403, 404, 409)


class WarningQuery(WarningFilter, CursorQuery):
    """The warnings list's filter and the page."""


class RuleOut(Schema):
    id: int
    code: str
    name: str
    is_enabled: bool
    severity: Severity
    params: dict


class RetentionOut(Schema):
    id: int
    action: str
    outcome: RetentionOutcome
    recorded_by: Ref
    recorded_at: dt.datetime


class WarningOut(Schema):
    id: int
    account: Ref
    owner: Ref | None = Field(..., description="the account's owner; None while it is in the public pool")
    rule: Ref
    rule_code: str
    severity: Severity
    state: WarningState
    evidence: dict = Field(..., description="the numbers that made the rule fire")
    evidence_text: str = Field(..., description="the evidence as a sentence")
    opened_at: dt.datetime
    checked_at: dt.datetime
    closed_at: dt.datetime | None
    task: int | None = Field(..., description="the owner's task for this warning")
    actions: list[RetentionOut]


class WarningPage(PageFields):
    items: list[WarningOut]


class RetentionIn(Input):
    model_config = ConfigDict(extra="forbid")
    action: str = Field(..., max_length=2000, description="what was done to keep the account")
    outcome: RetentionOutcome


class EvaluateIn(Input):
    model_config = ConfigDict(extra="forbid")
    account: Id | None = Field(None, description="only this account (anyone who sees it); else every account "
                                                 "you see (managers and HQ)")


class EvaluateOut(Schema):
    fired: int
    opened: int
    tasks: int
    kept: int
    cleared: int
    switched_off: int
    quiet: int


class HealthMonth(Schema):
    month: dt.date
    score: int


class HealthOut(Schema):
    account: Ref
    month: dt.date | None
    score: int | None = Field(..., description="0–100; None before the first evaluation")
    band: str = Field(..., description="green from 70, yellow from 40, red below")
    parts: dict[str, float | None] = Field(..., description="each 0–100, None when there is nothing to judge by")
    weights: dict[str, float]
    trend: list[HealthMonth] = Field(..., description="the last 12 months, oldest first")


class SurveyOut(Schema):
    id: int
    surveyed_on: dt.date
    score: Decimal
    note: str
    recorded_by: Ref | None


class SurveyIn(Input):
    model_config = ConfigDict(extra="forbid")
    score: StrictStr | StrictInt | StrictFloat = Field(..., description="0–10, one decimal; a JSON number or text")
    surveyed_on: IsoDate
    note: str = Field("", max_length=200)


def _warning(w: Warning) -> dict[str, Any]:
    return {
        "id": w.pk, "account": ref(w.account), "owner": ref(w.account.owner), "rule": ref(w.rule),
        "rule_code": w.rule.code, "severity": w.severity, "state": w.state, "evidence": w.evidence,
        "evidence_text": describe(w.rule.code, w.evidence), "opened_at": w.opened_at, "checked_at": w.checked_at,
        "closed_at": w.closed_at, "task": w.task_id,
        "actions": [{"id": a.pk, "action": a.action, "outcome": a.outcome, "recorded_by": ref(a.recorded_by),
                     "recorded_at": a.recorded_at} for a in w.actions.all()],
    }


def _account(request: HttpRequest, account_id: int) -> Account:
    account = Account.objects.visible_to(request.user).filter(pk=account_id).first()
    if account is None:
        raise Http404
    return account


def _get(request: HttpRequest, warning_id: int) -> Warning:
    w = selectors.warning_get(user=request.user, pk=warning_id)
    if w is None:
        raise Http404
    return w


def _caller(request: HttpRequest) -> User:
    """The authenticated caller: the API's authentication admits no anonymous request."""
    return cast(User, request.user)


@router.get("/warnings", response={200: WarningPage, **LIST_ERRORS},
            summary="The warnings of the accounts you see, newest first (open ones unless asked otherwise)")
def list_warnings(request: HttpRequest, query: Query[WarningQuery]) -> dict[str, Any]:
    qs = selectors.warning_list(user=request.user, filters=query).prefetch_related("actions__recorded_by")
    return page_of(qs, query, _warning)


@router.get("/warnings/rules", response={200: list[RuleOut], **LIST_ERRORS}, summary="The early-warning rules")
def list_rules(request: HttpRequest) -> list[dict[str, Any]]:
    return [{"id": r.pk, "code": r.code, "name": r.name, "is_enabled": r.is_enabled, "severity": r.severity,
             "params": r.params or {}} for r in WarningRule.objects.all()]


@router.post("/warnings/evaluate", response={200: EvaluateOut, **ERRORS},
             summary="Evaluate the rules now for one account, or every account you see (managers and HQ)")
def evaluate(request: HttpRequest, payload: EvaluateIn) -> dict[str, int]:
    if payload.account is not None:
        account = _account(request, payload.account)
        return services.sweep_visible(actor=_caller(request), account_ids=[account.pk])
    return services.sweep_visible(actor=_caller(request))


@router.get("/warnings/{warning_id}", response={200: WarningOut, **ERRORS}, summary="One warning")
def get_warning(request: HttpRequest, warning_id: IdParam) -> dict[str, Any]:
    return _warning(_get(request, warning_id))


@router.post("/warnings/{warning_id}/retention", response={200: WarningOut, **ERRORS},
             summary="Record a retention action and its outcome: the warning closes, its task is done")
def retain(request: HttpRequest, warning_id: IdParam, payload: RetentionIn) -> dict[str, Any]:
    w = _get(request, warning_id)
    services.retention_record(actor=_caller(request), warning=w, action=payload.action, outcome=payload.outcome)
    return _warning(_get(request, warning_id))


@router.get("/accounts/{account_id}/health", response={200: HealthOut, **ERRORS},
            summary="An account's health: this month's score, its parts and weights, the 12-month trend")
def account_health(request: HttpRequest, account_id: IdParam) -> dict[str, Any]:
    account = _account(request, account_id)
    trend = health_selectors.health_trend(user=request.user, account=account)
    current = trend[-1] if trend else None
    return {"account": ref(account), "month": current.month if current else None,
            "score": current.score if current else None, "band": health_service.band(current.score if current else None),
            "parts": (current.parts if current else {}), "weights": health_service.weights(),
            "trend": [{"month": r.month, "score": r.score} for r in trend]}


@router.get("/accounts/{account_id}/surveys", response={200: list[SurveyOut], **ERRORS},
            summary="An account's satisfaction surveys, newest first")
def list_surveys(request: HttpRequest, account_id: IdParam) -> list[dict[str, Any]]:
    account = _account(request, account_id)
    return [_survey(s) for s in health_selectors.account_surveys(user=request.user, account=account, limit=1000)]


@router.post("/accounts/{account_id}/surveys", response={201: SurveyOut, **ERRORS},
             summary="Record a satisfaction score (0–10) the account gave on a day")
def create_survey(request: HttpRequest, account_id: IdParam, payload: SurveyIn) -> Status[dict[str, Any]]:
    account = _account(request, account_id)
    survey = health_service.survey_add(actor=_caller(request), account=account, score=payload.score,
                                       surveyed_on=payload.surveyed_on, note=payload.note)
    return Status(201, _survey(survey))


def _survey(s: SatisfactionSurvey) -> dict[str, Any]:
    return {"id": s.pk, "surveyed_on": s.surveyed_on, "score": s.score, "note": s.note, "recorded_by": ref(s.recorded_by)}
