"""What every feature's policies.py builds on.

A feature's `policies.py` answers "may this user do this action (on this object)?" with
functions named `may_<action>(user, obj=None) -> bool` and nothing else: no queries beyond what
the answer needs, no side effects. Services enforce them with `require(...)`, so a refused call
raises the domain error whoever calls (a view, the API, a command, a task); views, API handlers,
templates and the navigation ask the same functions to decide what to show. What a user may
*see* stays `visible_to(user)` on the model's queryset.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from kam.core.errors import PermissionDenied
from kam.core.models import Role


def require(allowed: bool, message: str | None = None) -> None:
    """Raise PermissionDenied (403) unless `allowed`."""
    if not allowed:
        raise PermissionDenied(message or _("You may not do this."))


def is_active_user(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def is_hq(user: Any) -> bool:
    """Head office's view of everything: directors, analysts, administrators."""
    return is_active_user(user) and bool(user.sees_everything)


def is_manager(user: Any) -> bool:
    return is_active_user(user) and user.role == Role.MANAGER


def is_specialist(user: Any) -> bool:
    return is_active_user(user) and user.role == Role.SPECIALIST


def may_read_audit(user: Any) -> bool:
    """The audit log and the login locks are the administrators'."""
    return is_active_user(user) and (user.is_superuser or user.role == Role.ADMIN)


def may_open_admin(user: Any) -> bool:
    """Django's administration site: its own rule, staff status."""
    return is_active_user(user) and bool(user.is_staff)
