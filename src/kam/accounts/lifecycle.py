"""Customer states (客户状态) that follow events: the one place that moves `lifecycle_status`
when something happens elsewhere.

待识别 unidentified → 潜在 prospect → 销售机会 opportunity → 订单客户 ordered → 用户 active
→ 流失 churned. A won opportunity makes the account ordered (a churned one too: it is won
back); its first revenue after that makes it active; a churn event makes it churned and its
recovery active again. Every move leaves a history row that names its cause, so conversion
metrics read real moves. A user may still set a state by hand on the account's form (with a
reason: the history keeps it); the events move it on from there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from kam.accounts.models import Account, LifecycleStatus
from kam.core import summaries
from kam.core.bulk import insert_history

S = LifecycleStatus


@dataclass(frozen=True)
class Move:
    """What an event does to the state: from which states, to which."""

    from_states: frozenset[str]
    to: str


MOVES = {
    "won": Move(frozenset({S.UNIDENTIFIED, S.PROSPECT, S.OPPORTUNITY, S.CHURNED}), S.ORDERED),
    "revenue": Move(frozenset({S.ORDERED}), S.ACTIVE),
    "churned": Move(frozenset({S.UNIDENTIFIED, S.PROSPECT, S.OPPORTUNITY, S.ORDERED, S.ACTIVE}), S.CHURNED),
    "recovered": Move(frozenset({S.CHURNED}), S.ACTIVE),
}


def lifecycle_follow(*, event: str, accounts: Iterable[int], cause: str, actor: Any = None,
                     batch: int = 1000) -> int:
    """Move the live accounts `accounts` (ids) as `event` says (won, revenue, churned,
    recovered), in the caller's transaction; those in another state stay where they are.
    Each move bumps the account's version (an open edit form then asks to reload) and leaves
    a history row by `actor` (None: the system) whose reason is `cause`. Returns how many moved."""
    move = MOVES[event]
    ids = sorted(set(accounts))
    moved = 0
    with transaction.atomic():
        for k in range(0, len(ids), batch):
            found = list(Account.objects.alive().select_for_update()
                         .filter(pk__in=ids[k:k + batch], lifecycle_status__in=list(move.from_states)).order_by("pk"))
            for account in found:  # locked: the version cannot move under us
                account.lifecycle_status = move.to
                account.version += 1
            if found:
                # One UPDATE for the batch (every account takes the same state, and its version
                # one up), not bulk_update's CASE with a branch per account.
                Account.objects.filter(pk__in=[a.pk for a in found]).update(lifecycle_status=move.to,
                                                                             version=F("version") + 1)
                insert_history(Account, found, user=actor, reason=cause[:100])
                summaries.touch("accounts", (a.pk for a in found))
            moved += len(found)
    return moved


def became_ordered_on(account_ids: Iterable[int]) -> dict[int, date]:
    """For each of `account_ids` that is ordered, the day (Asia/Shanghai) it last became
    ordered, read from its history."""
    ids = list(Account.objects.filter(pk__in=list(account_ids), lifecycle_status=S.ORDERED).values_list("pk", flat=True))
    found: dict[int, date] = {}
    before: dict[int, str] = {}
    rows = (Account.history.filter(id__in=ids).order_by("id", "history_date", "history_id")
            .values_list("id", "history_date", "lifecycle_status"))
    for pk, when, status in rows.iterator():
        if status == S.ORDERED and before.get(pk) != S.ORDERED:
            found[pk] = timezone.localdate(when)
        before[pk] = status
    return found
