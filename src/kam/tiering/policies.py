"""Who may govern the tiering: compute and restart snapshots, try numbers (what-if), change a
scheme's numbers, fix the annual list and decide on its moves. Headquarters does; everyone sees
the tiers of the accounts they see."""

from __future__ import annotations

from typing import Any

from kam.accounts.card.policies import may_edit_account
from kam.core.policies import is_hq
from kam.tiering.models import Scheme, Snapshot


def may_compute_snapshot(user: Any, obj: Scheme | Snapshot | None = None) -> bool:
    return is_hq(user)


def may_run_what_if(user: Any, obj: Scheme | None = None) -> bool:
    return is_hq(user)


def may_edit_scheme(user: Any, obj: Scheme | None = None) -> bool:
    return is_hq(user)


def may_freeze_snapshot(user: Any, obj: Snapshot | None = None) -> bool:
    return is_hq(user)


def may_decide_move(user: Any, obj: Snapshot | None = None) -> bool:
    return is_hq(user)


def may_see_whole_curve(user: Any, obj: Snapshot | None = None) -> bool:
    """The Pareto curve of a snapshot spans every account of the scheme: headquarters sees it,
    others the distribution of the accounts they see."""
    return is_hq(user)


def may_rate_account(user: Any, obj: Any = None) -> bool:
    """Who rates an account's attractiveness: whoever may edit the account."""
    return may_edit_account(user, obj)
