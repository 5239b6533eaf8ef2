"""Business actions on accounts: create and edit (the team, contacts, merge and the recycle
bin have their own packages).

Every write a user can cause goes through one of these functions: the web views,
the API and the importers call the same code, so the same rules hold everywhere.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from kam.accounts.card import policies
from kam.accounts.models import Account
from kam.accounts.records import (
    assign_fields,
    lock_visible,
    refuse_unknown_fields,
    save_with_history,
    validation_failed,
)
from kam.core.conf import config
from kam.core.errors import Conflict, StaleVersion, ValidationFailed
from kam.core.models import Role, User
from kam.core.policies import require
from kam.core.text import name_similarity, normalise_name, search_key
from kam.core.validators import clean_uscc

# Fields a client may write on an account. owner is checked separately; unit follows
# the owner; bookkeeping fields are never client-writable.
ACCOUNT_FIELDS = frozenset(
    f.name
    for f in Account._meta.get_fields()
    if getattr(f, "editable", False)
    and not f.auto_created
    and f.name not in {"id", "owner", "unit", "created_by", "deleted_at", "version"}
) | {"owner"}


class DuplicateAccount(Conflict):
    """Another account already carries this USCC or code."""


class SimilarAccounts(Conflict):
    """Accounts with very similar names exist; the user must confirm to go on."""


def assignable_owners(actor: User) -> QuerySet[User]:
    """Users `actor` may make owner of an account: self for specialists, own subtree for managers."""
    users = User.objects.filter(is_active=True, unit__isnull=False)
    if actor.sees_everything:
        return users
    if actor.role == Role.SPECIALIST:
        return users.filter(pk=actor.pk)
    return users.filter(unit_id__in=actor.visible_unit_ids)


def resolve_owner(*, actor: User, owner: Any) -> Any:
    if owner is None:
        return actor
    owner_id = owner.pk if hasattr(owner, "pk") else owner
    found = assignable_owners(actor).select_related("unit").filter(pk=owner_id).first()
    if found is None:
        raise ValidationFailed(
            _("You cannot assign accounts to this user."),
            errors={"owner": [_("Choose an active user inside your own unit.")]},
        )
    return found


def refresh_keys(account: Account) -> None:
    account.name_key = normalise_name(account.name)[:200]
    account.search_text = search_key(account.name, account.short_name, account.code, account.uscc or "")


def check_uscc_unique(account: Account, actor: User) -> None:
    if not account.uscc:
        return
    clash = Account.objects.filter(uscc=account.uscc).exclude(pk=account.pk).select_related("owner", "unit").first()
    if clash is None:
        return
    visible = Account.objects.visible_to(actor).filter(pk=clash.pk).exists()
    raise DuplicateAccount(
        _("An account with this unified social credit code already exists: %(name)s (%(code)s).")
        % {"name": clash.name if visible else _("not visible to you"), "code": clash.code if visible else "—"},
        errors={"uscc": [_("Already used by another account.")]},
        existing_id=clash.pk if visible else None,
        existing_url=clash.get_absolute_url() if visible else None,
        existing_owner=str(clash.owner),
        existing_unit=str(clash.unit),
        in_recycle_bin=clash.deleted_at is not None,
    )


def similar_accounts(*, name: str, exclude_pk: int | None = None, limit: int = 5) -> list[Account]:
    """Accounts whose normalised name is at least SIMILAR_NAME_RATIO alike.

    Candidates share a four-character piece of the normalised name taken from its
    start, middle or end (region prefixes like 广州市 make the start alone too weak),
    so one scan finds them; the ratio is then computed on at most a few hundred rows.
    """
    key = normalise_name(name)
    if not key:
        return []
    ratio = config().SIMILAR_NAME_RATIO
    width = min(4, len(key))
    middle = max(0, (len(key) - width) // 2)
    probes = {key[:width], key[middle : middle + width], key[-width:]}
    match = Q()
    for probe in probes:
        match |= Q(name_key__contains=probe)
    candidates = (
        Account.objects.alive()
        .filter(Q(name_key=key) | match)
        .exclude(pk=exclude_pk)
        .select_related("owner", "unit")
        .order_by("id")[:500]
    )
    scored = [(name_similarity(name, c.name), c) for c in candidates]
    return [c for score, c in sorted(scored, key=lambda s: -s[0]) if score >= ratio][:limit]


@transaction.atomic
def account_create(*, actor: User, data: dict[str, Any], confirm_similar: bool = False) -> Account:
    require(policies.may_create_account(actor))
    refuse_unknown_fields(data, ACCOUNT_FIELDS)
    fields = dict(data)
    owner = resolve_owner(actor=actor, owner=fields.pop("owner", None))
    account = Account(owner=owner, unit=owner.unit, created_by=actor)
    assign_fields(account, fields)
    if account.uscc:
        try:
            account.uscc = clean_uscc(account.uscc)
        except ValidationError as exc:
            raise ValidationFailed(_("Please correct the errors below."), errors={"uscc": exc.messages}) from exc
    if not account.code:
        account.code = f"TMP-{uuid.uuid4().hex[:20]}"
    _check_parent(account, actor)
    check_uscc_unique(account, actor)
    if Account.objects.filter(code=account.code).exists():
        raise DuplicateAccount(
            _("Account code %(code)s is already used.") % {"code": account.code},
            errors={"code": [_("Already used by another account.")]},
        )
    if not confirm_similar and (similar := similar_accounts(name=account.name)):
        raise SimilarAccounts(
            _("Accounts with a very similar name exist. Check them, then confirm to create anyway."),
            errors={"name": [_("Very similar to an existing account.")]},
            similar=[
                {"id": s.pk, "code": s.code, "name": s.name, "owner": str(s.owner), "unit": str(s.unit)}
                for s in similar
            ],
        )
    refresh_keys(account)
    try:
        account.full_clean()
    except ValidationError as exc:
        raise validation_failed(exc) from exc
    save_with_history(account, actor)
    if account.code.startswith("TMP-"):
        account.code = f"KA{account.pk:08d}"
        refresh_keys(account)
        # (the search index needs nothing: a TMP- code and its KA replacement are both ASCII)
        Account.objects.filter(pk=account.pk).update(code=account.code, search_text=account.search_text)
        account.history.filter(history_type="+").update(code=account.code)
    return account


def _check_parent(account: Account, actor: User, *, before: int | None = None) -> None:
    """A parent being set must be an account `actor` sees, and not make a loop. The parent
    an account already has (`before`) is not checked again: HQ may have put the account in
    a group whose head its specialist cannot see, and the specialist still edits the rest."""
    if account.parent_id is None or account.parent_id == before:
        return
    if not Account.objects.visible_to(actor).filter(pk=account.parent_id).exists():
        raise ValidationFailed(
            _("Please correct the errors below."), errors={"parent": [_("No such account.")]}
        )
    # Walk up the group tree: an account cannot become its own ancestor.
    seen: set[int] = set()
    current: int | None = account.parent_id
    while current is not None:
        if current == account.pk or current in seen:
            raise ValidationFailed(
                _("Please correct the errors below."),
                errors={"parent": [_("A group hierarchy cannot contain a loop.")]},
            )
        seen.add(current)
        current = Account.objects.filter(pk=current).values_list("parent_id", flat=True).first()


@transaction.atomic
def account_update(*, actor: User, account: Account, data: dict[str, Any], version: int | None = None,
                   reason: str | None = None) -> Account:
    """Apply `data` to `account`. With `version`, refuse if someone saved in between.

    `reason`: why a person changes the customer state by hand (the history keeps it); from a
    form or an API call (a str) it is required whenever `lifecycle_status` changes. Other
    services pass None: the events that move the state name their cause themselves."""
    require(policies.may_edit_account(actor, account))
    refuse_unknown_fields(data, ACCOUNT_FIELDS)
    account = lock_visible(Account.objects.visible_to(actor), account.pk)
    if version is not None and version != account.version:
        raise StaleVersion(
            _("This account was changed by someone else meanwhile. Reload it and apply your changes again."),
            current_version=account.version,
        )
    fields = dict(data)
    if "owner" in fields and account.owner_id is None and fields["owner"] is not None:
        raise ValidationFailed(
            _("This account is in the public pool: claim it or assign it from the pool."),
            errors={"owner": [_("Assign accounts in the public pool from the pool.")]},
        )
    if "owner" in fields:
        owner = resolve_owner(actor=actor, owner=fields.pop("owner"))
        account.owner, account.unit = owner, owner.unit
    parent_before, state_before = account.parent_id, account.lifecycle_status
    assign_fields(account, fields)
    if account.uscc:
        try:
            account.uscc = clean_uscc(account.uscc)
        except ValidationError as exc:
            raise ValidationFailed(_("Please correct the errors below."), errors={"uscc": exc.messages}) from exc
    else:
        account.uscc = None
    _check_parent(account, actor, before=parent_before)
    check_uscc_unique(account, actor)
    if Account.objects.filter(code=account.code).exclude(pk=account.pk).exists():
        raise DuplicateAccount(
            _("Account code %(code)s is already used.") % {"code": account.code},
            errors={"code": [_("Already used by another account.")]},
        )
    refresh_keys(account)
    try:
        # An account in the public pool has no owner, and keeps none until claimed or assigned.
        account.full_clean(exclude=["owner"] if account.owner_id is None else None)
    except ValidationError as exc:
        raise validation_failed(exc) from exc
    if reason is not None and account.lifecycle_status != state_before:
        if not reason.strip():
            raise ValidationFailed(_("Please correct the errors below."), errors={
                "lifecycle_reason": [_("Say why the customer state changes by hand.")]})
        # simple_history keeps the instance's _change_reason as the history row's reason
        setattr(account, "_change_reason",  # noqa: B010
                _("Customer state set by hand: %(reason)s") % {"reason": reason.strip()[:60]})
    account.version += 1
    save_with_history(account, actor)
    return account

