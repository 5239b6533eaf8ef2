"""Who may record a retention action, evaluate the warnings of many accounts and change the
rules: the services enforce these, the pages and the API ask them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kam.accounts.models import Account
from kam.core.bulk import chunks
from kam.core.models import Role
from kam.core.policies import is_active_user, is_hq
from kam.insight.models import Warning

# Besides headquarters, who evaluate the warnings of every account they see at once.
EVALUATING_ROLES = frozenset({Role.MANAGER, Role.DIRECTOR, Role.GENERAL_MANAGER})


def may_record(user: Any, warning: Warning) -> bool:
    """The owner, and whoever may change the account (sees it), record a retention action;
    analysts read only."""
    return may_record_accounts(user, {warning.account_id})


def may_record_accounts(user: Any, account_ids: Iterable[int]) -> bool:
    """may_record for the warnings of all these accounts at once."""
    if not is_active_user(user) or (user.role == Role.ANALYST and not user.is_superuser):
        return False
    wanted = sorted(set(account_ids))
    seen = 0
    for part in chunks(wanted):
        seen += Account.objects.visible_to(user).filter(pk__in=part).count()
    return seen == len(wanted)


def may_evaluate_many(user: Any) -> bool:
    """Managers and headquarters evaluate now the warnings of all the accounts they see."""
    return is_hq(user) or (is_active_user(user) and user.role in EVALUATING_ROLES)


def may_edit_rules(user: Any) -> bool:
    """Headquarters switch the rules, set their severity and thresholds."""
    return is_hq(user)
