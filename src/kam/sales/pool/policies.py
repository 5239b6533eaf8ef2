"""Who may do what with the public pool: services enforce these, pages and the API ask them."""

from __future__ import annotations

from typing import Any

from kam.accounts.models import Account
from kam.accounts.policies import may_write_accounts
from kam.core.models import Role

# Roles that hold accounts and so may take one from the pool.
CLAIMING_ROLES = frozenset({Role.SPECIALIST, Role.MANAGER, Role.DIRECTOR})
MANAGING_ROLES = frozenset({Role.MANAGER, Role.DIRECTOR, Role.GENERAL_MANAGER})


def may_see_pool(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active
                and (user.sees_everything or user.unit_id is not None))


def may_claim(user: Any) -> bool:
    return may_see_pool(user) and user.role in CLAIMING_ROLES and user.unit_id is not None


def may_assign(user: Any) -> bool:
    """Managers over the account's units and HQ (but not its read-only analysts) hand out pool accounts."""
    return may_see_pool(user) and may_write_accounts(user) and (user.sees_everything or user.role in MANAGING_ROLES)


def may_release(user: Any, account: Account) -> bool:
    """The owner, managers of the units above the account and HQ put an account in the pool."""
    if account.owner_id is None or not may_see_pool(user) or not may_write_accounts(user):
        return False
    if account.owner_id == user.pk or user.sees_everything:
        return True
    return user.role in MANAGING_ROLES and account.unit_id in user.visible_unit_ids
