"""Who may change the service standards (company-wide configuration)."""

from __future__ import annotations

from typing import Any

from kam.core.policies import is_hq


def may_change_standards(user: Any, standard: Any = None) -> bool:
    """Headquarters set what each tier is owed; everyone reads the standards."""
    return is_hq(user)


def may_create_reminders(user: Any, obj: Any = None) -> bool:
    """The cadence reminders cover every owner's accounts: the system runs them as an administrator (HQ)."""
    return is_hq(user)
