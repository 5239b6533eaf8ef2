"""Who may move accounts to the recycle bin and take accounts and contacts out of it."""

from __future__ import annotations

from typing import Any

from kam.accounts.models import Account, Contact
from kam.accounts.policies import may_write_accounts


def may_delete_account(user: Any, obj: Account | None = None) -> bool:
    return may_write_accounts(user)


def may_restore(user: Any, obj: Account | Contact | None = None) -> bool:
    return may_write_accounts(user)
