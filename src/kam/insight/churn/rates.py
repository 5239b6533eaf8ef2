"""Churn rates per period and their breakdowns, for the accounts a user sees.

The formulas, which the churn page repeats:

- The **active base** of a period starting on day s: the accounts in scope whose revenue in
  the CHURN_ACTIVE_MONTHS (12) full months before s is positive; its **base revenue** is their
  revenue in those months.
- An account **churned in the period** when it is in the period's active base and has a churn
  event (of the chosen definitions) dated in the period: dated when its spend fell (the
  first month of the spend-drop rule's recent window) or stopped (the day after its last
  revenue), or the day it moved to a competitor — not the day the sweep found it. An account found by two
  definitions (or twice) counts once; the event that counts is the one with the largest
  amount lost a year (on a tie, the earliest), and its reason is the account's reason
  (none: "unclassified").
- **Churn rate by count** = accounts churned in the period ÷ accounts in the active base.
- **Churn rate by amount** = Σ min(amount lost a year of the counting event, the account's
  base revenue) ÷ base revenue (the base's revenue of the 12 months before s: a year's
  revenue against a year's loss). An account cannot lose more than it brought, so the rate
  never exceeds 100 %.
- The **whole range** is read as one period (its base at the range's first day), and the
  breakdowns are of the whole range: per reason the churned accounts and the share of the
  amount lost; per industry, tier (in the CADENCE_SCHEME scheme's latest snapshot as of the
  range's end, or today if earlier) and unit (the level below the viewer's unit, or below
  the chosen unit) the base, the churned, both rates within the group and the group's share
  of the amount lost.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from django.db.models import Sum, Value
from django.db.models.functions import Coalesce, ExtractMonth, ExtractYear
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.accounts.models import Account
from kam.activities.compliance.measure import unit_level
from kam.core.arrays import integer_rows, integer_sums
from kam.core.conf import config
from kam.core.models import Industry, OrgUnit
from kam.insight.churn.services import fen_of, month_start, months_between
from kam.insight.models import ChurnEvent, ChurnReason
from kam.revenue.models import MonthlyRevenue
from kam.sales.pool.selectors import cadence_scheme, cadence_tiers

GRANULARITIES = ("month", "quarter")
MAX_MONTHS = 60  # the longest range one may ask for: five years of months, twenty quarters
UNCLASSIFIED = 0


@dataclass(frozen=True)
class Scope:
    """The accounts the rates read: those the user sees, narrowed to a unit and an industry;
    the definitions whose events count (empty: all)."""

    user: object
    unit: OrgUnit | None = None
    industry: int | None = None
    definitions: tuple[int, ...] = ()
    base: Any = None  # these accounts instead of the user's (the read model computes groups of accounts)

    def accounts(self):
        qs = Account.objects.visible_to(self.user) if self.base is None else self.base
        if self.unit is not None:
            qs = qs.filter(unit__path__startswith=self.unit.path)
        if self.industry:
            qs = qs.filter(industry_id=self.industry)
        return qs

    @property
    def everything(self) -> bool:
        return self.base is None and self.user.sees_everything and self.unit is None and not self.industry

    # Both are read against the scope's account ids, which leave out every other account (those
    # in the recycle bin too); for everything there is nothing to narrow in the database.
    def revenue(self):
        return MonthlyRevenue.objects.all() if self.everything else \
            MonthlyRevenue.objects.filter(account__in=self.accounts().values("pk"))

    def events(self):
        qs = ChurnEvent.objects.all() if self.everything else \
            ChurnEvent.objects.filter(account__in=self.accounts().values("pk"))
        if self.definitions:
            qs = qs.filter(definition_id__in=self.definitions)
        return qs


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # included
    label: str


def periods(first: date, last: date, by: str) -> list[Period]:
    """The months or calendar quarters from `first`'s to `last`'s (at most MAX_MONTHS months)."""
    step = 3 if by == "quarter" else 1
    start = month_start(first)
    if step == 3:
        start = date(start.year, (start.month - 1) // 3 * 3 + 1, 1)
    out = []
    while start <= last and len(out) * step < MAX_MONTHS:
        following = month_start(start, -step)
        label = f"{start.year}-Q{(start.month - 1) // 3 + 1}" if step == 3 else f"{start:%Y-%m}"
        out.append(Period(start, following - timedelta(days=1), label))
        start = following
    return out


def as_percent(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.2f} %"


def _share(part, whole) -> float | None:
    return None if not whole else float(Decimal(part) / Decimal(whole))


@dataclass
class Rate:
    """Churn in one period (or one group of the whole range)."""

    key: object
    label: str
    base: int = 0  # accounts in the active base
    base_revenue: Decimal = Decimal(0)  # their revenue of the 12 months before
    churned: int = 0
    lost: Decimal = Decimal(0)  # amount lost a year of the counting events
    lost_share: float | None = None  # of all the amount lost in the range (breakdowns)

    @property
    def count_rate(self) -> float | None:
        return _share(self.churned, self.base)

    @property
    def amount_rate(self) -> float | None:
        return None if self.base_revenue <= 0 else float(self.lost / self.base_revenue)

    # As the page shows them: "3.06 %", or a dash where there is nothing to divide by.
    @property
    def count_percent(self) -> str:
        return as_percent(self.count_rate)

    @property
    def amount_percent(self) -> str:
        return as_percent(self.amount_rate)

    @property
    def share_percent(self) -> str:
        return as_percent(self.lost_share)


@dataclass
class Counted:
    """An account churned in a span, and its counting event."""

    account_id: int
    event_id: int
    lost_fen: int
    reason_id: int


def _counted(scope: Scope, start: date, end: date) -> dict[int, Counted]:
    """Per account with an event dated (churned_on) in start…end, the event with the largest amount lost."""
    rows = integer_rows(scope.events().filter(churned_on__gte=start, churned_on__lte=end).annotate(
        lost=fen_of("amount_lost"), why=Coalesce("reason_id", Value(UNCLASSIFIED)))
        .values_list("account_id", "id", "lost", "why"), 4)
    out: dict[int, Counted] = {}
    for account_id, event_id, lost, why in sorted(rows.tolist(), key=lambda r: (r[0], -r[2], r[1])):
        out.setdefault(account_id, Counted(account_id, event_id, lost, why))
    return out


def _yuan(fen: int) -> Decimal:
    return (Decimal(int(fen)) / 100).quantize(Decimal("0.01"))


def _accounts(scope: Scope) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The scope's accounts (ids ascending), their units and industries (0 for none)."""
    rows = integer_rows(scope.accounts().annotate(ind=Coalesce("industry_id", Value(0)))
                        .values_list("id", "unit_id", "ind"), 3)
    rows = rows[np.argsort(rows[:, 0])]
    return rows[:, 0], rows[:, 1], rows[:, 2]


def _windows(scope: Scope, ids: np.ndarray, starts: list[date]) -> Iterator[tuple[date, np.ndarray]]:
    """For each of `starts` (ascending first days of months), each account's revenue (fen) in the
    CHURN_ACTIVE_MONTHS full months before it. The months are read one at a time, in order, and
    the window rolls: added as it enters, subtracted as it leaves, so each month is read once
    and at most a window's months are held."""
    if not starts:
        return
    size = config().CHURN_ACTIVE_MONTHS
    wanted = set(starts)
    window = np.zeros(len(ids), dtype=np.int64)
    held: deque[np.ndarray] = deque()
    months = list(months_between(month_start(starts[0], size), month_start(starts[-1], 1)))
    few = _few_accounts_months(scope, ids, months) if len(ids) <= FEW_ACCOUNTS else None
    for i, m in enumerate(months):
        sums = few[i] if few is not None else integer_sums(scope.revenue().filter(month=m), "account_id",
                                                           fen_of("amount"), ids)
        window += sums
        held.append(sums)
        if len(held) > size:
            window -= held.popleft()
        following = month_start(m, -1)
        if following in wanted:
            yield following, window.copy()


# A window over this many accounts or fewer (those a user sees through a team only) reads all
# its months in one query; more read a month at a time, holding no more than a window.
FEW_ACCOUNTS = 2000


def _few_accounts_months(scope: Scope, ids: np.ndarray, months: list[date]) -> np.ndarray:
    """Revenue (fen) per month of `months` (rows) and account of `ids` (columns), one query."""
    table = np.zeros((len(months), len(ids)), dtype=np.int64)
    if not months or not len(ids):
        return table
    number = ExtractYear("month") * 12 + ExtractMonth("month")
    rows = integer_rows(scope.revenue().filter(month__gte=months[0], month__lte=months[-1])
                        .annotate(n=number).values_list("account_id", "n").annotate(total=Sum(fen_of("amount")))
                        .order_by(), 3)
    first = months[0].year * 12 + months[0].month
    at = np.searchsorted(ids, rows[:, 0])
    known = at < len(ids)
    known[known] = ids[at[known]] == rows[known, 0]
    np.add.at(table, (rows[known, 1] - first, at[known]), rows[known, 2])
    return table


def _members(ids: np.ndarray, counted: dict[int, Counted]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per account of `ids`: churned (has a counted event), the event's loss (fen) and reason (-1: none)."""
    churned = np.zeros(len(ids), dtype=bool)
    lost = np.zeros(len(ids), dtype=np.int64)
    reason = np.full(len(ids), -1, dtype=np.int64)
    keys = sorted(counted)
    position = np.searchsorted(ids, np.array(keys, dtype=np.int64))
    for p, account_id in zip(position.tolist(), keys, strict=True):
        if p < len(ids) and ids[p] == account_id:
            churned[p] = True
            lost[p] = counted[account_id].lost_fen
            reason[p] = counted[account_id].reason_id
    return churned, lost, reason


def period_rate(scope: Scope, period: Period, ids: np.ndarray, window: np.ndarray) -> Rate:
    """One period's rate: `window` is each account's revenue in the 12 months before it."""
    in_base = window > 0
    churned, lost, _reason = _members(ids, _counted(scope, period.start, period.end))
    churned &= in_base
    lost = np.minimum(lost, window)  # an account loses at most the revenue it brought to the base
    return Rate(period.label, period.label, int(in_base.sum()), _yuan(int(window[in_base].sum())), int(churned.sum()),
                _yuan(int(lost[churned].sum())))


@dataclass
class Breakdowns:
    total: Rate
    reasons: list[Rate] = field(default_factory=list)
    industries: list[Rate] = field(default_factory=list)
    tiers: list[Rate] = field(default_factory=list)
    units: list[Rate] = field(default_factory=list)


def _unit_groups(scope: Scope, unit_ids: np.ndarray) -> tuple[np.ndarray, list[tuple[int, str]]]:
    units = list(OrgUnit.objects.order_by("path").values_list("pk", "path", "name"))
    if scope.unit is not None:
        base = scope.unit.path
        shown = [u for u in units if u[1].startswith(base) and u[1].count("/") == base.count("/") + 1] or \
            [u for u in units if u[1] == base]
    else:
        shown = unit_level(scope.user, units)
    index = {}
    for pk, path, _name in units:
        index[pk] = next((i for i, s in enumerate(shown) if path.startswith(s[1])), len(shown))
    keys = [(s[0], s[2]) for s in shown] + [(-1, str(_("Other units")))]
    return np.array([index.get(int(u), len(shown)) for u in unit_ids], dtype=np.int64), keys


def _grouped(groups: np.ndarray, keys: list[tuple[object, str]], fen: np.ndarray, lost: np.ndarray,
             churned: np.ndarray, all_lost: int) -> list[Rate]:
    """Per group (index into `keys`): its active base and revenue, its churned accounts and
    their amount lost; groups with neither are left out."""
    in_base = fen > 0
    out = []
    for i, (key, label) in enumerate(keys):
        here = groups == i
        base, members = in_base & here, churned & here
        if not base.any():
            continue
        part = int(lost[members].sum())
        out.append(Rate(key, label, int(base.sum()), _yuan(int(fen[base].sum())), int(members.sum()), _yuan(part),
                        _share(part, all_lost)))
    return out


def breakdowns(scope: Scope, start: date, end: date, accounts: tuple[np.ndarray, np.ndarray, np.ndarray],
               fen: np.ndarray, *, tier_day: date | None = None) -> Breakdowns:
    """The whole range start…end as one period, broken down (see the module); `fen` is each
    account's revenue in the 12 months before `start`."""
    ids, unit_ids, industry_ids = accounts
    churned, lost, reason = _members(ids, _counted(scope, start, end))
    churned &= fen > 0
    in_base = fen > 0
    lost = np.minimum(lost, fen)  # at most the account's base revenue: the rate by amount stays ≤ 100 %
    all_lost = int(lost[churned].sum())
    total = Rate("total", str(_("All")), int(in_base.sum()), _yuan(int(fen[in_base].sum())), int(churned.sum()),
                 _yuan(all_lost), 1.0 if all_lost else None)
    result = Breakdowns(total=total)

    # Reasons: the counting events' reasons, the active ones first in their order.
    names = {r.pk: r.name for r in ChurnReason.objects.all()}
    order = list(ChurnReason.objects.order_by("sort_order", "code").values_list("pk", flat=True))
    for key in [*order, UNCLASSIFIED]:
        mine = churned & (reason == key)
        if not mine.any():
            continue
        label = names.get(key) if key else str(_("Unclassified"))
        part = int(lost[mine].sum())
        result.reasons.append(Rate(key, label, 0, Decimal(0), int(mine.sum()), _yuan(part), _share(part, all_lost)))
    result.reasons.sort(key=lambda r: -r.lost)

    industries = {i.pk: i.name for i in Industry.objects.all()}
    codes = sorted(set(industry_ids.tolist()), key=lambda k: (k == 0, industries.get(k, "")))
    keys = [(k, industries.get(k) or str(_("No industry"))) for k in codes]
    # Codes are in the order shown (by name), not by id: each account's group is looked up.
    where = {code: i for i, code in enumerate(codes)}
    groups = np.array([where[k] for k in industry_ids.tolist()], dtype=np.int64)
    result.industries = sorted(_grouped(groups, keys, fen, lost, churned, all_lost), key=lambda r: -r.lost)

    scheme = cadence_scheme()
    day = min(tier_day or end, timezone.localdate())
    tiers = cadence_tiers(ids, day, scheme).astype(str) if len(ids) else np.zeros(0, dtype=str)
    tier_codes = [c for c in (scheme.tier_codes if scheme else []) if c in set(tiers.tolist())]
    tier_codes += sorted(set(tiers.tolist()) - set(tier_codes) - {""}) + ([""] if "" in set(tiers.tolist()) else [])
    tier_keys = [(c, (scheme.tier_label(c) if scheme and c else str(_("Not tiered")))) for c in tier_codes]
    where = {c: i for i, c in enumerate(tier_codes)}
    tier_groups = np.array([where[t] for t in tiers.tolist()], dtype=np.int64)
    result.tiers = _grouped(tier_groups, tier_keys, fen, lost, churned, all_lost)

    unit_groups, unit_keys = _unit_groups(scope, unit_ids)
    result.units = _grouped(unit_groups, unit_keys, fen, lost, churned, all_lost)
    return result


@dataclass
class ChurnRates:
    """What the churn page and the API show for a range."""

    start: date
    end: date
    by: str
    periods: list[Rate]
    breakdowns: Breakdowns
    as_of: datetime | None = None  # when the figures were true (None: computed now from the raw facts)


def churn_rates(*, user, start: date, end: date, by: str = "month", unit: OrgUnit | None = None,
                industry: int | None = None, definitions: tuple[int, ...] = (), tier_day: date | None = None
                ) -> ChurnRates:
    """The rates per month or quarter from `start`'s to `end`'s, and the range's breakdowns, for
    the accounts `user` sees (narrowed to `unit`'s subtree and `industry`; the caller checks
    that the unit is the user's to choose). The formulas are in the module's docstring.
    Summed from the read model (kam.insight.churn.summary) unless READ_MODELS is off or
    several definitions are asked for at once."""
    if config().READ_MODELS and len(definitions) <= 1:
        from kam.insight.churn.summary import churn_rates_read  # it builds on this module

        return churn_rates_read(user=user, start=start, end=end, by=by, unit=unit, industry=industry,
                                definition=definitions[0] if definitions else None, tier_day=tier_day)
    return churn_rates_from_facts(user=user, start=start, end=end, by=by, unit=unit, industry=industry,
                                  definitions=definitions, tier_day=tier_day)


def churn_rates_from_facts(*, user, start: date, end: date, by: str = "month", unit: OrgUnit | None = None,
                           industry: int | None = None, definitions: tuple[int, ...] = (),
                           tier_day: date | None = None) -> ChurnRates:
    """churn_rates computed from every visible account's revenue and events."""
    scope = Scope(user=user, unit=unit, industry=industry, definitions=tuple(definitions))
    spans = periods(start, end, by)
    if not spans:
        spans = periods(start, start, by)
    accounts = _accounts(scope)
    windows = dict(_windows(scope, accounts[0], [p.start for p in spans]))
    rates = [period_rate(scope, p, accounts[0], windows[p.start]) for p in spans]
    first, last = spans[0].start, spans[-1].end
    return ChurnRates(start=first, end=last, by=by, periods=rates,
                      breakdowns=breakdowns(scope, first, last, accounts, windows[first], tier_day=tier_day))
