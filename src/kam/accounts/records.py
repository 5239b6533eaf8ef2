"""What every accounts service shares: field assignment, locking a visible row, saving with
its history, and turning Django's validation errors into the domain's."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _

from kam.core.errors import NotVisible, ValidationFailed


def validation_failed(exc: ValidationError) -> ValidationFailed:
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return ValidationFailed(_("Please correct the errors below."), errors=errors)


def refuse_unknown_fields(data: dict[str, Any], allowed: frozenset[str]) -> None:
    if unknown := sorted(set(data) - allowed):
        raise ValidationFailed(
            _("These fields cannot be set: %(fields)s.") % {"fields": ", ".join(unknown)},
            errors={name: [_("This field cannot be set.")] for name in unknown},
        )


def assign_fields(obj: Model, data: dict[str, Any]) -> None:
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


def save_with_history(obj: Model, actor: Any) -> None:
    obj._history_user = actor
    obj.save()


def lock_visible(queryset: QuerySet, pk: int) -> Any:
    obj = queryset.select_for_update(of=("self",)).filter(pk=pk).first()
    if obj is None:
        raise NotVisible(_("Not found."))
    return obj

