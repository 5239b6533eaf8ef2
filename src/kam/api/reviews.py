"""Deal reviews over HTTP: the same services, order and scoping as the review pages."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import Http404
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from kam.activities.models import Task
from kam.api.account_schemas import (
    Id,
    IdParam,
    Input,
    Money,
    Ref,
    errors,
    ref,
)
from kam.api.paging import CursorQuery, PageFields, page_of
from kam.api.requests import AuthedRequest
from kam.core.models import User
from kam.sales.models import DealReview, Opportunity
from kam.sales.reviews import selectors, services
from kam.sales.reviews.filters import ReviewFilter

router = Router(tags=["deal reviews"])
LIST_ERRORS = errors()
ERRORS = errors(403, 404, 409)
Text = Field(..., min_length=1, max_length=10_000)


class ReviewQuery(ReviewFilter, CursorQuery):
    """The deal review list's filter (kam.sales.reviews.filters) and its page."""


class Opinion(Schema):
    text: str
    by: Ref | None
    at: dt.datetime | None


class FollowUpOut(Schema):
    id: int
    title: str
    owner: Ref
    due_on: dt.date
    status: str
    done_at: dt.datetime | None


class ReviewOut(Schema):
    id: int
    opportunity: Ref
    account: Ref
    meeting: Ref | None
    status: str
    brief: str
    core_needs: str
    project: str
    amount: Money
    main_problems: str
    proposed_strategy: str
    submitted_by: Ref
    submitted_at: dt.datetime
    manager: Opinion
    director: Opinion
    decision: Opinion
    escalated_at: dt.datetime | None
    escalation: Opinion = Field(..., description="who sent it to the senior review and why (empty: automatic)")
    follow_ups: list[FollowUpOut] | None = Field(None, description="in the single-review answer only")


class ReviewPage(PageFields):
    items: list[ReviewOut]


class ReviewCreate(Input):
    """The tracking sheet; project and amount default to the opportunity's."""

    model_config = ConfigDict(extra="forbid")
    opportunity: Id
    brief: str = Text
    core_needs: str = Text
    main_problems: str = Text
    proposed_strategy: str = Text
    project: str | None = Field(None, max_length=200)
    amount: Money | None = Field(None, ge=0)


class RecommendIn(Input):
    """The manager's recommendation, or the director's after it: the caller's role says which."""

    model_config = ConfigDict(extra="forbid")
    recommendation: str = Text


class SeniorIn(Input):
    model_config = ConfigDict(extra="forbid")
    reason: str = Text


class DecideIn(Input):
    model_config = ConfigDict(extra="forbid")
    decision: str = Text
    follow_ups: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, max_length=20,
                                  description="one task per entry for the opportunity's owner; "
                                              "none: one task to follow up the decision")


def _opinion(text: str, by: User | None, at: dt.datetime | None) -> dict[str, Any]:
    return {"text": text, "by": ref(by) if by is not None else None, "at": at}


def _review(r: DealReview, follow_ups: list[Task] | None = None) -> dict[str, Any]:
    account = r.opportunity.account
    body = {
        "id": r.pk, "opportunity": {"id": r.opportunity_id, "name": r.opportunity.name},
        "account": {"id": account.pk, "name": account.name},
        "meeting": {"id": r.meeting_id, "name": str(r.meeting)} if r.meeting_id else None,
        "status": r.status, "brief": r.brief, "core_needs": r.core_needs, "project": r.project,
        "amount": r.amount, "main_problems": r.main_problems, "proposed_strategy": r.proposed_strategy,
        "submitted_by": ref(r.submitted_by), "submitted_at": r.submitted_at,
        "manager": _opinion(r.manager_recommendation, r.manager, r.manager_at),
        "director": _opinion(r.director_recommendation, r.director, r.director_at),
        "decision": _opinion(r.decision, r.decided_by, r.decided_at),
        "escalated_at": r.escalated_at,
        "escalation": _opinion(r.escalation_reason, r.escalated_by, r.escalated_at if r.escalated_by_id else None),
    }
    if follow_ups is not None:
        body["follow_ups"] = [{"id": t.pk, "title": t.title, "owner": ref(t.owner), "due_on": t.due_on,
                               "status": t.status, "done_at": t.done_at} for t in follow_ups]
    return body


def _one(request: AuthedRequest, review_id: int) -> dict[str, Any]:
    review = selectors.review_get(user=request.user, pk=review_id)
    if review is None:
        raise Http404
    return _review(review, selectors.review_follow_ups(review))


def _found(request: AuthedRequest, review_id: int) -> DealReview:
    review = selectors.review_get(user=request.user, pk=review_id)
    if review is None:
        raise Http404
    return review


@router.get("/reviews", response={200: ReviewPage, **LIST_ERRORS}, summary="List deal reviews")
def list_reviews(request: AuthedRequest, query: Query[ReviewQuery]) -> dict[str, Any]:
    qs = selectors.review_list(user=request.user, filters=query).select_related("manager", "director", "decided_by", "escalated_by")
    return page_of(qs, query, _review)


@router.post("/reviews", response={201: ReviewOut, **ERRORS}, summary="Submit an opportunity for review")
def submit_review(request: AuthedRequest, payload: ReviewCreate) -> Status:
    opportunity = Opportunity.objects.visible_to(request.user).filter(pk=payload.opportunity).first()
    if opportunity is None:
        raise Http404
    review = services.review_submit(
        actor=request.user, opportunity=opportunity, brief=payload.brief, core_needs=payload.core_needs,
        main_problems=payload.main_problems, proposed_strategy=payload.proposed_strategy,
        project=payload.project, amount=payload.amount,
    )
    return Status(201, _one(request, review.pk))


@router.get("/reviews/{review_id}", response={200: ReviewOut, **ERRORS}, summary="One deal review")
def get_review(request: AuthedRequest, review_id: IdParam) -> dict[str, Any]:
    return _one(request, review_id)


@router.post("/reviews/{review_id}/recommend", response={200: ReviewOut, **ERRORS},
             summary="Recommend: the manager first, then the director")
def recommend_review(request: AuthedRequest, review_id: IdParam, payload: RecommendIn) -> dict[str, Any]:
    services.review_recommend(actor=request.user, review=_found(request, review_id),
                             recommendation=payload.recommendation)
    return _one(request, review_id)


@router.post("/reviews/{review_id}/decide", response={200: ReviewOut, **ERRORS},
             summary="The general manager's decision, after both recommendations")
def decide_review(request: AuthedRequest, review_id: IdParam, payload: DecideIn) -> dict[str, Any]:
    services.review_decide(actor=request.user, review=_found(request, review_id), decision=payload.decision,
                          follow_ups=payload.follow_ups)
    return _one(request, review_id)


@router.post("/reviews/{review_id}/senior", response={200: ReviewOut, **ERRORS},
             summary="The general manager sends an item of at least the senior amount to a senior review")
def send_review_to_senior(request: AuthedRequest, review_id: IdParam, payload: SeniorIn) -> dict[str, Any]:
    services.review_send_to_senior(actor=request.user, review=_found(request, review_id), reason=payload.reason)
    return _one(request, review_id)


@router.post("/reviews/{review_id}/withdraw", response={200: ReviewOut, **ERRORS}, summary="Withdraw a review")
def withdraw_review(request: AuthedRequest, review_id: IdParam) -> dict[str, Any]:
    services.review_withdraw(actor=request.user, review=_found(request, review_id))
    return _one(request, review_id)
