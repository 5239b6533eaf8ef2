"""Domain errors. Views and the API turn these into responses in one place each."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _


class DomainError(Exception):
    """A business rule refused the action. `errors` maps field name → messages."""

    status = 400

    def __init__(self, message: str, *, errors: dict[str, list[str]] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
        self.extra = extra


class ValidationFailed(DomainError):
    status = 422


def refused(field: str, message: str) -> ValidationFailed:
    """The refusal of one field's value, under the forms' usual heading."""
    return ValidationFailed(_("Please correct the errors below."), errors={field: [message]})


class NotVisible(DomainError):
    """The object does not exist for this user. Always 404, so ids do not leak."""

    status = 404


class PermissionDenied(DomainError):
    status = 403


class Conflict(DomainError):
    """The record changed since the client read it (optimistic lock) or already exists."""

    status = 409


class StaleVersion(Conflict):
    status = 412
