"""Read side of staffing: the load of each tier, the hours of the work, and managers required
vs present per unit of the user's subtree."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Sum

from kam.activities.models import ServiceStandard
from kam.activities.staffing import policies
from kam.activities.staffing.workload import (
    Factors,
    Staffing,
    TierLoad,
    WorkHours,
    after_churn,
    grown,
    spread_growth,
    staffing_need,
)
from kam.core import summaries
from kam.core.conf import config
from kam.core.models import OrgUnit, Role
from kam.tiering.models import Scheme, Snapshot, SnapshotEntry, SnapshotState, TierCount
from kam.tiering.summaries import TIER_COUNTS

User = get_user_model()


def tier_loads(scheme: Scheme) -> dict[str, TierLoad]:
    """What one account of each tier of `scheme` asks for in a year, from its service standard:
    visits and calls per period scaled to twelve months, value reports, support hours."""
    loads = {}
    for s in ServiceStandard.objects.filter(scheme=scheme):
        loads[s.tier] = TierLoad(
            tier=s.tier, visits=Decimal(s.visits * 12) / s.visit_period, calls=Decimal(s.calls * 12) / s.call_period,
            reports=Decimal(12) / s.value_report_months if s.value_report_months else Decimal(0),
            support_hours=Decimal(s.support_hours_per_year),
        )
    return loads


def work_hours() -> WorkHours:
    settings = config()
    return WorkHours(per_visit=settings.STAFFING_HOURS_PER_VISIT, per_call=settings.STAFFING_HOURS_PER_CALL,
                     per_report=settings.STAFFING_HOURS_PER_REPORT,
                     per_manager_year=settings.STAFFING_HOURS_PER_MANAGER_YEAR)


def default_factors() -> Factors:
    settings = config()
    return Factors(grade=settings.STAFFING_GRADE, support_share=settings.STAFFING_SUPPORT_SHARE,
                   peak=settings.STAFFING_PEAK_SHARE, churn=settings.STAFFING_CHURN_SHARE)


@dataclass
class UnitStaffing:
    unit: OrgUnit
    now: Staffing  # by the tier counts alone
    next_year: Staffing | None = None
    weighed: Staffing | None = None  # the same accounts with the factors weighed
    weighed_next_year: Staffing | None = None


def staffing_units(*, user: Any, unit: OrgUnit | None = None) -> list[OrgUnit]:
    """The unit `user` asks about (default: their own) and its direct sub-units, if `user` may
    see staffing and sees that unit; [] otherwise."""
    unit = unit or user.unit
    if unit is None or not policies.may_view_staffing(user):
        return []
    if not (user.sees_everything or unit.pk in user.visible_unit_ids):
        return []
    return [unit, *OrgUnit.objects.filter(parent=unit, is_active=True).order_by("code")]


def _tier_counts(snapshot_id: int, unit_ids: list[int]) -> list[tuple[int, str, int]]:
    """The snapshot's live accounts per unit (of `unit_ids`) and tier: summed from the tiering
    read model (TierCount, per unit and owner), or with KAM_READ_MODELS=0 counted over the
    snapshot's entries."""
    if config().READ_MODELS:
        summaries.refresh(TIER_COUNTS)
        return list(TierCount.objects.filter(snapshot_id=snapshot_id, unit_id__in=unit_ids).values("unit_id", "tier")
                    .order_by().annotate(n=Sum("accounts")).values_list("unit_id", "tier", "n"))
    return list(SnapshotEntry.objects.filter(snapshot_id=snapshot_id, account__deleted_at__isnull=True,
                                             account__unit_id__in=unit_ids)
                .values("account__unit_id", "tier").order_by().annotate(n=Count("id"))
                .values_list("account__unit_id", "tier", "n"))


def staffing_for(*, user: Any, unit: OrgUnit | None, scheme: Scheme,
                 growth: dict[str, int] | int | None = None, factors: Factors | None = None) -> list[UnitStaffing]:
    """Managers required vs present for `unit` (first) and each of its sub-units, each over its
    subtree: accounts per tier from the scheme's latest finished snapshot, managers present =
    active specialists and key-account managers. With `growth` (per tier, or a total shared
    like today's counts), the first row also carries next year's need."""
    units = staffing_units(user=user, unit=unit)
    if not units:
        return []
    top = units[0]
    paths = dict(OrgUnit.objects.filter(path__startswith=top.path).values_list("pk", "path"))

    def owners(unit_id: int) -> list[OrgUnit]:
        # the listed units whose subtree holds `unit_id`
        path = paths.get(unit_id, "")
        return [u for u in units if path.startswith(u.path)]

    snapshot = (Snapshot.objects.filter(scheme=scheme, state=SnapshotState.DONE).order_by("-as_of", "-id").first())
    tiers: dict[int, Counter[str]] = {u.pk: Counter() for u in units}
    if snapshot is not None:
        for unit_id, tier, n in _tier_counts(snapshot.pk, list(paths)):
            for u in owners(unit_id):
                tiers[u.pk][tier] += n
    present: Counter[int] = Counter()
    people = (User.objects.filter(is_active=True, role__in=[Role.SPECIALIST, Role.MANAGER], unit_id__in=list(paths))
              .values("unit_id").order_by().annotate(n=Count("id")).values_list("unit_id", "n"))
    for unit_id, n in people:
        for u in owners(unit_id):
            present[u.pk] += n
    loads, hours = tier_loads(scheme), work_hours()
    order = {code: i for i, code in enumerate(scheme.tier_codes)}

    def ordered(counts: dict[str, int]) -> dict[str, int]:
        return dict(sorted(counts.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))

    factors = factors or default_factors()
    result = [UnitStaffing(unit=u, now=staffing_need(accounts=ordered(tiers[u.pk]), loads=loads, hours=hours,
                                                   present=present[u.pk]),
                           weighed=staffing_need(accounts=ordered(tiers[u.pk]), loads=loads, hours=hours,
                                                 present=present[u.pk], factors=factors)) for u in units]
    if growth is not None:
        counts = ordered(tiers[top.pk])
        if isinstance(growth, int):
            growth = spread_growth({t: n for t, n in counts.items() if t in loads} or counts, growth)
        result[0].next_year = staffing_need(accounts=ordered(grown(counts, growth)), loads=loads, hours=hours,
                                            present=present[top.pk])
        result[0].weighed_next_year = staffing_need(
            accounts=ordered(grown(after_churn(counts, factors.churn), growth)), loads=loads, hours=hours,
            present=present[top.pk], factors=factors)
    return result
