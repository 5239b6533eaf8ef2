"""Staffing (客户经理配备): how many account managers a unit's accounts need. Pure arithmetic.

hours a tier needs a year = accounts × (visits × hours per visit + calls × hours per call
                                         + reports × hours per report + support hours)
managers required = Σ tiers' hours ÷ hours one manager has a year
The gap next year adds the expected new accounts per tier to this year's counts.

That is the tier-only figure the source calls "并不妥" on its own; `Factors` weigh the rest
(each shown and editable beside it): the managers' grade (how much of a standard load one
carries), the share of support hours the back office and technical staff carry, a margin for
demand peaks, and the share of accounts expected to leave next year:

hours (all factors) = Σ accounts × (visits × h + calls × h + reports × h + support × (1 − support share))
                      × (1 + peak margin)
managers required (all factors) = hours ÷ (hours one manager has × grade)
next year's accounts = this year's × (1 − churn share) + the expected new ones
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class WorkHours:
    """The hours one contact of each kind takes, including travel and write-up; one manager's year."""

    per_visit: Decimal
    per_call: Decimal
    per_report: Decimal
    per_manager_year: Decimal


@dataclass(frozen=True)
class TierLoad:
    """What one account of a tier asks for in a year (from the tier's service standard)."""

    tier: str
    visits: Decimal
    calls: Decimal
    reports: Decimal
    support_hours: Decimal = Decimal(0)

    def hours_per_account(self, hours: WorkHours, support_share: Decimal = Decimal(0)) -> Decimal:
        return (self.visits * hours.per_visit + self.calls * hours.per_call
                + self.reports * hours.per_report + self.support_hours * (1 - support_share))


@dataclass(frozen=True)
class Factors:
    """What staffing weighs besides the tier counts (neutral values give the tier-only figure)."""

    grade: Decimal = Decimal(1)  # the share of a standard load one manager of the team carries
    support_share: Decimal = Decimal(0)  # of the support hours, carried by back office and technical staff
    peak: Decimal = Decimal(0)  # extra share of hours for demand peaks
    churn: Decimal = Decimal(0)  # share of accounts expected to leave next year


@dataclass(frozen=True)
class TierNeed:
    tier: str
    accounts: int
    hours_per_account: Decimal
    hours: Decimal


@dataclass
class Staffing:
    tiers: list[TierNeed] = field(default_factory=list)
    hours: Decimal = Decimal(0)
    required: Decimal = Decimal(0)  # managers, to two places
    present: int = 0

    @property
    def required_headcount(self) -> int:
        """Whole people: a fraction of a workload still needs someone."""
        return math.ceil(self.required)

    @property
    def gap(self) -> int:
        """Managers missing (positive) or spare (negative)."""
        return self.required_headcount - self.present

    @property
    def accounts(self) -> int:
        return sum(t.accounts for t in self.tiers)


def _d(value) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def staffing_need(*, accounts: dict[str, int], loads: dict[str, TierLoad], hours: WorkHours,
                  present: int = 0, factors: Factors | None = None) -> Staffing:
    """Managers needed for `accounts` (tier → count), by the tier counts alone or, with
    `factors`, weighing them too. A tier without a load needs no hours (it has no service
    standard): it is listed, with nothing to do."""
    factors = factors or Factors()
    result = Staffing(present=present)
    for tier, count in accounts.items():
        load = loads.get(tier)
        per_account = (load.hours_per_account(hours, factors.support_share) * (1 + factors.peak)
                       if load else Decimal(0))
        need = TierNeed(tier=tier, accounts=count, hours_per_account=per_account, hours=per_account * count)
        result.tiers.append(need)
        result.hours += need.hours
    capacity = _d(hours.per_manager_year) * factors.grade
    if capacity > 0:
        result.required = (result.hours / capacity).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return result


def after_churn(accounts: dict[str, int], churn: Decimal) -> dict[str, int]:
    """Next year's accounts per tier before the new ones: those expected to stay (rounded)."""
    return {tier: int((n * (1 - churn)).to_integral_value(ROUND_HALF_UP)) for tier, n in accounts.items()}


def grown(accounts: dict[str, int], growth: dict[str, int]) -> dict[str, int]:
    """Next year's accounts per tier: this year's plus the expected growth (may be negative)."""
    tiers = dict.fromkeys([*accounts, *growth], 0)
    return {tier: max(0, accounts.get(tier, 0) + growth.get(tier, 0)) for tier in tiers}


def spread_growth(accounts: dict[str, int], total: int) -> dict[str, int]:
    """`total` new accounts shared over the tiers in proportion to today's counts (largest
    remainders), so that the shares add up exactly; all in the first tier when there are none."""
    if not accounts:
        return {}
    count = sum(accounts.values())
    if count == 0:
        first = next(iter(accounts))
        return {tier: (total if tier == first else 0) for tier in accounts}
    exact = {tier: Decimal(total) * n / count for tier, n in accounts.items()}
    shares = {tier: int(value.to_integral_value(ROUND_FLOOR)) for tier, value in exact.items()}
    left = total - sum(shares.values())
    for tier in sorted(exact, key=lambda t: (exact[t] - shares[t]), reverse=True)[:left]:
        shares[tier] += 1
    return shares
