"""Who may change an account's team."""

from __future__ import annotations

from typing import Any

from kam.accounts.models import Account
from kam.accounts.policies import may_write_accounts


def may_manage_team(user: Any, obj: Account | None = None) -> bool:
    return may_write_accounts(user)
