"""Who owns an account: the accounts app's one way to change `owner`, `unit` and `pooled_at`.

Other apps (the public pool of sales) change ownership only through these functions, which
bump the account's version (so an edit form read before the change is refused as stale) and
write the field history with who did it and why. They check nothing about the actor: the
caller's service has already decided the change is allowed and holds the rows locked.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from simple_history.utils import bulk_update_with_history

from kam.accounts.models import Account
from kam.core import summaries
from kam.core.models import OrgUnit


def give_owner(*, actor: Any, account: Account, owner: Any, unit: OrgUnit, reason: str) -> Account:
    """`account` now belongs to `owner` in `unit` and is out of the public pool."""
    account.owner, account.unit, account.pooled_at = owner, unit, None
    account.version += 1
    account._history_user = actor  # type: ignore[attr-defined]
    account._change_reason = reason  # type: ignore[attr-defined]
    account.save()
    return account


def release_to_pool(*, actor: Any, account: Account, now: datetime, reason: str) -> Account:
    """`account` loses its owner and enters the public pool at `now` (by hand)."""
    account.owner, account.pooled_at = None, now
    account.version += 1
    account._history_user = actor  # type: ignore[attr-defined]
    account._change_reason = reason  # type: ignore[attr-defined]
    account.save()
    return account


def return_to_pool(accounts: Sequence[Account], *, now: datetime, reason: str) -> None:
    """The nightly return of `accounts` to the public pool, in one bulk write with history."""
    for account in accounts:
        account.owner, account.pooled_at, account.updated_at = None, now, now
        account.version += 1
    if accounts:
        bulk_update_with_history(list(accounts), Account, ["owner", "pooled_at", "updated_at", "version"],
                                 default_user=None, default_change_reason=reason, default_date=now)
        summaries.touch("accounts", (a.pk for a in accounts))
