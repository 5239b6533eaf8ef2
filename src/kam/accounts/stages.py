"""Relationship stages (全生命周期) from the signing date. Pure: dates in, stage out.

初步合作期 initial until `stable` months after signing, 稳定合作期 stable until `deep`
months, 深度绑定期 deep until `symbiosis` months, 价值共生期 symbiosis after that. The
month counts are settings (STAGE_*_AFTER_MONTHS); a stage begins on the same day of the
month as the signing (the month's last day when that day does not exist).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from simple_history.utils import bulk_update_with_history

from kam.accounts.models import Account, RelationshipStage

ORDER: list[str] = [RelationshipStage.INITIAL, RelationshipStage.STABLE, RelationshipStage.DEEP, RelationshipStage.SYMBIOSIS]


@dataclass(frozen=True)
class StageBoundaries:
    """Months after signing at which each later stage begins."""

    stable: int = 3
    deep: int = 12
    symbiosis: int = 36

    @classmethod
    def from_settings(cls) -> StageBoundaries:
        from kam.core.conf import config

        return cls(stable=config().STAGE_STABLE_AFTER_MONTHS, deep=config().STAGE_DEEP_AFTER_MONTHS,
                   symbiosis=config().STAGE_SYMBIOSIS_AFTER_MONTHS)

    def months(self, stage: str) -> int:
        months: dict[str, int] = {RelationshipStage.INITIAL: 0, RelationshipStage.STABLE: self.stable,
                                  RelationshipStage.DEEP: self.deep, RelationshipStage.SYMBIOSIS: self.symbiosis}
        return months[stage]


def add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def stage_on(signed_on: date | None, day: date, boundaries: StageBoundaries) -> str:
    """The stage on `day` of an account signed on `signed_on` ("" when not (yet) signed)."""
    if signed_on is None or day < signed_on:
        return RelationshipStage.NONE
    current: str = RelationshipStage.INITIAL
    for stage in ORDER[1:]:
        if day >= add_months(signed_on, boundaries.months(stage)):
            current = stage
    return current


def stage_span(signed_on: date, stage: str, boundaries: StageBoundaries) -> tuple[date, date | None]:
    """The first day of `stage` and the first day after it (None: the last stage never ends)."""
    start = add_months(signed_on, boundaries.months(stage))
    index = ORDER.index(stage)
    end = add_months(signed_on, boundaries.months(ORDER[index + 1])) if index + 1 < len(ORDER) else None
    return start, end


def set_relationship_stages(changes: Mapping[int, str], *, actor: Any = None) -> int:
    """Move the accounts of `changes` (account id → stage) into their new stages, in the
    caller's transaction; each change leaves a history row by `actor` (None: the system).
    Accounts already in their stage are left alone. Returns the number of accounts moved."""
    if not changes:
        return 0
    moved = [a for a in Account.objects.filter(pk__in=list(changes)).order_by("pk")
             if a.relationship_stage != changes[a.pk]]
    for account in moved:
        account.relationship_stage = changes[account.pk]
    if moved:
        bulk_update_with_history(moved, Account, ["relationship_stage"], default_user=actor)
    return len(moved)
