"""Who may record a satisfaction survey: the service enforces it, the card and the API ask."""

from __future__ import annotations

from typing import Any

from kam.accounts.models import Account
from kam.core.models import Role
from kam.core.policies import is_active_user


def may_add_survey(user: Any, account: Account) -> bool:
    """Whoever may change the account (sees it) records what it answered; analysts read only."""
    if not is_active_user(user) or (user.role == Role.ANALYST and not user.is_superuser):
        return False
    return Account.objects.visible_to(user).filter(pk=account.pk).exists()
