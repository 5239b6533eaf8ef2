"""Activities and tasks over HTTP: the same services and scoping as the account page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, cast

from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from kam.accounts.selectors import account_get
from kam.activities import selectors, services
from kam.activities.filters import ActivityFilter, TaskFilter
from kam.activities.models import Activity, ActivityKind, Task
from kam.api.account_schemas import Id, IdParam, Input, Ref, errors, ref
from kam.api.paging import CursorQuery, PageFields, page_of
from kam.core.filters import IsoDate, IsoDateTime
from kam.core.models import User

router = Router(tags=["activities and tasks"])
LIST_ERRORS = errors()
ERRORS = errors(403, 404, 409)


Latitude = Annotated[Decimal, Field(ge=-90, le=90, max_digits=9, decimal_places=6)]
Longitude = Annotated[Decimal, Field(ge=-180, le=180, max_digits=9, decimal_places=6)]


class ActivityQuery(ActivityFilter, CursorQuery):
    """The activity list's filter (kam.activities.filters) and its page."""


class ContactRef(Schema):
    id: int
    name: str
    decision_role: str


class ActivityOut(Schema):
    id: int
    account: Ref
    kind: str
    occurred_at: dt.datetime
    participants: list[Ref]
    contacts: list[ContactRef]
    decision_maker_met: bool
    summary: str
    next_step: str
    next_step_due: dt.date | None
    location: str
    latitude: Decimal | None
    longitude: Decimal | None
    created_by: Ref
    created_at: dt.datetime


class ActivityPage(PageFields):
    items: list[ActivityOut]


class ActivityCreate(Input):
    """Our participants besides the caller, who is always one; the contacts met must be the
    account's. Whether a decision maker was met follows from the contacts' roles."""

    model_config = ConfigDict(extra="forbid")
    account: Id
    kind: ActivityKind
    occurred_at: IsoDateTime = Field(..., description="without an offset, Beijing time")
    summary: str = Field(..., min_length=1, max_length=10_000)
    participants: list[Id] = Field(default_factory=list, max_length=50)
    contacts: list[Id] = Field(default_factory=list, max_length=50)
    next_step: str = Field("", max_length=200)
    next_step_due: IsoDate | None = Field(None, description="with a next step, creates a task for the caller")
    location: str = Field("", max_length=200)
    latitude: Latitude | None = None
    longitude: Longitude | None = None


class TaskOut(Schema):
    id: int
    title: str
    due_on: dt.date
    status: str
    account: Ref | None
    source_kind: str
    source_id: int | None
    done_at: dt.datetime | None
    created_at: dt.datetime


class TaskPage(PageFields):
    items: list[TaskOut]


class TaskQuery(TaskFilter, CursorQuery):
    """The task list's filter (kam.activities.filters) and its page."""


def _activity(a: Activity) -> dict[str, Any]:
    return {
        "id": a.pk, "account": {"id": a.account_id, "name": a.account.name}, "kind": a.kind,
        "occurred_at": a.occurred_at, "participants": [ref(p) for p in a.participants.all()],
        "contacts": [{"id": c.pk, "name": c.name, "decision_role": c.decision_role} for c in a.contacts.all()],
        "decision_maker_met": a.decision_maker_met, "summary": a.summary, "next_step": a.next_step,
        "next_step_due": a.next_step_due, "location": a.location, "latitude": a.latitude, "longitude": a.longitude,
        "created_by": ref(a.created_by), "created_at": a.created_at,
    }


def _task(t: Task) -> dict[str, Any]:
    return {
        "id": t.pk, "title": t.title, "due_on": t.due_on, "status": t.status,
        "account": {"id": t.account_id, "name": t.account.name} if t.account is not None else None,
        "source_kind": t.source_kind, "source_id": t.source_id, "done_at": t.done_at, "created_at": t.created_at,
    }


@router.get("/activities", response={200: ActivityPage, **LIST_ERRORS}, summary="List activities")
def list_activities(request: HttpRequest, query: Query[ActivityQuery]) -> dict[str, Any]:
    return page_of(selectors.activity_list(user=request.user, filters=query), query, _activity)


@router.post("/activities", response={201: ActivityOut, **ERRORS}, summary="Log an activity")
def create_activity(request: HttpRequest, payload: ActivityCreate) -> Status:
    # The router's authentication lets only signed-in users through.
    account = account_get(user=cast(User, request.user), pk=payload.account)
    if account is None:
        raise Http404
    activity = services.activity_log(
        actor=request.user, account=account, kind=payload.kind, occurred_at=payload.occurred_at,
        summary=payload.summary, participants=payload.participants, contacts=payload.contacts,
        next_step=payload.next_step, next_step_due=payload.next_step_due, location=payload.location,
        latitude=payload.latitude, longitude=payload.longitude,
    )
    shown = selectors.activity_get(user=request.user, pk=activity.pk)
    if shown is None:
        raise Http404
    return Status(201, _activity(shown))


@router.get("/activities/{activity_id}", response={200: ActivityOut, **ERRORS}, summary="One activity")
def get_activity(request: HttpRequest, activity_id: IdParam) -> dict[str, Any]:
    activity = selectors.activity_get(user=request.user, pk=activity_id)
    if activity is None:
        raise Http404
    return _activity(activity)


@router.get("/tasks", response={200: TaskPage, **LIST_ERRORS}, summary="My tasks")
def list_tasks(request: HttpRequest, query: Query[TaskQuery]) -> dict[str, Any]:
    return page_of(selectors.my_tasks(user=request.user, status=query.status), query, _task)


@router.post("/tasks/{task_id}/complete", response={200: TaskOut, **ERRORS}, summary="Mark a task done")
def complete_task(request: HttpRequest, task_id: IdParam) -> dict[str, Any]:
    task = selectors.task_get(user=request.user, pk=task_id)
    if task is None:
        raise Http404
    services.task_complete(actor=request.user, task=task)
    done = selectors.task_get(user=request.user, pk=task_id)
    if done is None:
        raise Http404
    return _task(done)
