"""Who may see and change the relationship playbooks (company-wide configuration)."""

from __future__ import annotations

from typing import Any

from kam.core.policies import is_hq


def may_view_playbooks(user: Any, obj: Any = None) -> bool:
    """The playbooks page is headquarters': they decide what every stage asks for."""
    return is_hq(user)


def may_change_playbooks(user: Any, obj: Any = None) -> bool:
    return is_hq(user)
