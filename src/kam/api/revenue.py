"""Revenue lines in, tiers out: the API of billing/ERP feeds and reporting tools."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Field, Router, Schema, Status

from kam.accounts.selectors import account_get
from kam.api.account_schemas import Flag, IdParam, Input, Money, errors
from kam.api.requests import AuthedRequest
from kam.core.filters import IsoDate
from kam.imports.engine import Action
from kam.revenue.services import revenue_lines_import
from kam.tiering.selectors import account_tiers as account_tiers_of

router = Router(tags=["revenue and tiering"])
ERRORS = errors(404)


class RevenueLineIn(Input):
    account: str = Field(..., min_length=1, max_length=32, description="account code or USCC")
    date: IsoDate | None = Field(None, description="YYYY-MM-DD")
    period: str | None = Field(None, pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM, when no date")
    amount: Money
    margin: Money | None = None
    cost: Money | None = Field(None, description="the margin is then amount − cost; give margin or cost")
    quantity: Money | None = None
    product: str = Field("", max_length=100)


class RevenueBatchIn(Input):
    lines: list[RevenueLineIn] = Field(..., min_length=1, max_length=10_000)
    create_accounts: Flag = False
    mode: Literal["all", "valid"] = "all"


class IssueOut(Schema):
    row: int
    column: str
    message: str
    severity: str


class RevenueBatchOut(Schema):
    created: int
    updated: int
    unchanged: int
    refused: int
    invalid: int
    issues: list[IssueOut]


@router.post("/revenue", response={200: RevenueBatchOut, **ERRORS}, summary="Import a batch of revenue lines")
def post_revenue(request: AuthedRequest, payload: RevenueBatchIn) -> Status:
    lines = [line.dict() for line in payload.lines]
    for line in lines:
        for name in ("amount", "margin", "quantity"):
            if line[name] is not None:
                line[name] = str(line[name])
    outcome = revenue_lines_import(actor=request.user, lines=lines, create_accounts=payload.create_accounts,
                                   all_or_nothing=payload.mode == "all")
    counts = outcome.counts
    return Status(200, {
        "created": counts[Action.CREATE], "updated": counts[Action.UPDATE], "unchanged": counts[Action.UNCHANGED],
        "refused": counts[Action.REFUSED], "invalid": counts[Action.INVALID],
        "issues": [{"row": i.row, "column": i.column, "message": i.message, "severity": str(i.severity)}
                   for i in outcome.issues],
    })


class AccountTierOut(Schema):
    scheme: str
    as_of: dt.date
    tier: str
    label: str
    why: str


@router.get("/accounts/{account_id}/tiers", response={200: list[AccountTierOut], **ERRORS},
            summary="An account's tier under each scheme, with the reason")
def account_tiers(request: AuthedRequest, account_id: IdParam) -> list[Any]:
    from django.http import Http404

    account = account_get(user=request.user, pk=account_id)
    if account is None:
        raise Http404
    found = [{"scheme": t.scheme.code, "as_of": t.snapshot.as_of, "tier": t.tier, "label": t.label, "why": t.why}
             for t in account_tiers_of(account=account)]
    return found
