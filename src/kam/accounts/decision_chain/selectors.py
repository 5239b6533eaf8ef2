"""The decision chain of one account, read from the contacts the user sees."""

from __future__ import annotations

from kam.accounts.contacts.selectors import account_contacts
from kam.accounts.decision_chain.rules import DecisionChain, decision_chain
from kam.accounts.models import Account
from kam.core.conf import config
from kam.core.models import User


def account_decision_chain(*, user: User, account: Account) -> DecisionChain:
    return decision_chain(
        account_contacts(user=user, account=account),
        min_active_contacts=config().MIN_ACTIVE_CONTACTS,
    )

