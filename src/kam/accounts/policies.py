"""Who may write the accounts app's records at all; each feature's policies.py builds on it.

What a user may *see* is `visible_to(user)`; these say what a user who sees a record may do.
Sales-ops analysts read everything and write nothing here.
"""

from __future__ import annotations

from typing import Any

from kam.core.models import Role
from kam.core.policies import is_active_user

READ_ONLY_ROLES = frozenset({Role.ANALYST})


def may_write_accounts(user: Any) -> bool:
    """An active user whose role keeps accounts (everyone but the read-only roles)."""
    return is_active_user(user) and (user.is_superuser or user.role not in READ_ONLY_ROLES)
