"""Who may merge two records of one customer."""

from __future__ import annotations

from typing import Any

from kam.accounts.models import Account
from kam.accounts.policies import may_write_accounts


def may_merge_accounts(user: Any, obj: Account | None = None) -> bool:
    return may_write_accounts(user)
