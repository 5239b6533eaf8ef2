"""Business actions on accounts, account teams and contacts.

Every write a user can cause goes through one of these functions: the web views,
the API and the importers call the same code, so the same rules hold everywhere.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.accounts.models import (
    Account,
    AccountTeamMember,
    Contact,
    ContactStatus,
)
from kam.accounts.recycle.clock import bin_event, bin_item, unbin_item
from kam.core.conf import kam_setting
from kam.core.errors import Conflict, NotVisible, StaleVersion, ValidationFailed
from kam.core.models import AuditEvent, Role
from kam.core.text import name_similarity, normalise_name, search_key
from kam.core.validators import clean_cn_mobile, clean_uscc

User = get_user_model()

# Fields a client may write on an account. owner is checked separately; unit follows
# the owner; bookkeeping fields are never client-writable.
ACCOUNT_FIELDS = frozenset(
    f.name
    for f in Account._meta.get_fields()
    if getattr(f, "editable", False)
    and not f.auto_created
    and f.name not in {"id", "owner", "unit", "created_by", "deleted_at", "version"}
) | {"owner"}
CONTACT_FIELDS = frozenset(
    f.name
    for f in Contact._meta.get_fields()
    if getattr(f, "editable", False)
    and not f.auto_created
    and f.name not in {"id", "account", "deleted_at", "version"}
)


class DuplicateAccount(Conflict):
    """Another account already carries this USCC or code."""


class SimilarAccounts(Conflict):
    """Accounts with very similar names exist; the user must confirm to go on."""


def _validation_failed(exc: ValidationError) -> ValidationFailed:
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return ValidationFailed(_("Please correct the errors below."), errors=errors)


def _unknown_fields(data: dict[str, Any], allowed: frozenset[str]) -> None:
    if unknown := sorted(set(data) - allowed):
        raise ValidationFailed(
            _("These fields cannot be set: %(fields)s.") % {"fields": ", ".join(unknown)},
            errors={name: [_("This field cannot be set.")] for name in unknown},
        )


def assignable_owners(actor):
    """Users `actor` may make owner of an account: self for specialists, own subtree for managers."""
    users = User.objects.filter(is_active=True, unit__isnull=False)
    if actor.sees_everything:
        return users
    if actor.role == Role.SPECIALIST:
        return users.filter(pk=actor.pk)
    return users.filter(unit_id__in=actor.visible_unit_ids)


def _resolve_owner(*, actor, owner) -> Any:
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


def _refresh_keys(account: Account) -> None:
    account.name_key = normalise_name(account.name)[:200]
    account.search_text = search_key(account.name, account.short_name, account.code, account.uscc or "")


def _check_uscc_unique(account: Account, actor) -> None:
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
    ratio = kam_setting("SIMILAR_NAME_RATIO")
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


def _assign(obj, data: dict[str, Any]) -> None:
    """Set fields from `data`; a foreign key may be given as an object or as its id."""
    for name, value in data.items():
        field = obj._meta.get_field(name)
        if value is None and not field.null and field.empty_strings_allowed and not field.is_relation:
            # Text fields store "no value" as an empty string, never NULL.
            value = ""
        if field.is_relation and value is not None and not hasattr(value, "pk"):
            setattr(obj, field.attname, value)
        else:
            setattr(obj, name, value)


def _save_with_history(obj, actor) -> None:
    obj._history_user = actor
    obj.save()


@transaction.atomic
def account_create(*, actor, data: dict[str, Any], confirm_similar: bool = False) -> Account:
    _unknown_fields(data, ACCOUNT_FIELDS)
    fields = dict(data)
    owner = _resolve_owner(actor=actor, owner=fields.pop("owner", None))
    account = Account(owner=owner, unit=owner.unit, created_by=actor)
    _assign(account, fields)
    if account.uscc:
        try:
            account.uscc = clean_uscc(account.uscc)
        except ValidationError as exc:
            raise ValidationFailed(_("Please correct the errors below."), errors={"uscc": exc.messages}) from exc
    if not account.code:
        account.code = f"TMP-{uuid.uuid4().hex[:20]}"
    _check_parent(account, actor)
    _check_uscc_unique(account, actor)
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
    _refresh_keys(account)
    try:
        account.full_clean()
    except ValidationError as exc:
        raise _validation_failed(exc) from exc
    _save_with_history(account, actor)
    if account.code.startswith("TMP-"):
        account.code = f"KA{account.pk:08d}"
        _refresh_keys(account)
        Account.objects.filter(pk=account.pk).update(code=account.code, search_text=account.search_text)
        account.history.filter(history_type="+").update(code=account.code)
    return account


def _check_parent(account: Account, actor, *, before: int | None = None) -> None:
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
    seen, current = set(), account.parent_id
    while current is not None:
        if current == account.pk or current in seen:
            raise ValidationFailed(
                _("Please correct the errors below."),
                errors={"parent": [_("A group hierarchy cannot contain a loop.")]},
            )
        seen.add(current)
        current = Account.objects.filter(pk=current).values_list("parent_id", flat=True).first()


@transaction.atomic
def account_update(*, actor, account: Account, data: dict[str, Any], version: int | None = None) -> Account:
    """Apply `data` to `account`. With `version`, refuse if someone saved in between."""
    _unknown_fields(data, ACCOUNT_FIELDS)
    account = _lock_visible(Account.objects.visible_to(actor), account.pk)
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
        owner = _resolve_owner(actor=actor, owner=fields.pop("owner"))
        account.owner, account.unit = owner, owner.unit
    parent_before = account.parent_id
    _assign(account, fields)
    if account.uscc:
        try:
            account.uscc = clean_uscc(account.uscc)
        except ValidationError as exc:
            raise ValidationFailed(_("Please correct the errors below."), errors={"uscc": exc.messages}) from exc
    else:
        account.uscc = None
    _check_parent(account, actor, before=parent_before)
    _check_uscc_unique(account, actor)
    if Account.objects.filter(code=account.code).exclude(pk=account.pk).exists():
        raise DuplicateAccount(
            _("Account code %(code)s is already used.") % {"code": account.code},
            errors={"code": [_("Already used by another account.")]},
        )
    _refresh_keys(account)
    try:
        # An account in the public pool has no owner, and keeps none until claimed or assigned.
        account.full_clean(exclude=["owner"] if account.owner_id is None else None)
    except ValidationError as exc:
        raise _validation_failed(exc) from exc
    account.version += 1
    _save_with_history(account, actor)
    return account


def _lock_visible(queryset, pk):
    obj = queryset.select_for_update(of=("self",)).filter(pk=pk).first()
    if obj is None:
        raise NotVisible(_("Not found."))
    return obj


@transaction.atomic
def account_delete(*, actor, account: Account) -> None:
    """Move an account to the recycle bin (restorable for RECYCLE_BIN_DAYS), its live contacts
    and opportunities with it: they disappear with the account and come back with it."""
    from kam.sales.models import Opportunity

    account = _lock_visible(Account.objects.visible_to(actor), account.pk)
    if account.subsidiaries.alive().exists():
        raise Conflict(
            _("This account is the parent of other accounts. Move or delete them first."),
            errors={"parent": [_("Has subsidiaries.")]},
        )
    now = timezone.now()
    bin_item(account, actor=actor, at=now)
    contacts = list(Contact.objects.alive().filter(account=account).select_for_update(of=("self",)))
    opportunities = list(Opportunity.objects.alive().filter(account=account).select_for_update(of=("self",)))
    for item in (*contacts, *opportunities):
        bin_item(item, actor=actor, at=now, with_account=True)
    bin_event(AuditEvent.Kind.BINNED, account, actor=actor, contacts=[c.pk for c in contacts],
               opportunities=[o.pk for o in opportunities])


@transaction.atomic
def account_restore(*, actor, account_id: int) -> Account:
    """Take an account out of the recycle bin exactly as it was, with the contacts and
    opportunities that went with it (those deleted on their own before stay in the bin)."""
    from kam.sales.models import Opportunity

    account = Account.objects.in_recycle_bin_of(actor).select_for_update(of=("self",)).filter(pk=account_id).first()
    if account is None:
        raise NotVisible(_("Not found."))
    if account.parent_id and not Account.objects.alive().filter(pk=account.parent_id).exists():
        raise Conflict(
            _("Restore the parent account %(name)s first.") % {"name": account.parent.name},
            errors={"parent": [_("The parent account is in the recycle bin.")]},
        )
    _check_uscc_unique(account, actor)
    unbin_item(account, actor=actor)
    contacts = list(Contact.objects.filter(account=account, deleted_with_account=True).select_for_update(of=("self",)))
    opportunities = list(Opportunity.objects.filter(account=account, deleted_with_account=True)
                         .select_for_update(of=("self",)))
    for item in (*contacts, *opportunities):
        unbin_item(item, actor=actor)
    bin_event(AuditEvent.Kind.RESTORED, account, actor=actor, contacts=[c.pk for c in contacts],
               opportunities=[o.pk for o in opportunities])
    return account


def recycle_bin_purge(*, now=None, batch: int = 200) -> dict[str, int]:
    """Delete for good the accounts, contacts and opportunities that sat in the recycle bin
    longer than RECYCLE_BIN_DAYS (an account's contacts and opportunities go with it). Their
    field history stays; each removal is an audit event. Returns how many of each went.

    It works in transactions of at most `batch` items, so a large bin does not hold the write
    lock for long, and a run killed half-way leaves whole batches (the next run goes on)."""
    from kam.accounts.recycle.clock import bin_cutoff
    from kam.sales.models import Opportunity

    cutoff = bin_cutoff(now)
    purged = {"accounts": 0, "contacts": 0, "opportunities": 0}
    for model, key in ((Opportunity, "opportunities"), (Contact, "contacts")):
        while True:
            with transaction.atomic():
                items = list(model.objects.filter(deleted_at__lt=cutoff, deleted_with_account=False)
                             .select_related("account").order_by("pk")[:batch])
                for item in items:
                    bin_event(AuditEvent.Kind.BIN_PURGED, item, actor=None, via="purge",
                               deleted_at=item.deleted_at.isoformat())
                    item.delete()
                purged[key] += len(items)
            if len(items) < batch:
                break
    # Children before parents: a group goes only once none of its subsidiaries remain.
    while True:
        with transaction.atomic():
            # Merged accounts stay as tombstones: their old code and USCC lead to the survivor.
            # An account some merged one names as its survivor stays too (those links are PROTECT).
            expired = list(Account.objects.binned().filter(deleted_at__lt=cutoff)
                           .exclude(subsidiaries__isnull=False).exclude(merged_accounts__isnull=False)
                           .distinct().order_by("pk")[:batch])
            if not expired:
                break
            ids = [a.pk for a in expired]
            for account in expired:
                bin_event(AuditEvent.Kind.BIN_PURGED, account, actor=None, via="purge",
                           deleted_at=account.deleted_at.isoformat(),
                           contacts=account.contacts.count(), opportunities=account.opportunities.count())
            # Everything else of the account (opportunities, activities, revenue…) cascades.
            purged["contacts"] += Contact.objects.filter(account_id__in=ids).delete()[1].get("accounts.Contact", 0)
            purged["opportunities"] += Opportunity.objects.filter(account_id__in=ids).count()
            Account.objects.filter(pk__in=ids).delete()
            purged["accounts"] += len(ids)
    return purged


@transaction.atomic
def team_member_add(*, actor, account: Account, user, team_role: str) -> AccountTeamMember:
    account = _lock_visible(Account.objects.visible_to(actor), account.pk)
    member = AccountTeamMember.objects.filter(account=account, user=user).first() or AccountTeamMember(
        account=account, user=user
    )
    member.team_role = team_role
    if not user.is_active:
        raise ValidationFailed(_("Please correct the errors below."), errors={"user": [_("Inactive user.")]})
    try:
        member.full_clean()
    except ValidationError as exc:
        raise _validation_failed(exc) from exc
    _save_with_history(member, actor)
    return member


@transaction.atomic
def team_member_remove(*, actor, account: Account, member_id: int) -> None:
    account = _lock_visible(Account.objects.visible_to(actor), account.pk)
    member = account.team_members.filter(pk=member_id).first()
    if member is None:
        raise NotVisible(_("Not found."))
    member._history_user = actor
    member.delete()


# --- contacts ------------------------------------------------------------------------


def _prepare_contact(contact: Contact, actor) -> None:
    if contact.mobile:
        try:
            contact.mobile = clean_cn_mobile(contact.mobile)
        except ValidationError as exc:
            raise ValidationFailed(_("Please correct the errors below."), errors={"mobile": exc.messages}) from exc
    if contact.successor_id is not None:
        successor = Contact.objects.alive().filter(pk=contact.successor_id, account_id=contact.account_id).first()
        if successor is None or successor.pk == contact.pk:
            raise ValidationFailed(
                _("Please correct the errors below."),
                errors={"successor": [_("Choose another contact of the same account.")]},
            )
    if contact.relationship_owner_id is not None and not User.objects.filter(
        pk=contact.relationship_owner_id, is_active=True
    ).exists():
        raise ValidationFailed(
            _("Please correct the errors below."), errors={"relationship_owner": [_("No such user.")]}
        )
    if contact.status == ContactStatus.LEFT and contact.left_on is None:
        contact.left_on = timezone.localdate()
    if contact.status == ContactStatus.ACTIVE:
        contact.left_on = None
    contact.search_text = search_key(contact.name, contact.mobile, contact.email, contact.title)
    try:
        contact.full_clean()
    except ValidationError as exc:
        raise _validation_failed(exc) from exc


@transaction.atomic
def contact_create(*, actor, account: Account, data: dict[str, Any]) -> Contact:
    _unknown_fields(data, CONTACT_FIELDS)
    account = _lock_visible(Account.objects.visible_to(actor), account.pk)
    contact = Contact(account=account)
    _assign(contact, data)
    _prepare_contact(contact, actor)
    _save_with_history(contact, actor)
    Account.objects.filter(pk=account.pk).update(updated_at=timezone.now())
    return contact


@transaction.atomic
def contact_update(*, actor, contact: Contact, data: dict[str, Any], version: int | None = None) -> Contact:
    _unknown_fields(data, CONTACT_FIELDS)
    contact = _lock_visible(Contact.objects.visible_to(actor), contact.pk)
    if version is not None and version != contact.version:
        raise StaleVersion(
            _("This contact was changed by someone else meanwhile. Reload it and apply your changes again."),
            current_version=contact.version,
        )
    _assign(contact, data)
    _prepare_contact(contact, actor)
    contact.version += 1
    _save_with_history(contact, actor)
    return contact


@transaction.atomic
def contact_delete(*, actor, contact: Contact) -> None:
    """Move a contact to the recycle bin. Contacts that named it as successor lose the link
    (an open handover shows again); the restore gives it back to those still without one."""
    contact = _lock_visible(Contact.objects.visible_to(actor), contact.pk)
    bin_item(contact, actor=actor, at=timezone.now())
    predecessors = list(Contact.objects.filter(successor=contact).values_list("pk", flat=True))
    Contact.objects.filter(pk__in=predecessors).update(successor=None)
    bin_event(AuditEvent.Kind.BINNED, contact, actor=actor, predecessors=predecessors)


@transaction.atomic
def contact_restore(*, actor, contact_id: int) -> Contact:
    contact = (Contact.objects.in_recycle_bin_of(actor).select_for_update(of=("self",)).select_related("account")
               .filter(pk=contact_id).first())
    if contact is None:
        raise NotVisible(_("Not found."))
    if contact.account.deleted_at is not None:
        raise Conflict(
            _("Restore the account %(name)s first.") % {"name": contact.account.name},
            errors={"account": [_("The account is in the recycle bin.")]},
        )
    unbin_item(contact, actor=actor)
    binned = (AuditEvent.objects.filter(kind=AuditEvent.Kind.BINNED, detail__model="contact", detail__id=contact.pk)
              .order_by("-at", "-id").first())
    if binned is not None and (predecessors := binned.detail.get("predecessors")):
        Contact.objects.alive().filter(pk__in=predecessors, account_id=contact.account_id,
                                       successor__isnull=True).update(successor=contact)
    bin_event(AuditEvent.Kind.RESTORED, contact, actor=actor)
    return contact
