"""Writes of the recycle bin: delete an account (with its contacts and opportunities), restore
accounts and contacts, purge what outlived RECYCLE_BIN_DAYS."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.accounts.card.services import check_uscc_unique
from kam.accounts.models import Account, Contact
from kam.accounts.records import lock_visible
from kam.accounts.recycle import policies
from kam.accounts.recycle.clock import bin_cutoff, bin_event, bin_item, unbin_item
from kam.accounts.recycle.registry import binned_with_account
from kam.core.errors import Conflict, NotVisible
from kam.core.models import AuditEvent, User
from kam.core.policies import require


@transaction.atomic
def account_delete(*, actor: User, account: Account) -> None:
    """Move an account to the recycle bin (restorable for RECYCLE_BIN_DAYS), its live contacts
    and opportunities with it: they disappear with the account and come back with it."""
    require(policies.may_delete_account(actor, account))
    account = lock_visible(Account.objects.visible_to(actor), account.pk)
    if account.subsidiaries.alive().exists():
        raise Conflict(
            _("This account is the parent of other accounts. Move or delete them first."),
            errors={"parent": [_("Has subsidiaries.")]},
        )
    now = timezone.now()
    bin_item(account, actor=actor, at=now)
    contacts = list(Contact.objects.alive().filter(account=account).select_for_update(of=("self",)))
    others = {entry.plural: list(entry.model.objects.alive().filter(account=account)  # type: ignore[attr-defined]
                                 .select_for_update(of=("self",))) for entry in binned_with_account()}
    for item in (*contacts, *(row for rows in others.values() for row in rows)):
        bin_item(item, actor=actor, at=now, with_account=True)
    bin_event(AuditEvent.Kind.BINNED, account, actor=actor, contacts=[c.pk for c in contacts],
              **{plural: [row.pk for row in rows] for plural, rows in others.items()})


@transaction.atomic
def account_restore(*, actor: User, account_id: int) -> Account:
    """Take an account out of the recycle bin exactly as it was, with the contacts and
    opportunities that went with it (those deleted on their own before stay in the bin)."""
    require(policies.may_restore(actor))
    account = Account.objects.in_recycle_bin_of(actor).select_for_update(of=("self",)).filter(pk=account_id).first()
    if account is None:
        raise NotVisible(_("Not found."))
    if account.parent_id and not Account.objects.alive().filter(pk=account.parent_id).exists():
        raise Conflict(
            _("Restore the parent account %(name)s first.") % {"name": account.parent.name},
            errors={"parent": [_("The parent account is in the recycle bin.")]},
        )
    check_uscc_unique(account, actor)
    unbin_item(account, actor=actor)
    contacts = list(Contact.objects.filter(account=account, deleted_with_account=True).select_for_update(of=("self",)))
    others = {entry.plural: list(entry.model._default_manager.filter(account=account, deleted_with_account=True)
                                 .select_for_update(of=("self",))) for entry in binned_with_account()}
    for item in (*contacts, *(row for rows in others.values() for row in rows)):
        unbin_item(item, actor=actor)
    bin_event(AuditEvent.Kind.RESTORED, account, actor=actor, contacts=[c.pk for c in contacts],
              **{plural: [row.pk for row in rows] for plural, rows in others.items()})
    return account


def recycle_bin_purge(*, now: datetime | None = None, batch: int = 200) -> dict[str, int]:
    """Delete for good the accounts, contacts and opportunities that sat in the recycle bin
    longer than RECYCLE_BIN_DAYS (an account's contacts and opportunities go with it). Their
    field history stays; each removal is an audit event. Returns how many of each went.

    It works in transactions of at most `batch` items, so a large bin does not hold the write
    lock for long, and a run killed half-way leaves whole batches (the next run goes on)."""
    cutoff = bin_cutoff(now)
    others = binned_with_account()
    purged = {"accounts": 0, "contacts": 0, **{entry.plural: 0 for entry in others}}
    kinds: list[tuple[type[Model], str]] = [*((entry.model, entry.plural) for entry in others), (Contact, "contacts")]
    for model, key in kinds:
        while True:
            with transaction.atomic():
                # Each has deleted_at, deleted_with_account and an account (see the registry).
                items: list[Any] = list(model._default_manager.filter(deleted_at__lt=cutoff, deleted_with_account=False)
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
                          contacts=account.contacts.count(),
                          **{entry.plural: entry.model.objects.filter(account=account).count()  # type: ignore[attr-defined]
                             for entry in others})
            # Everything else of the account (opportunities, activities, revenue…) cascades.
            purged["contacts"] += Contact.objects.filter(account_id__in=ids).delete()[1].get("accounts.Contact", 0)
            for entry in others:
                purged[entry.plural] += entry.model.objects.filter(account_id__in=ids).count()  # type: ignore[attr-defined]
            Account.objects.filter(pk__in=ids).delete()
            purged["accounts"] += len(ids)
    return purged


@transaction.atomic
def contact_restore(*, actor: User, contact_id: int) -> Contact:
    require(policies.may_restore(actor))
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

