"""A month's visit plan for one person. Pure: no database, no clock.

Each account needs a number of visits in the month (from the cadence of its tier). The
visits go on working days only, at most `daily_max` a day; one account's visits are
spread over the month and kept `min_gap_days` apart (also from its last visit before
the month); accounts of one region share days, so a day out covers one area. The
accounts longest without a visit are placed first, so when the month is too short for
everything it is the recently visited ones that wait. What does not fit is reported.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

# Weights of the day choice: sharing a day with the same region beats being near the ideal
# day; mixing regions on one day is avoided while another day is free.
SAME_REGION_BONUS = 10
OTHER_REGION_PENALTY = 6


@dataclass(frozen=True)
class PlanAccount:
    account_id: int
    required: int  # visits this month
    region: str = ""  # accounts with the same key are grouped on the same days
    last_visit: date | None = None


@dataclass(frozen=True)
class PlannedVisit:
    account_id: int
    day: date
    region: str = ""


@dataclass
class VisitPlan:
    visits: list[PlannedVisit] = field(default_factory=list)
    # account id → visits it needed but did not get
    unplaced: dict[int, int] = field(default_factory=dict)
    capacity: int = 0  # working days × daily maximum
    required: int = 0
    # Filled in when the plan is kept as tasks: account names, tasks kept, created, removed.
    names: dict[int, str] = field(default_factory=dict)
    kept: int = 0
    created: int = 0
    removed: int = 0

    @property
    def placed(self) -> int:
        return len(self.visits)

    def by_day(self) -> dict[date, list[PlannedVisit]]:
        days: dict[date, list[PlannedVisit]] = defaultdict(list)
        for visit in self.visits:
            days[visit.day].append(visit)
        return dict(sorted(days.items()))


def _urgency(account: PlanAccount) -> tuple:
    # Never visited first, then the longest since the last visit; ties by id, so plans repeat.
    return (account.last_visit is not None, account.last_visit or date.min, account.account_id)


@dataclass
class _DayChoice:
    """Which day suits one visit best, given what is placed so far."""

    days: list[date]
    load: list[int]
    regions_on: list[Counter]
    daily_max: int
    gap: int
    earlier: list[date]
    region: str
    ideal: float

    def allowed(self, i: int) -> bool:
        return self.load[i] < self.daily_max and all(
            abs((self.days[i] - other).days) >= self.gap for other in self.earlier)

    def cost(self, i: int) -> float:
        same = self.regions_on[i][self.region]
        other = sum(self.regions_on[i].values()) - same
        return (abs(i - self.ideal) - SAME_REGION_BONUS * (same > 0) + OTHER_REGION_PENALTY * (other > 0)
                + i / (10 * len(self.days)))

    def best(self, candidates) -> int | None:
        return min((i for i in candidates if self.allowed(i)), key=self.cost, default=None)


def plan_visits(
    accounts: list[PlanAccount], *, days: list[date], daily_max: int, min_gap_days: int = 7
) -> VisitPlan:
    """Place the accounts' required visits on `days` (the month's working days, in order)."""
    days = sorted(days)
    n = len(days)
    plan = VisitPlan(capacity=n * max(daily_max, 0), required=sum(max(a.required, 0) for a in accounts))
    wanted = [a for a in accounts if a.required > 0]
    if not n or daily_max <= 0:
        plan.unplaced = {a.account_id: a.required for a in wanted}
        return plan
    span = (days[-1] - days[0]).days + 1
    load = [0] * n
    regions_on: list[Counter] = [Counter() for _ in range(n)]
    placed_on: dict[int, list[date]] = defaultdict(list)
    missing: Counter = Counter()

    # Regions with the most urgent account first; within a region, the most urgent first.
    region_rank = {}
    for account in sorted(wanted, key=_urgency):
        region_rank.setdefault(account.region, len(region_rank))
    ordered = sorted(wanted, key=lambda a: (region_rank[a.region], _urgency(a)))

    rounds = max((a.required for a in wanted), default=0)
    for k in range(rounds):  # every account's first visit before anyone's second
        for account in ordered:
            if k >= account.required:
                continue
            required = account.required
            gap = max(1, min(min_gap_days, span // required))
            lo = k * n // required
            hi = max(lo, (k + 1) * n // required - 1)
            earlier = placed_on[account.account_id] + ([account.last_visit] if account.last_visit else [])
            choose = _DayChoice(days=days, load=load, regions_on=regions_on, daily_max=daily_max, gap=gap,
                                earlier=earlier, region=account.region, ideal=(lo + hi) / 2)
            # Within the account's share of the month; when that is full, anywhere it still fits.
            choice = choose.best(range(lo, min(hi, n - 1) + 1))
            if choice is None:
                choice = choose.best(range(n))
            if choice is None:
                missing[account.account_id] += 1
                continue
            load[choice] += 1
            regions_on[choice][account.region] += 1
            placed_on[account.account_id].append(days[choice])
            plan.visits.append(PlannedVisit(account_id=account.account_id, day=days[choice], region=account.region))
    plan.visits.sort(key=lambda v: (v.day, v.region, v.account_id))
    plan.unplaced = dict(missing)
    return plan


def visits_due_in_month(*, count: int, period_months: int, month_index: int, done_in_period: int) -> int:
    """Visits an account still owes by the end of the `month_index`-th month (0-based) of its
    standard's calendar period, for `count` visits per `period_months` months: the period's
    visits fall due as early as they can (ceil), less those already made in the period.
    Two a quarter: 1 in the first month, 2 by the second; one a quarter: 1 in the first."""
    if count <= 0 or period_months <= 0:
        return 0
    owed = -(-count * (month_index + 1) // period_months)
    return max(0, owed - done_in_period)
