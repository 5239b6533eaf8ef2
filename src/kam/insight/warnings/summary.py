"""The warnings page's read model: the open warnings per unit, owner and severity of the
accounts a user sees, summed from WarningCount rows rather than counted over the warnings on
every request (kam.core.summaries explains the mechanism). The sweep and the retention actions
mark the accounts whose warnings they open or close ("warnings"); a rule's changed severity
marks the model stale; a change of an account's unit or owner moves it between groups
("accounts")."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Value
from django.db.models.functions import Coalesce

from kam.accounts.models import Account
from kam.core import summaries
from kam.insight.models import Warning, WarningCount

WARNING_COUNTS = "warning-counts"


def warning_counts(accounts) -> list[WarningCount]:
    """The rows of `accounts` (live ones): their open warnings per unit, owner and severity."""
    rows = (Warning.objects.open().filter(account__in=accounts.values("pk"))
            .annotate(unit=Coalesce("account__unit_id", Value(0)),
                      owner=Coalesce("account__owner_id", Value(summaries.NO_OWNER)))
            .values_list("unit", "owner", "severity").annotate(n=Count("id")).order_by())
    return [WarningCount(unit_id=unit, owner_id=owner, severity=severity, warnings=n)
            for unit, owner, severity, n in rows]


def register() -> None:
    summaries.register(summaries.Summary(
        code=WARNING_COUNTS, model=WarningCount, facts=frozenset({"accounts", "warnings"}), compute=warning_counts,
        accounts=Account.objects.alive, visible=Account.objects.visible_to,
        team_only=Account.objects.seen_only_through_team))
    summaries.watch(Warning, "warnings")


def visible_counts(user: Any) -> tuple[list[tuple[int, int, str, int]], Any]:
    """(unit, owner, severity, open warnings) of the accounts `user` sees, and when the figures
    were true."""
    read = summaries.figures(WARNING_COUNTS, user)
    return [(r.unit_id, r.owner_id, r.severity, r.warnings) for r in read.rows], read.as_of
