"""Merging two records of one customer (the usual outcome of 查重).

The survivor keeps its code and id; for every other field the user picks whose value
stays. Contacts, team members and group members move to the survivor; the merged
account leaves the lists, keeps its history, and points at the survivor so that its
old code and USCC still lead there. Other apps move their own rows (activities,
opportunities…) by listening to `account_merged`, inside the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.accounts.card.forms import ACCOUNT_FORM_FIELDS
from kam.accounts.card.services import check_uscc_unique, refresh_keys, resolve_owner
from kam.accounts.merge import policies
from kam.accounts.models import Account, AccountTeamMember, Contact
from kam.accounts.records import validation_failed
from kam.core.errors import NotVisible, StaleVersion, ValidationFailed
from kam.core.models import User
from kam.core.policies import require

# Fields whose value the user may take from the merged account (the code stays the survivor's).
MERGE_FIELDS = [name for name in ACCOUNT_FORM_FIELDS if name != "code"]

# sent with survivor=, merged=, actor= after contacts and team moved, before commit.
account_merged = Signal()


def _save(obj: Any, actor: User, reason: str) -> None:
    obj._history_user = actor
    obj._change_reason = reason
    obj.save()


@transaction.atomic
def account_merge(
    *,
    actor: User,
    survivor: Account,
    merged: Account,
    take: Iterable[str] = (),
    survivor_version: int | None = None,
    merged_version: int | None = None,
) -> Account:
    """Merge `merged` into `survivor`; `take` names the fields whose value comes from `merged`."""
    require(policies.may_merge_accounts(actor, survivor))
    take = list(dict.fromkeys(take))
    if unknown := sorted(set(take) - set(MERGE_FIELDS)):
        raise ValidationFailed(
            _("These fields cannot be merged: %(fields)s.") % {"fields": ", ".join(unknown)},
            errors={name: [_("This field cannot be set.")] for name in unknown},
        )
    if survivor.pk == merged.pk:
        raise ValidationFailed(_("Choose two different accounts."), errors={"merged": [_("Same account.")]})
    # Lock both, always in id order, so two merges of the same pair cannot deadlock.
    locked = {
        a.pk: a
        for a in Account.objects.visible_to(actor).select_for_update(of=("self",)).filter(pk__in=[survivor.pk, merged.pk]).order_by("pk")
    }
    if len(locked) != 2:
        raise NotVisible(_("Not found."))
    survivor, merged = locked[survivor.pk], locked[merged.pk]
    for account, version in ((survivor, survivor_version), (merged, merged_version)):
        if version is not None and version != account.version:
            raise StaleVersion(
                _("One of the accounts was changed by someone else meanwhile. Reload and merge again."),
                current_version=account.version,
            )
    now = timezone.now()
    # The merged account gives up its USCC first: the unique constraint holds at every step.
    uscc_taken = "uscc" in take and merged.uscc
    if uscc_taken:
        survivor.uscc, merged.uscc = merged.uscc, None
        merged.save(update_fields=["uscc"])
    for name in take:
        if name == "uscc":
            continue
        if name == "owner":
            if merged.owner_id is None:  # in the public pool: nobody to take over
                continue
            owner = resolve_owner(actor=actor, owner=merged.owner_id)
            survivor.owner, survivor.unit, survivor.pooled_at = owner, owner.unit, None
            continue
        attname = Account._meta.get_field(name).attname  # type: ignore[union-attr]  # a concrete field of the card
        setattr(survivor, attname, getattr(merged, attname))
    if survivor.parent_id == merged.pk:
        survivor.parent_id = merged.parent_id if merged.parent_id != survivor.pk else None
    check_uscc_unique(survivor, actor)
    refresh_keys(survivor)
    try:
        survivor.full_clean(exclude=["code", "owner"] if survivor.owner_id is None else ["code"])
    except ValidationError as exc:
        raise validation_failed(exc) from exc

    reason_in = _("Merged from %(name)s (%(code)s)") % {"name": merged.name, "code": merged.code}
    reason_out = _("Merged into %(name)s (%(code)s)") % {"name": survivor.name, "code": survivor.code}
    for contact in Contact.objects.filter(account=merged):
        contact.account = survivor
        _save(contact, actor, reason_in)
    for member in AccountTeamMember.objects.filter(account=merged).select_related("user"):
        member._history_user = actor  # type: ignore[attr-defined]  # django-simple-history's author of the record
        if AccountTeamMember.objects.filter(account=survivor, user=member.user).exists():
            member.delete()
        else:
            member.account = survivor
            member.save()
    for child in Account.objects.filter(parent=merged).exclude(pk=survivor.pk):
        child.parent = survivor
        child.version += 1
        _save(child, actor, reason_in)
    if merged.parent_id == survivor.pk:
        merged.parent = None
    merged.deleted_at, merged.deleted_by, merged.merged_into = now, actor, survivor
    merged.version += 1
    _save(merged, actor, reason_out)
    survivor.version += 1
    _save(survivor, actor, reason_in)
    account_merged.send(sender=Account, survivor=survivor, merged=merged, actor=actor)
    return survivor
