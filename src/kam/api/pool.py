"""The public pool (公海) over HTTP: the accounts in the caller's part of the pool with the
page's filters, the caller's claims against the limit, claiming, releasing and assigning one
account, and an account's pool history. The same services and scoping as the pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404
from ninja import Field, Query, Router, Schema
from pydantic import ConfigDict

from kam.accounts.models import Account
from kam.api.account_schemas import Id, IdParam, Input, Ref, errors, ref
from kam.api.paging import CursorQuery, PageFields, page_of
from kam.api.requests import AuthedRequest
from kam.sales.models import PoolEvent, PoolEventKind
from kam.sales.pool import policies, selectors, services
from kam.sales.pool.filters import PoolFilter

router = Router(tags=["pool"])
LIST_ERRORS = errors()
ERRORS = errors(403, 404, 409)


class PoolQuery(PoolFilter, CursorQuery):
    """The pool list's filter (kam.sales.pool.filters) and its page."""


class PoolItem(Schema):
    id: int
    code: str
    name: str
    unit: Ref
    industry: Ref | None
    region: Ref | None
    tier: str | None = Field(..., description="in the cadence scheme; None when not tiered")
    former_owner: Ref | None = Field(..., description="who held it before it came to the pool")
    pooled_at: dt.datetime | None
    days_in_pool: int | None
    idle_days: int | None = Field(..., description="days since the last follow-up, as of today")
    returned_idle_days: int | None = Field(..., description="days without follow-up when it returned by itself")
    limit_days: int | None = Field(..., description="the days its tier allowed when it returned by itself")


class PoolPage(PageFields):
    items: list[PoolItem]


class PoolLimitOut(Schema):
    held: int = Field(..., description="accounts you hold from the pool (claimed, not assigned)")
    limit: int = Field(..., description="the most you may hold from the pool at a time")
    may_claim: bool


class PoolEventOut(Schema):
    id: int
    kind: PoolEventKind
    at: dt.datetime
    user: Ref | None = Field(..., description="who did it; None for the nightly notices and returns")
    former_owner: Ref | None
    idle_days: int | None = Field(..., description="days without follow-up at the time (notices and returns)")
    limit_days: int | None = Field(..., description="the days the account's tier allowed (notices and returns)")
    note: str = Field(..., description="the reason of a release; the new owner of an assignment")


class PoolStateOut(Schema):
    """An account's place with regard to the pool after a claim, release or assignment."""

    id: int
    code: str
    name: str
    unit: Ref
    owner: Ref | None = Field(..., description="None while the account is in the pool")
    in_pool: bool
    pooled_at: dt.datetime | None
    version: int
    event: PoolEventOut = Field(..., description="the pool event the action wrote")


class ReleaseIn(Input):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(..., min_length=1, max_length=300, description="why the account goes to the pool")


class AssignIn(Input):
    model_config = ConfigDict(extra="forbid")
    owner: Id = Field(..., description="a specialist, manager or director of the units you manage")


# --- shapes ---------------------------------------------------------------------------------------


def _item(row: selectors.PoolRow) -> dict[str, Any]:
    a = row.account
    return {
        "id": a.pk, "code": a.code, "name": a.name, "unit": ref(a.unit), "industry": ref(a.industry),
        "region": ref(a.region), "tier": row.tier or None, "former_owner": ref(row.former_owner),
        "pooled_at": a.pooled_at, "days_in_pool": row.days_in_pool, "idle_days": row.idle_days,
        "returned_idle_days": row.returned_idle_days, "limit_days": row.limit_days,
    }


def _event(e: PoolEvent) -> dict[str, Any]:
    return {"id": e.pk, "kind": e.kind, "at": e.at, "user": ref(e.user), "former_owner": ref(e.former_owner),
            "idle_days": e.idle_days, "limit_days": e.limit_days, "note": e.note}


def _state(event: PoolEvent) -> dict[str, Any]:
    a = event.account
    return {"id": a.pk, "code": a.code, "name": a.name, "unit": ref(a.unit), "owner": ref(a.owner),
            "in_pool": a.owner_id is None, "pooled_at": a.pooled_at, "version": a.version, "event": _event(event)}


# --- endpoints ------------------------------------------------------------------------------------


@router.get("/pool", response={200: PoolPage, **LIST_ERRORS},
            summary="The accounts in your part of the public pool, longest there first")
def list_pool(request: AuthedRequest, query: Query[PoolQuery]) -> dict[str, Any]:
    qs = selectors.pool_accounts(request.user, query)
    return page_of(qs, query, _item, rows=selectors.pool_rows)


@router.get("/pool/limit", response={200: PoolLimitOut, **LIST_ERRORS},
            summary="How many accounts you hold from the pool, and the limit")
def pool_limit(request: AuthedRequest) -> dict[str, Any]:
    may_claim = policies.may_claim(request.user)
    return {"held": selectors.held_from_pool(request.user).count() if may_claim else 0,
            "limit": services.PoolRules.from_settings().claim_limit, "may_claim": may_claim}


@router.post("/pool/{account_id}/claim", response={200: PoolStateOut, **ERRORS},
             summary="Claim an account from the pool (409 when someone took it first, 422 beyond the limit)")
def claim(request: AuthedRequest, account_id: IdParam) -> dict[str, Any]:
    return _state(services.pool_claim(actor=request.user, account=account_id))


@router.post("/pool/{account_id}/release", response={200: PoolStateOut, **ERRORS},
             summary="Put an account you own or manage in the pool, saying why")
def release(request: AuthedRequest, account_id: IdParam, payload: ReleaseIn) -> dict[str, Any]:
    return _state(services.pool_release(actor=request.user, account=account_id, note=payload.note))


@router.post("/pool/{account_id}/assign", response={200: PoolStateOut, **ERRORS},
             summary="Hand a pool account to someone of the units you manage")
def assign(request: AuthedRequest, account_id: IdParam, payload: AssignIn) -> dict[str, Any]:
    return _state(services.pool_assign(actor=request.user, account=account_id, owner=payload.owner))


@router.get("/pool/{account_id}/events", response={200: list[PoolEventOut], **ERRORS},
            summary="An account's pool history: notices, returns, releases, claims and assignments")
def list_events(request: AuthedRequest, account_id: IdParam) -> list[dict[str, Any]]:
    account = Account.objects.alive().filter(pk=account_id).first()
    if account is None:
        raise Http404
    return [_event(e) for e in selectors.pool_events(user=request.user, account=account)]
