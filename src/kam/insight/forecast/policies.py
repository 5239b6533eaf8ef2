"""Who may refit the customer-base models: the service enforces it, the models page asks."""

from __future__ import annotations

from typing import Any

from kam.core.policies import is_hq


def may_refit(user: Any) -> bool:
    """Headquarters refit the models now (every account's scores change)."""
    return is_hq(user)
