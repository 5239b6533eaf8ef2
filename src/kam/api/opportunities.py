"""Opportunities (项目) over HTTP: the list with the board's filters and totals, one project
with its buying centre, competitors and stage history, moving, closing and editing with the
version read. The same services and scoping as the pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from kam.accounts.models import Contact
from kam.accounts.selectors import account_get
from kam.api.account_schemas import (
    Count,
    Id,
    IdParam,
    Input,
    Money,
    Name,
    Ref,
    errors,
    ref,
)
from kam.api.paging import CursorQuery, PageFields, page_of
from kam.api.requests import AuthedRequest
from kam.api.versions import if_match
from kam.core.errors import ValidationFailed
from kam.core.filters import IsoDate
from kam.core.models import User
from kam.sales.models import (
    BuyingCentreMember,
    BuyingRole,
    Competitor,
    Opportunity,
    OutcomeReason,
    Rival,
    RivalStatus,
    Stage,
)
from kam.sales.opportunities import selectors, services
from kam.sales.opportunities.filters import OpportunityFilter
from kam.sales.opportunities.stages import stage_probabilities, weighted

router = Router(tags=["opportunities"])
LIST_ERRORS = errors()
# 412: the version sent (If-Match or `version`) is no longer current; nothing changed.
ERRORS = errors(403, 404, 409, 412)

OpenStage = Literal["contact", "design", "review", "tender"]


class OpportunityQuery(OpportunityFilter):
    """The opportunity list's filter (kam.sales.opportunities.filters)."""


class OpportunityListQuery(OpportunityFilter, CursorQuery):
    """The opportunity list's filter and its page."""


class OpportunityItem(Schema):
    id: int
    account: Ref
    name: str
    stage: str
    probability: Decimal = Field(..., description="of the stage, as a fraction")
    amount: Decimal
    weighted_amount: Decimal
    our_quote: Decimal | None
    expected_close: dt.date
    owner: Ref
    stage_entered_at: dt.datetime
    closed_on: dt.date | None
    outcome_reason: Ref | None
    outcome_note: str
    version: int
    created_at: dt.datetime


class OpportunityPage(PageFields):
    items: list[OpportunityItem]


class MemberOut(Schema):
    id: int
    contact: Ref
    role: str
    note: str


class RivalOut(Schema):
    id: int
    competitor: Ref
    product: str
    quote: Decimal | None
    status: str
    note: str


class StageChangeOut(Schema):
    from_stage: str
    to_stage: str
    at: dt.datetime
    by: Ref
    days: int = Field(..., description="days spent in to_stage (until now for the current stage)")


class OpportunityDetail(OpportunityItem):
    description: str
    buying_centre: list[MemberOut]
    rivals: list[RivalOut]
    stage_history: list[StageChangeOut]


class StageTotalOut(Schema):
    stage: str
    label: str
    probability: Decimal
    count: int
    amount: Decimal
    weighted_amount: Decimal


class PipelineOut(Schema):
    stages: list[StageTotalOut]
    open_count: int
    open_amount: Decimal
    weighted_pipeline: Decimal


class OpportunityCreate(Input):
    model_config = ConfigDict(extra="forbid")
    account: Id
    name: Annotated[Name, Field(min_length=1, max_length=200)]
    amount: Money
    expected_close: IsoDate
    stage: OpenStage = "contact"
    owner: Id | None = Field(None, description="yourself unless someone in the units you manage")
    our_quote: Money | None = None
    description: str = Field("", max_length=10_000)


class OpportunityPatch(Input):
    """Only the fields sent change; the stage moves through /move, /close and /reopen."""

    model_config = ConfigDict(extra="forbid")
    version: Count | None = Field(None, description="The version read (or If-Match); required; a stale one gives 412.")
    name: Annotated[Name, Field(min_length=1, max_length=200)] | None = None
    amount: Money | None = None
    our_quote: Money | None = None
    expected_close: IsoDate | None = None
    description: str | None = Field(None, max_length=10_000)
    owner: Id | None = None


class MoveIn(Input):
    model_config = ConfigDict(extra="forbid")
    stage: Stage
    version: Count | None = Field(None, description="The version read (or If-Match); a stale one gives 412.")


class CloseIn(Input):
    model_config = ConfigDict(extra="forbid")
    outcome: Literal["won", "lost"]
    reason: Id | None = Field(None, description="a win/loss reason id (required; see /opportunity-reasons)")
    note: str = Field("", max_length=10_000, description="what decided it (required)")
    our_quote: Money | None = None
    closed_on: IsoDate | None = None
    version: Count | None = Field(None, description="The version read (or If-Match); a stale one gives 412.")


class ReopenIn(Input):
    model_config = ConfigDict(extra="forbid")
    stage: OpenStage = "tender"


class MemberIn(Input):
    model_config = ConfigDict(extra="forbid")
    contact: Id
    role: BuyingRole
    note: str = Field("", max_length=200)


class RivalIn(Input):
    model_config = ConfigDict(extra="forbid")
    competitor: Id
    product: str = Field("", max_length=200)
    quote: Money | None = None
    status: RivalStatus = RivalStatus.ACTIVE
    note: str = Field("", max_length=300)


class RivalPatch(Input):
    model_config = ConfigDict(extra="forbid")
    product: str | None = Field(None, max_length=200)
    quote: Money | None = None
    status: RivalStatus | None = None
    note: str | None = Field(None, max_length=300)


class ReasonOut(Schema):
    id: int
    code: str
    name: str
    applies_to: str


class CompetitorOut(Schema):
    id: int
    code: str
    name: str


# --- shapes ---------------------------------------------------------------------------------------


def _item(o: Opportunity, probabilities: dict[str, Decimal]) -> dict[str, Any]:
    return {
        "id": o.pk, "account": {"id": o.account_id, "name": o.account.name}, "name": o.name, "stage": o.stage,
        "probability": probabilities[o.stage], "amount": o.amount,
        "weighted_amount": weighted(o.amount, o.stage, probabilities), "our_quote": o.our_quote,
        "expected_close": o.expected_close, "owner": ref(o.owner), "stage_entered_at": o.stage_entered_at,
        "closed_on": o.closed_on, "outcome_reason": ref(o.outcome_reason), "outcome_note": o.outcome_note,
        "version": o.version, "created_at": o.created_at,
    }


def _member(m: BuyingCentreMember) -> dict[str, Any]:
    return {"id": m.pk, "contact": {"id": m.contact_id, "name": m.contact.name}, "role": m.role, "note": m.note}


def _rival(r: Rival) -> dict[str, Any]:
    return {"id": r.pk, "competitor": ref(r.competitor), "product": r.product, "quote": r.quote,
            "status": r.status, "note": r.note}


def _detail(o: Opportunity) -> dict[str, Any]:
    body = _item(o, stage_probabilities())
    body["description"] = o.description
    body["buying_centre"] = [_member(m) for m in o.buying_centre.select_related("contact").order_by("role", "id")]
    body["rivals"] = [_rival(r) for r in o.rivals.select_related("competitor").order_by("id")]
    body["stage_history"] = [{"from_stage": s.from_stage, "to_stage": s.stage, "at": s.entered_at, "by": ref(s.by),
                              "days": s.days} for s in selectors.stage_history(o)]
    return body


def _get(request: AuthedRequest, opportunity_id: int) -> Opportunity:
    opportunity = selectors.opportunity_get(user=request.user, pk=opportunity_id)
    if opportunity is None:
        raise Http404
    return opportunity


def _owner(pk: int | None) -> User | None:
    if pk is None:
        return None
    owner = User.objects.filter(pk=pk).first()
    if owner is None:
        raise ValidationFailed(_("Please correct the errors below."), errors={"owner": [_("No such user.")]})
    return owner


# --- endpoints ----------------------------------------------------------------------------------------


@router.get("/opportunities", response={200: OpportunityPage, **LIST_ERRORS}, summary="List opportunities")
def list_opportunities(request: AuthedRequest, query: Query[OpportunityListQuery]) -> dict[str, Any]:
    qs = selectors.opportunity_list(user=request.user, filters=query)
    probabilities = stage_probabilities()
    return page_of(qs, query, lambda o: _item(o, probabilities))


@router.get("/opportunities/pipeline", response={200: PipelineOut, **LIST_ERRORS},
            summary="Count, amount and weighted amount per stage")
def pipeline(request: AuthedRequest, query: Query[OpportunityQuery]) -> dict[str, Any]:
    totals = selectors.list_totals(user=request.user, filters=query,
                                   qs=selectors.opportunity_list(user=request.user, filters=query))
    return {
        "stages": [{"stage": s.stage, "label": s.label, "probability": s.probability, "count": s.count,
                    "amount": s.amount, "weighted_amount": s.weighted} for s in totals.stages],
        "open_count": totals.open_count, "open_amount": totals.open_amount, "weighted_pipeline": totals.weighted,
    }


@router.get("/opportunity-reasons", response={200: list[ReasonOut], **LIST_ERRORS}, summary="Win/loss reasons")
def list_reasons(request: AuthedRequest) -> list[Mapping[str, object]]:
    return list(OutcomeReason.objects.filter(is_active=True).values("id", "code", "name", "applies_to"))


@router.get("/competitors", response={200: list[CompetitorOut], **LIST_ERRORS}, summary="Competitors")
def list_competitors(request: AuthedRequest) -> list[Mapping[str, object]]:
    return list(Competitor.objects.filter(is_active=True).values("id", "code", "name"))


@router.post("/opportunities", response={201: OpportunityDetail, **ERRORS}, summary="Create an opportunity")
def create_opportunity(request: AuthedRequest, payload: OpportunityCreate) -> Status:
    account = account_get(user=request.user, pk=payload.account)
    if account is None:
        raise Http404
    opportunity = services.opportunity_create(
        actor=request.user, account=account, name=payload.name, amount=payload.amount,
        expected_close=payload.expected_close, stage=payload.stage, owner=_owner(payload.owner),
        our_quote=payload.our_quote, description=payload.description,
    )
    return Status(201, _detail(_get(request, opportunity.pk)))


@router.get("/opportunities/{opportunity_id}", response={200: OpportunityDetail, **ERRORS},
            summary="One opportunity with its buying centre, competitors and stage history")
def get_opportunity(request: AuthedRequest, opportunity_id: IdParam) -> dict[str, Any]:
    return _detail(_get(request, opportunity_id))


@router.patch("/opportunities/{opportunity_id}", response={200: OpportunityDetail, **ERRORS},
              summary="Change an opportunity's fields")
def update_opportunity(request: AuthedRequest, opportunity_id: IdParam, payload: OpportunityPatch) -> dict[str, Any]:
    opportunity = _get(request, opportunity_id)
    fields = payload.model_dump(exclude_unset=True)
    version = if_match(request, fields.pop("version", None), required=True)
    if "owner" in fields:
        fields["owner"] = _owner(fields["owner"])
    services.opportunity_update(actor=request.user, opportunity=opportunity, version=version, **fields)
    return _detail(_get(request, opportunity_id))


@router.delete("/opportunities/{opportunity_id}", response={204: None, **ERRORS},
               summary="Move an opportunity to the recycle bin")
def delete_opportunity(request: AuthedRequest, opportunity_id: IdParam) -> HttpResponse:
    services.opportunity_delete(actor=request.user, opportunity=_get(request, opportunity_id))
    return HttpResponse(status=204)


@router.post("/opportunities/{opportunity_id}/restore", response={200: OpportunityDetail, **ERRORS},
             summary="Restore an opportunity from the recycle bin")
def restore_opportunity(request: AuthedRequest, opportunity_id: IdParam) -> dict[str, Any]:
    opportunity = services.opportunity_restore(actor=request.user, opportunity_id=opportunity_id)
    return _detail(_get(request, opportunity.pk))


@router.post("/opportunities/{opportunity_id}/move", response={200: OpportunityDetail, **ERRORS},
             summary="Move to another open stage")
def move_opportunity(request: AuthedRequest, opportunity_id: IdParam, payload: MoveIn) -> dict[str, Any]:
    opportunity = _get(request, opportunity_id)
    services.opportunity_move(actor=request.user, opportunity=opportunity, stage=payload.stage,
                              version=if_match(request, payload.version))
    return _detail(_get(request, opportunity_id))


@router.post("/opportunities/{opportunity_id}/close", response={200: OpportunityDetail, **ERRORS},
             summary="Win or lose, with a reason and a note")
def close_opportunity(request: AuthedRequest, opportunity_id: IdParam, payload: CloseIn) -> dict[str, Any]:
    opportunity = _get(request, opportunity_id)
    reason = OutcomeReason.objects.filter(pk=payload.reason).first() if payload.reason else None
    services.opportunity_close(actor=request.user, opportunity=opportunity, outcome=payload.outcome, reason=reason,
                               note=payload.note, on=payload.closed_on, our_quote=payload.our_quote,
                               version=if_match(request, payload.version))
    return _detail(_get(request, opportunity_id))


@router.post("/opportunities/{opportunity_id}/reopen", response={200: OpportunityDetail, **ERRORS},
             summary="Reopen a won or lost opportunity")
def reopen_opportunity(request: AuthedRequest, opportunity_id: IdParam, payload: ReopenIn) -> dict[str, Any]:
    opportunity = _get(request, opportunity_id)
    services.opportunity_reopen(actor=request.user, opportunity=opportunity, stage=payload.stage)
    return _detail(_get(request, opportunity_id))


@router.get("/opportunities/{opportunity_id}/buying-centre", response={200: list[MemberOut], **ERRORS},
            summary="The buying centre")
def list_members(request: AuthedRequest, opportunity_id: IdParam) -> list[dict[str, Any]]:
    opportunity = _get(request, opportunity_id)
    return [_member(m) for m in opportunity.buying_centre.select_related("contact").order_by("role", "id")]


@router.post("/opportunities/{opportunity_id}/buying-centre", response={201: MemberOut, **ERRORS},
             summary="Name a contact of the account in the buying centre")
def add_member(request: AuthedRequest, opportunity_id: IdParam, payload: MemberIn) -> Status:
    opportunity = _get(request, opportunity_id)
    contact = Contact.objects.filter(pk=payload.contact).first()
    member = services.buying_centre_add(actor=request.user, opportunity=opportunity, contact=contact,
                                        role=payload.role, note=payload.note)
    return Status(201, _member(member))


@router.delete("/opportunities/{opportunity_id}/buying-centre/{member_id}", response={204: None, **ERRORS},
               summary="Remove from the buying centre")
def remove_member(request: AuthedRequest, opportunity_id: IdParam, member_id: IdParam) -> Status:
    opportunity = _get(request, opportunity_id)
    services.buying_centre_remove(actor=request.user, opportunity=opportunity, member_id=member_id)
    return Status(204, None)


@router.get("/opportunities/{opportunity_id}/rivals", response={200: list[RivalOut], **ERRORS},
            summary="Competitors on the deal")
def list_rivals(request: AuthedRequest, opportunity_id: IdParam) -> list[dict[str, Any]]:
    opportunity = _get(request, opportunity_id)
    return [_rival(r) for r in opportunity.rivals.select_related("competitor").order_by("id")]


@router.post("/opportunities/{opportunity_id}/rivals", response={201: RivalOut, **ERRORS},
             summary="Add a competitor to the deal")
def add_rival(request: AuthedRequest, opportunity_id: IdParam, payload: RivalIn) -> Status:
    opportunity = _get(request, opportunity_id)
    competitor = Competitor.objects.filter(pk=payload.competitor).first()
    rival = services.rival_add(actor=request.user, opportunity=opportunity, competitor=competitor,
                               product=payload.product, quote=payload.quote, status=payload.status,
                               note=payload.note)
    return Status(201, _rival(rival))


@router.patch("/opportunities/{opportunity_id}/rivals/{rival_id}", response={200: RivalOut, **ERRORS},
              summary="Change a competitor's product, quote, status or note")
def update_rival(request: AuthedRequest, opportunity_id: IdParam, rival_id: IdParam, payload: RivalPatch) -> dict[str, Any]:
    opportunity = _get(request, opportunity_id)
    rival = services.rival_update(actor=request.user, opportunity=opportunity, rival_id=rival_id,
                                  **payload.model_dump(exclude_unset=True))
    return _rival(rival)


@router.delete("/opportunities/{opportunity_id}/rivals/{rival_id}", response={204: None, **ERRORS},
               summary="Remove a competitor from the deal")
def remove_rival(request: AuthedRequest, opportunity_id: IdParam, rival_id: IdParam) -> Status:
    opportunity = _get(request, opportunity_id)
    services.rival_remove(actor=request.user, opportunity=opportunity, rival_id=rival_id)
    return Status(204, None)
