"""Who may create and edit accounts (services enforce; pages and the API ask)."""

from __future__ import annotations

from typing import Any

from kam.accounts.models import Account
from kam.accounts.policies import may_write_accounts


def may_create_account(user: Any, obj: Account | None = None) -> bool:
    return may_write_accounts(user)


def may_edit_account(user: Any, obj: Account | None = None) -> bool:
    return may_write_accounts(user)


def may_import_accounts(user: Any, obj: Account | None = None) -> bool:
    """An account import creates and edits accounts: the same roles."""
    return may_write_accounts(user)
