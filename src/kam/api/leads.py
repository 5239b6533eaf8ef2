"""Leads (线索) over HTTP: the list with the page's filters and the SLA clock, one lead with
its follow-ups, creating (assigned by the rules), following up, assigning, qualifying into an
opportunity or a nurtured prospect, disqualifying. The same services and scoping as the pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import Http404
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from kam.api.account_schemas import (
    ErrorOut,
    Flag,
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
from kam.core.filters import IsoDate, IsoDateTime
from kam.sales.leads import selectors, services
from kam.sales.leads.filters import LeadFilter
from kam.sales.models import Lead

router = Router(tags=["leads"])
LIST_ERRORS = errors()
ERRORS = errors(403, 404, 409)


class LeadQuery(LeadFilter, CursorQuery):
    """The lead list's filter (kam.sales.leads.filters) and its page."""


class LeadItem(Schema):
    id: int
    source: Ref
    company: str
    uscc: str
    contact_name: str
    contact_title: str
    phone: str
    email: str
    need: str
    estimated_amount: Decimal | None
    region: Ref | None
    industry: Ref | None
    status: str
    unit: Ref | None
    assignee: Ref | None
    assigned_at: dt.datetime | None
    follow_up_due_at: dt.datetime | None
    followed_up_at: dt.datetime | None
    overdue: bool = Field(..., description="open, not followed up, past the deadline")
    escalated_at: dt.datetime | None
    escalated_to: Ref | None
    reassignments: int
    account: Ref | None
    opportunity: Ref | None
    closed_at: dt.datetime | None
    close_note: str
    created_at: dt.datetime


class LeadFollowUpOut(Schema):
    id: int
    at: dt.datetime
    by: Ref
    note: str
    plan: str


class LeadDetail(LeadItem):
    follow_ups: list[LeadFollowUpOut]


class LeadPage(PageFields):
    items: list[LeadItem]


class LeadCreate(Input):
    """Assignment, the clock and the outcome are never client-writable: without `assignee`
    the first matching assignment rule decides."""

    model_config = ConfigDict(extra="forbid")
    source: Id
    company: Annotated[Name, Field(min_length=1, max_length=200)]
    uscc: str = Field("", max_length=18)
    contact_name: Name = Field("", max_length=50)
    contact_title: str = Field("", max_length=100)
    phone: str = Field("", max_length=30)
    email: str = Field("", max_length=254)
    need: str = Field("", max_length=10_000)
    estimated_amount: Money | None = None
    region: Id | None = None
    industry: Id | None = None
    assignee: Id | None = Field(None, description="yourself, or a person of the units you manage")


class FollowUpCreate(Input):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(..., min_length=1, max_length=10_000)
    plan: str = Field("", max_length=300)
    at: IsoDateTime | None = Field(None, description="when it happened; now if left out")


class LeadAssignIn(Input):
    model_config = ConfigDict(extra="forbid")
    assignee: Id


class DisqualifyIn(Input):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(..., min_length=1, max_length=500)


class QualifyIn(Input):
    """`account`: an account you see. Without it a new account is created from the lead —
    unless accounts that may be the company exist: then 409 lists them as `candidates`;
    send one as `account`, or `confirm_new_account: true`."""

    model_config = ConfigDict(extra="forbid")
    outcome: Literal["opportunity", "nurture"]
    account: Id | None = None
    confirm_new_account: Flag = False
    opportunity_name: Name = Field("", max_length=200, description="the project; the company's name if left out")
    amount: Money | None = Field(None, description="intended amount; the lead's estimate if left out")
    expected_close: IsoDate | None = Field(None, description="required for an opportunity")
    note: str = Field("", max_length=500)


class Candidate(Schema):
    id: int
    code: str
    name: str
    owner: str
    unit: str


class QualifyConflict(ErrorOut):
    candidates: list[Candidate] = []
    similar: list[Candidate] = []


def _lead(lead: Lead, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": lead.pk, "source": ref(lead.source), "company": lead.company, "uscc": lead.uscc,
        "contact_name": lead.contact_name, "contact_title": lead.contact_title, "phone": lead.phone,
        "email": lead.email, "need": lead.need, "estimated_amount": lead.estimated_amount,
        "region": ref(lead.region), "industry": ref(lead.industry), "status": lead.status, "unit": ref(lead.unit),
        "assignee": ref(lead.assignee), "assigned_at": lead.assigned_at, "follow_up_due_at": lead.follow_up_due_at,
        "followed_up_at": lead.followed_up_at,
        "overdue": bool(lead.is_open and lead.followed_up_at is None and lead.follow_up_due_at
                        and lead.follow_up_due_at <= now),
        "escalated_at": lead.escalated_at, "escalated_to": ref(lead.escalated_to),
        "reassignments": lead.reassignments, "account": ref(lead.account),
        "opportunity": ref(lead.opportunity), "closed_at": lead.closed_at, "close_note": lead.close_note,
        "created_at": lead.created_at,
    }


def _detail(request: AuthedRequest, pk: int) -> dict[str, Any]:
    lead = selectors.lead_get(user=request.user, pk=pk)
    if lead is None:
        raise Http404
    body = _lead(lead, timezone.now())
    body["follow_ups"] = [
        {"id": f.pk, "at": f.at, "by": ref(f.by), "note": f.note, "plan": f.plan}
        for f in selectors.lead_follow_ups(lead=lead)
    ]
    return body


def _visible(request: AuthedRequest, pk: int) -> Lead:
    lead = selectors.lead_get(user=request.user, pk=pk)
    if lead is None:
        raise Http404
    return lead


@router.get("/leads", response={200: LeadPage, **LIST_ERRORS}, summary="List leads")
def list_leads(request: AuthedRequest, query: Query[LeadQuery]) -> dict[str, Any]:
    now = timezone.now()
    qs = selectors.lead_list(user=request.user, filters=query, now=now).select_related(
        "region", "industry", "account", "opportunity")
    return page_of(qs, query, lambda lead: _lead(lead, now))


@router.post("/leads", response={201: LeadDetail, **ERRORS}, summary="Create a lead (assigned by the rules)")
def create_lead(request: AuthedRequest, payload: LeadCreate) -> Status:
    data = payload.model_dump(exclude={"assignee"})
    lead = services.lead_create(actor=request.user, data=data, assignee=payload.assignee)
    if selectors.lead_get(user=request.user, pk=lead.pk) is None:
        # The rules gave it to someone outside what the author sees: say where it went, no more.
        return Status(201, {**_lead(lead, timezone.now()), "follow_ups": []})
    return Status(201, _detail(request, lead.pk))


@router.get("/leads/{lead_id}", response={200: LeadDetail, **ERRORS}, summary="One lead with its follow-ups")
def get_lead(request: AuthedRequest, lead_id: IdParam) -> dict[str, Any]:
    return _detail(request, lead_id)


@router.post("/leads/{lead_id}/follow-ups", response={201: LeadDetail, **ERRORS},
             summary="Record a follow-up (the first stops the SLA clock)")
def follow_up_lead(request: AuthedRequest, lead_id: IdParam, payload: FollowUpCreate) -> Status:
    lead = _visible(request, lead_id)
    services.lead_follow_up(actor=request.user, lead=lead, note=payload.note, plan=payload.plan, at=payload.at)
    return Status(201, _detail(request, lead_id))


@router.post("/leads/{lead_id}/assign", response={200: LeadDetail, **ERRORS}, summary="Assign a lead by hand")
def assign_lead(request: AuthedRequest, lead_id: IdParam, payload: LeadAssignIn) -> dict[str, Any]:
    lead = _visible(request, lead_id)
    services.lead_assign(actor=request.user, lead=lead, assignee=payload.assignee)
    return _detail(request, lead_id)


@router.post("/leads/{lead_id}/qualify", response={200: LeadDetail, **errors(403, 404),
                                                   409: QualifyConflict},
             summary="Qualify a lead into an opportunity or a nurtured prospect")
def qualify_lead(request: AuthedRequest, lead_id: IdParam, payload: QualifyIn) -> dict[str, Any]:
    lead = _visible(request, lead_id)
    services.lead_qualify(
        actor=request.user, lead=lead, outcome=payload.outcome, account=payload.account,
        confirm_new_account=payload.confirm_new_account, opportunity_name=payload.opportunity_name,
        amount=payload.amount, expected_close=payload.expected_close, note=payload.note,
    )
    return _detail(request, lead_id)


@router.post("/leads/{lead_id}/disqualify", response={200: LeadDetail, **ERRORS}, summary="Disqualify a lead")
def disqualify_lead(request: AuthedRequest, lead_id: IdParam, payload: DisqualifyIn) -> dict[str, Any]:
    lead = _visible(request, lead_id)
    services.lead_disqualify(actor=request.user, lead=lead, note=payload.note)
    return _detail(request, lead_id)
