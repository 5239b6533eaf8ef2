"""Who may see the staffing page (客户经理配备)."""

from __future__ import annotations

from typing import Any

from kam.core.policies import is_active_user, is_specialist


def may_view_staffing(user: Any, obj: Any = None) -> bool:
    """Managers, directors and HQ weigh their units' staffing; a specialist has no unit to staff."""
    return is_active_user(user) and (not is_specialist(user) or bool(user.sees_everything))
