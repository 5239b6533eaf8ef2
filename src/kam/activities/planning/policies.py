"""Who may plan whose visits."""

from __future__ import annotations

from typing import Any

from kam.activities.policies import manages
from kam.core.policies import is_active_user


def may_plan_for(user: Any, person: Any = None) -> bool:
    """People plan their own visits; managers and HQ plan for the active people of their units.
    Without `person`: whether `user` may plan at all (their own visits)."""
    if not is_active_user(user):
        return False
    if person is None or person.pk == user.pk:
        return True
    return bool(person.is_active) and manages(user, person)
