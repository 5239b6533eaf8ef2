"""Accounts, contacts and account teams over HTTP: the same services and scoping as the UI."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.contrib.auth import get_user_model
from django.http import Http404, HttpResponse
from ninja import Field, Query, Router, Schema, Status

from kam.accounts import selectors, services
from kam.accounts.card.filters import AccountFilter
from kam.accounts.models import Account, Contact
from kam.accounts.recycle.filters import RecycleBinFilter
from kam.accounts.recycle.selectors import BinEntry
from kam.api.account_schemas import (
    AccountCreate,
    AccountDetail,
    AccountPage,
    AccountPatch,
    ContactCreate,
    ContactOut,
    ContactPatch,
    IdParam,
    Ref,
    TeamMemberIn,
    TeamMemberOut,
    errors,
    ref,
)
from kam.api.paging import CursorQuery, PageQuery, page_of
from kam.api.requests import AuthedRequest
from kam.api.versions import if_match
from kam.core.errors import ValidationFailed

router = Router(tags=["accounts"])
User = get_user_model()
# Every answer an operation can give is in the OpenAPI document, errors included.
LIST_ERRORS = errors()
ERRORS = errors(404, 409, 412)


class AccountQuery(AccountFilter, CursorQuery):
    """The account list's filter (kam.accounts.card.filters) and its page."""


_ref = ref


def _account_or_404(request: AuthedRequest, account_id: int) -> Account:
    account = selectors.account_get(user=request.user, pk=account_id)
    if account is None:
        raise Http404
    return account


def _detail(request: AuthedRequest, account: Account) -> Account:
    chain = selectors.account_decision_chain(user=request.user, account=account)
    team = account.team_members.select_related("user").order_by("id")
    # AccountDetail reads these two beside the model's fields.
    account.team = [{"id": m.pk, "user": _ref(m.user), "team_role": m.team_role} for m in team]  # type: ignore[attr-defined]
    account.decision_chain = {  # type: ignore[attr-defined]
        "active_contacts": chain.active_count,
        "has_decision_maker": chain.has_decision_maker,
        "single_threaded": chain.single_threaded,
        "departed_without_successor": [c.pk for c in chain.departed_without_successor],
    }
    return account



def _item(a: Account) -> dict[str, Any]:
    return {
        "id": a.pk, "code": a.code, "name": a.name, "short_name": a.short_name, "uscc": a.uscc,
        "industry": _ref(a.industry), "region": _ref(a.region), "owner": _ref(a.owner), "unit": _ref(a.unit),
        "channel": a.channel, "lifecycle_status": a.lifecycle_status, "updated_at": a.updated_at,
    }


@router.get("/accounts", response={200: AccountPage, **LIST_ERRORS}, summary="List and search accounts")
def list_accounts(request: AuthedRequest, query: Query[AccountQuery]) -> dict[str, Any]:
    return page_of(selectors.account_list(user=request.user, filters=query), query, _item,
                   count=lambda: selectors.account_count(user=request.user, filters=query))


@router.post("/accounts", response={201: AccountDetail, **ERRORS}, summary="Create an account")
def create_account(request: AuthedRequest, payload: AccountCreate) -> Status:
    data = payload.dict(exclude_unset=True)
    confirm = data.pop("confirm_similar", False)
    data.pop("version", None)
    data.pop("lifecycle_reason", None)  # a new account starts in the state it is given
    account = services.account_create(actor=request.user, data=data, confirm_similar=confirm)
    return Status(201, _detail(request, _account_or_404(request, account.pk)))


@router.get("/accounts/{account_id}", response={200: AccountDetail, **ERRORS}, summary="One account")
def get_account(request: AuthedRequest, account_id: IdParam) -> Account:
    return _detail(request, _account_or_404(request, account_id))


@router.patch("/accounts/{account_id}", response={200: AccountDetail, **ERRORS}, summary="Change an account")
def patch_account(request: AuthedRequest, account_id: IdParam, payload: AccountPatch) -> Account:
    account = _account_or_404(request, account_id)
    data = payload.dict(exclude_unset=True)
    version = if_match(request, data.pop("version", None))
    reason = data.pop("lifecycle_reason", None) or ""
    services.account_update(actor=request.user, account=account, data=data, version=version, reason=reason)
    return _detail(request, _account_or_404(request, account_id))


@router.delete("/accounts/{account_id}", response={204: None, **ERRORS}, summary="Move an account to the recycle bin")
def delete_account(request: AuthedRequest, account_id: IdParam) -> HttpResponse:
    services.account_delete(actor=request.user, account=_account_or_404(request, account_id))
    return HttpResponse(status=204)


@router.get("/accounts/{account_id}/contacts", response={200: list[ContactOut], **ERRORS}, summary="Contacts of an account")
def list_contacts(request: AuthedRequest, account_id: IdParam) -> list[Contact]:
    account = _account_or_404(request, account_id)
    return list(selectors.account_contacts(user=request.user, account=account))


@router.post("/accounts/{account_id}/contacts", response={201: ContactOut, **ERRORS}, summary="Add a contact")
def create_contact(request: AuthedRequest, account_id: IdParam, payload: ContactCreate) -> Status:
    account = _account_or_404(request, account_id)
    data = payload.dict(exclude_unset=True)
    data.pop("version", None)
    return Status(201, services.contact_create(actor=request.user, account=account, data=data))


def _contact_or_404(request: AuthedRequest, contact_id: int) -> Contact:
    contact = selectors.contact_get(user=request.user, pk=contact_id)
    if contact is None:
        raise Http404
    return contact


@router.get("/contacts/{contact_id}", response={200: ContactOut, **ERRORS}, summary="One contact")
def get_contact(request: AuthedRequest, contact_id: IdParam) -> Contact:
    return _contact_or_404(request, contact_id)


@router.patch("/contacts/{contact_id}", response={200: ContactOut, **ERRORS}, summary="Change a contact")
def patch_contact(request: AuthedRequest, contact_id: IdParam, payload: ContactPatch) -> Contact:
    contact = _contact_or_404(request, contact_id)
    data = payload.dict(exclude_unset=True)
    version = if_match(request, data.pop("version", None))
    return services.contact_update(actor=request.user, contact=contact, data=data, version=version)


@router.delete("/contacts/{contact_id}", response={204: None, **ERRORS}, summary="Move a contact to the recycle bin")
def delete_contact(request: AuthedRequest, contact_id: IdParam) -> HttpResponse:
    services.contact_delete(actor=request.user, contact=_contact_or_404(request, contact_id))
    return HttpResponse(status=204)


# --- the recycle bin --------------------------------------------------------------------------


class BinQuery(RecycleBinFilter, PageQuery):
    """The recycle bin's filter (kam.accounts.recycle.filters) and its page."""


class BinEntryOut(Schema):
    kind: Literal["account", "contact", "opportunity"]
    id: int
    name: str
    account: Ref = Field(description="The account itself, or the account of the contact or opportunity.")
    account_code: str
    owner: Ref | None = Field(None, description="The account's owner; none while it is in the public pool.")
    unit: Ref
    deleted_by: Ref | None
    deleted_at: dt.datetime
    days_left: int = Field(description="Whole days until it is removed for good (RECYCLE_BIN_DAYS).")
    contacts: int = Field(0, description="For an account: the contacts that went into the bin with it.")
    opportunities: int = Field(0, description="For an account: the opportunities that went into the bin with it.")


class BinPage(Schema):
    items: list[BinEntryOut]
    count: int
    page: int
    page_size: int


@router.get("/recycle-bin", response={200: BinPage, **LIST_ERRORS},
            summary="Deleted accounts, contacts and opportunities that can still be restored")
def list_recycle_bin(request: AuthedRequest, query: Query[BinQuery]) -> dict[str, Any]:
    return page_of(selectors.recycle_bin(user=request.user, filters=query), query, _bin_entry)


def _bin_entry(e: BinEntry) -> dict[str, Any]:
    return {
        "kind": e.kind, "id": e.pk, "name": e.name, "account": {"id": e.account_id, "name": e.account_name},
        "account_code": e.code, "owner": _ref(e.owner), "unit": _ref(e.unit), "deleted_by": _ref(e.deleted_by),
        "deleted_at": e.deleted_at, "days_left": e.days_left, "contacts": e.contacts,
        "opportunities": e.opportunities,
    }


@router.post("/accounts/{account_id}/restore", response={200: AccountDetail, **ERRORS},
             summary="Restore an account from the recycle bin, with the contacts and opportunities deleted with it")
def restore_account(request: AuthedRequest, account_id: IdParam) -> Account:
    account = services.account_restore(actor=request.user, account_id=account_id)
    return _detail(request, _account_or_404(request, account.pk))


@router.post("/contacts/{contact_id}/restore", response={200: ContactOut, **ERRORS},
             summary="Restore a contact from the recycle bin")
def restore_contact(request: AuthedRequest, contact_id: IdParam) -> Contact:
    contact = services.contact_restore(actor=request.user, contact_id=contact_id)
    return _contact_or_404(request, contact.pk)


@router.get("/accounts/{account_id}/team", response={200: list[TeamMemberOut], **ERRORS}, summary="Account team")
def list_team(request: AuthedRequest, account_id: IdParam) -> list[dict[str, Any]]:
    account = _account_or_404(request, account_id)
    return [
        {"id": m.pk, "user": _ref(m.user), "team_role": m.team_role}
        for m in account.team_members.select_related("user").order_by("id")
    ]


@router.post("/accounts/{account_id}/team", response={201: TeamMemberOut, **ERRORS}, summary="Add a team member")
def add_team_member(request: AuthedRequest, account_id: IdParam, payload: TeamMemberIn) -> Status:
    account = _account_or_404(request, account_id)
    user = selectors.colleagues(user=request.user).filter(pk=payload.user).first()
    if user is None:
        raise ValidationFailed("Please correct the errors below.", errors={"user": ["No such user."]})
    member = services.team_member_add(actor=request.user, account=account, user=user, team_role=payload.team_role)
    return Status(201, {"id": member.pk, "user": _ref(member.user), "team_role": member.team_role})


@router.delete("/accounts/{account_id}/team/{member_id}", response={204: None, **ERRORS}, summary="Remove a team member")
def remove_team_member(request: AuthedRequest, account_id: IdParam, member_id: IdParam) -> HttpResponse:
    services.team_member_remove(actor=request.user, account=_account_or_404(request, account_id), member_id=member_id)
    return HttpResponse(status=204)
