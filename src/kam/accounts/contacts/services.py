"""Writes of contacts: create, edit, delete (to the recycle bin)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.accounts.contacts import policies
from kam.accounts.models import Account, Contact, ContactStatus
from kam.accounts.records import (
    assign_fields,
    lock_visible,
    refuse_unknown_fields,
    save_with_history,
    validation_failed,
)
from kam.accounts.recycle.clock import bin_event, bin_item
from kam.core.errors import StaleVersion, ValidationFailed
from kam.core.models import AuditEvent, User
from kam.core.policies import require
from kam.core.text import search_key
from kam.core.validators import clean_cn_mobile

CONTACT_FIELDS = frozenset(
    f.name
    for f in Contact._meta.get_fields()
    if getattr(f, "editable", False)
    and not f.auto_created
    and f.name not in {"id", "account", "deleted_at", "version"}
)


def _prepare_contact(contact: Contact, actor: User) -> None:
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
        raise validation_failed(exc) from exc


@transaction.atomic
def contact_create(*, actor: User, account: Account, data: dict[str, Any]) -> Contact:
    require(policies.may_add_contact(actor, account))
    refuse_unknown_fields(data, CONTACT_FIELDS)
    account = lock_visible(Account.objects.visible_to(actor), account.pk)
    contact = Contact(account=account)
    assign_fields(contact, data)
    _prepare_contact(contact, actor)
    save_with_history(contact, actor)
    Account.objects.filter(pk=account.pk).update(updated_at=timezone.now())
    return contact


@transaction.atomic
def contact_update(*, actor: User, contact: Contact, data: dict[str, Any], version: int | None = None) -> Contact:
    require(policies.may_edit_contact(actor, contact))
    refuse_unknown_fields(data, CONTACT_FIELDS)
    contact = lock_visible(Contact.objects.visible_to(actor), contact.pk)
    if version is not None and version != contact.version:
        raise StaleVersion(
            _("This contact was changed by someone else meanwhile. Reload it and apply your changes again."),
            current_version=contact.version,
        )
    assign_fields(contact, data)
    _prepare_contact(contact, actor)
    contact.version += 1
    save_with_history(contact, actor)
    return contact


@transaction.atomic
def contact_delete(*, actor: User, contact: Contact) -> None:
    require(policies.may_delete_contact(actor, contact))
    """Move a contact to the recycle bin. Contacts that named it as successor lose the link
    (an open handover shows again); the restore gives it back to those still without one."""
    contact = lock_visible(Contact.objects.visible_to(actor), contact.pk)
    bin_item(contact, actor=actor, at=timezone.now())
    predecessors = list(Contact.objects.filter(successor=contact).values_list("pk", flat=True))
    Contact.objects.filter(pk__in=predecessors).update(successor=None)
    bin_event(AuditEvent.Kind.BINNED, contact, actor=actor, predecessors=predecessors)

