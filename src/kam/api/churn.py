"""Churn over HTTP: the churn events of the accounts the caller sees (filtered, paged), an
event's reason, competitor and note, the mark "moved to a competitor", the rates per period
with their breakdowns, and the churn definitions (HQ changes them). The same services and
scoping as the pages: an event or account outside the caller's scope is a 404."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, cast

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict, StringConstraints

from kam.api.account_schemas import Flag, Id, IdParam, Input, Money, Ref, errors, ref
from kam.api.paging import CursorQuery, PageFields, page_of
from kam.core.errors import refused
from kam.core.filters import IsoDate
from kam.core.models import User
from kam.insight.churn import selectors, services
from kam.insight.churn.filters import ChurnEventFilter
from kam.insight.churn.forms import user_units
from kam.insight.churn.rates import MAX_MONTHS, Rate, churn_rates
from kam.insight.models import ChurnDefinition, ChurnEvent, ChurnRule

router = Router(tags=["churn"])
LIST_ERRORS = errors(404)
ERRORS = errors(403, 404, 409)
YearMonth = Annotated[str, StringConstraints(pattern=r"^(19|[2-8]\d|9[0-8])\d{2}-(0[1-9]|1[0-2])$")]  # 1900-01…9899-12


class EventQuery(ChurnEventFilter, CursorQuery):
    """The events list's filter and the page."""


class DefinitionRef(Schema):
    id: int
    code: str
    name: str
    rule: ChurnRule


class EventOut(Schema):
    id: int
    account: Ref
    account_code: str
    definition: DefinitionRef
    reason: Ref | None = Field(..., description="None: unclassified")
    competitor: Ref | None
    detected_on: dt.date
    churned_on: dt.date | None = Field(..., description="when the spend fell or stopped; the rates count it then")
    baseline_amount: Money = Field(..., description="baseline monthly spend (yuan)")
    recent_amount: Money = Field(..., description="recent monthly spend (yuan)")
    amount_lost: Money = Field(..., description="amount lost a year (yuan)")
    evidence: dict
    note: str
    recorded_by: Ref | None
    recovered_on: dt.date | None


class EventPage(PageFields):
    items: list[EventOut]


class EventPatch(Input):
    """Only the fields sent change; a null reason makes the event unclassified again."""

    model_config = ConfigDict(extra="forbid")
    reason: Id | None = None
    competitor: Id | None = None
    note: str | None = Field(None, max_length=services.NOTE_MAX)


class MarkIn(Input):
    model_config = ConfigDict(extra="forbid")
    competitor: Id = Field(..., description="the competitor the business moved to")
    reason: Id | None = None
    on: IsoDate | None = Field(None, description="the day it moved; today when left out; not in the future")
    note: str = Field("", max_length=services.NOTE_MAX)


class RatesQuery(Input):
    start: YearMonth = Field(..., description="the first month, YYYY-MM")
    end: YearMonth = Field(..., description="the last month, YYYY-MM")
    by: Literal["month", "quarter"] = "month"
    definition: IdParam | None = None
    unit: IdParam | None = Field(None, description="one of your org units: its subtree")
    industry: IdParam | None = None


class RateOut(Schema):
    key: str
    label: str
    base: int = Field(..., description="accounts in the active base")
    base_revenue: Money = Field(..., description="their revenue in the 12 months before the period (yuan)")
    churned: int
    lost: Money = Field(..., description="amount lost a year of the counted events (yuan)")
    count_rate: float | None = Field(..., description="churned ÷ base")
    amount_rate: float | None = Field(..., description="lost ÷ base revenue")
    lost_share: float | None = Field(..., description="share of the range's amount lost (breakdowns)")


class RatesOut(Schema):
    start: dt.date
    end: dt.date
    by: str
    periods: list[RateOut]
    total: RateOut
    by_reason: list[RateOut]
    by_industry: list[RateOut]
    by_tier: list[RateOut]
    by_unit: list[RateOut]


class DefinitionOut(Schema):
    id: int
    code: str
    name: str
    rule: ChurnRule
    is_active: bool
    params: dict


class DefinitionPatch(Input):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=100)
    is_active: Flag | None = None
    params: dict[str, int] | None = Field(None, description="spend_drop: drop_percent 1–100, baseline_months and "
                                          "recent_months 1–36; no_revenue: days 1–3660; competitor: none")


# --- shapes ---------------------------------------------------------------------------------------


def _event(e: ChurnEvent) -> dict[str, Any]:
    d = e.definition
    return {"id": e.pk, "account": ref(e.account), "account_code": e.account.code,
            "definition": {"id": d.pk, "code": d.code, "name": d.name, "rule": d.rule},
            "reason": ref(e.reason), "competitor": ref(e.competitor), "detected_on": e.detected_on,
            "churned_on": e.churned_on,
            "baseline_amount": e.baseline_amount, "recent_amount": e.recent_amount, "amount_lost": e.amount_lost,
            "evidence": e.evidence or {}, "note": e.note, "recorded_by": ref(e.recorded_by),
            "recovered_on": e.recovered_on}


def _rate(r: Rate) -> dict[str, Any]:
    return {"key": str(r.key), "label": r.label, "base": r.base, "base_revenue": r.base_revenue, "churned": r.churned,
            "lost": r.lost, "count_rate": r.count_rate, "amount_rate": r.amount_rate, "lost_share": r.lost_share}


def _definition(d: ChurnDefinition) -> dict[str, Any]:
    return {"id": d.pk, "code": d.code, "name": d.name, "rule": d.rule, "is_active": d.is_active, "params": d.params}


def _get(request: HttpRequest, event_id: int) -> ChurnEvent:
    event = selectors.churn_event_get(user=request.user, pk=event_id)
    if event is None:
        raise Http404
    return event


def _caller(request: HttpRequest) -> User:
    """The authenticated caller: the API's authentication admits no anonymous request."""
    return cast(User, request.user)


# --- endpoints ------------------------------------------------------------------------------------


@router.get("/churn/events", response={200: EventPage, **LIST_ERRORS},
            summary="Churn events of the accounts you see, newest first")
def list_events(request: HttpRequest, query: Query[EventQuery]) -> dict[str, Any]:
    return page_of(selectors.churn_events(user=request.user, filters=query), query, _event)


@router.get("/churn/events/{event_id}", response={200: EventOut, **ERRORS}, summary="One churn event with its evidence")
def get_event(request: HttpRequest, event_id: IdParam) -> dict[str, Any]:
    return _event(_get(request, event_id))


@router.patch("/churn/events/{event_id}", response={200: EventOut, **ERRORS},
              summary="Set an event's reason, competitor and note")
def update_event(request: HttpRequest, event_id: IdParam, payload: EventPatch) -> dict[str, Any]:
    event = _get(request, event_id)
    services.churn_event_update(actor=_caller(request), event=event, **payload.model_dump(exclude_unset=True))
    return _event(_get(request, event_id))


@router.post("/accounts/{account_id}/churn", response={201: EventOut, **ERRORS},
             summary="Mark an account as moved to a competitor (owner, account team or a manager)")
def mark(request: HttpRequest, account_id: IdParam, payload: MarkIn) -> Status[dict[str, Any]]:
    event = services.churn_mark(actor=_caller(request), account=account_id, competitor=payload.competitor,
                                reason=payload.reason, note=payload.note, on=payload.on)
    return Status(201, _event(_get(request, event.pk)))


@router.get("/churn/rates", response={200: RatesOut, **LIST_ERRORS},
            summary="Churn rate by count and by amount per month or quarter, and the breakdowns of the range")
def rates(request: HttpRequest, query: Query[RatesQuery]) -> dict[str, Any]:
    first = dt.date(int(query.start[:4]), int(query.start[5:]), 1)
    last_month = dt.date(int(query.end[:4]), int(query.end[5:]), 1)
    if last_month < first:
        raise refused("end", _("The last month cannot come before the first."))
    if len(services.months_between(first, last_month)) > MAX_MONTHS:
        raise refused("end", _("At most %(n)d months at a time.") % {"n": MAX_MONTHS})
    last = services.month_start(last_month, -1) - dt.timedelta(days=1)
    unit = None
    if query.unit is not None:
        unit = next((u for u in user_units(request.user) if u.pk == query.unit), None)
        if unit is None:
            raise Http404
    result = churn_rates(user=request.user, start=first, end=last, by=query.by, unit=unit, industry=query.industry,
                         definitions=(query.definition,) if query.definition else ())
    b = result.breakdowns
    return {"start": result.start, "end": result.end, "by": result.by, "periods": [_rate(r) for r in result.periods],
            "total": _rate(b.total), "by_reason": [_rate(r) for r in b.reasons],
            "by_industry": [_rate(r) for r in b.industries], "by_tier": [_rate(r) for r in b.tiers],
            "by_unit": [_rate(r) for r in b.units]}


@router.get("/churn/definitions", response={200: list[DefinitionOut], **LIST_ERRORS},
            summary="What counts as churn: the definitions and their parameters")
def list_definitions(request: HttpRequest) -> list[dict[str, Any]]:
    return [_definition(d) for d in ChurnDefinition.objects.all()]


@router.patch("/churn/definitions/{definition_id}", response={200: DefinitionOut, **ERRORS},
              summary="Rename, switch on or off, or set the parameters of a definition (headquarters)")
def update_definition(request: HttpRequest, definition_id: IdParam, payload: DefinitionPatch) -> dict[str, Any]:
    current = ChurnDefinition.objects.filter(pk=definition_id).first()
    if current is None:
        raise Http404
    fields = payload.model_dump(exclude_unset=True)
    definition = services.churn_definition_update(
        actor=_caller(request), definition=current, name=fields.get("name") or current.name,
        is_active=current.is_active if fields.get("is_active") is None else fields["is_active"],
        params={**current.params, **(fields.get("params") or {})} if fields.get("params") is not None else current.params)
    return _definition(definition)
