"""The opportunity list's read model: how many of the opportunities a user sees are in each
stage, and their amount — the totals above the list (and its count) summed from StageCount
rows rather than counted over every visible opportunity on each request (kam.core.summaries
explains the mechanism). A filtered list counts its own rows.

An opportunity's change — created, moved between stages, re-valued, deleted — marks its
account ("opportunities", as for the analytics); a change of an account's unit or owner moves
it between groups ("accounts").
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Sum, Value
from django.db.models.functions import Coalesce

from kam.accounts.models import Account
from kam.core import summaries
from kam.sales.models import Opportunity, StageCount

STAGE_COUNTS = "stage-counts"
ZERO = Decimal("0.00")


def stage_counts(accounts) -> list[StageCount]:
    """The rows of the live opportunities of `accounts` (live ones)."""
    rows = (Opportunity.objects.alive().filter(account__in=accounts.values("pk"))
            .annotate(group_unit=Coalesce("account__unit_id", Value(0)),
                      group_owner=Coalesce("account__owner_id", Value(summaries.NO_OWNER)))
            .values_list("group_unit", "group_owner", "stage").annotate(n=Count("id"), total=Sum("amount")).order_by())
    return [StageCount(unit_id=unit, owner_id=owner, stage=stage, opportunities=n, amount=total or ZERO)
            for unit, owner, stage, n, total in rows]


def register() -> None:
    summaries.register(summaries.Summary(
        code=STAGE_COUNTS, model=StageCount, facts=frozenset({"accounts", "opportunities"}), compute=stage_counts,
        accounts=Account.objects.alive, visible=Account.objects.visible_to,
        team_only=Account.objects.seen_only_through_team, measures=("opportunities", "amount")))


def visible_stage_counts(user) -> dict[str, tuple[int, Decimal]]:
    """Per stage: the opportunities `user` sees and their amount."""
    found: dict[str, tuple[int, Decimal]] = {}
    for row in summaries.figures(STAGE_COUNTS, user, by_owner=False).rows:
        held = found.get(row.stage, (0, ZERO))
        found[row.stage] = (held[0] + row.opportunities, held[1] + row.amount)
    return found
