"""Who may change what counts as churn, mark an account as moved to a competitor and classify
an event: the services enforce these, the pages and the API ask them."""

from __future__ import annotations

from typing import Any

from kam.accounts.models import Account, AccountTeamMember
from kam.core.models import Role
from kam.core.policies import is_active_user, is_hq
from kam.insight.models import ChurnDefinition

# Who may mark an account as moved to a competitor besides its owner and team.
MARKING_ROLES = frozenset({Role.MANAGER, Role.DIRECTOR, Role.GENERAL_MANAGER, Role.ADMIN})


def may_edit_definitions(user: Any, definition: ChurnDefinition | None = None) -> bool:
    """Headquarters (and administrators) set what counts as churn."""
    return is_hq(user)


def _sees(user: Any, account: Account) -> bool:
    return Account.objects.visible_to(user).filter(pk=account.pk).exists()


def may_mark(user: Any, account: Account) -> bool:
    """The owner, the account team, and managers (and above) who see the account."""
    if not is_active_user(user) or not _sees(user, account):
        return False
    return bool(account.owner_id == user.pk or user.is_superuser or user.role in MARKING_ROLES
                or AccountTeamMember.objects.filter(account=account, user=user).exists())


def may_classify(user: Any, account: Account) -> bool:
    """Whoever may change the account (sees it) sets an event's reason, competitor and note."""
    return is_active_user(user) and _sees(user, account)
