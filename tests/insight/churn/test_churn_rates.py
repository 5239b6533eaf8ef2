"""Churn rates and breakdowns against hand computation: the active base, the count and the
amount rates, an account churned twice counted once with its largest event, the unclassified
reason, and the breakdowns by reason, industry, tier and unit; scoping."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from factories import AccountFactory
from kam.core.models import Industry
from kam.insight.churn.rates import churn_rates, periods
from kam.insight.models import ChurnDefinition, ChurnEvent, ChurnReason
from kam.tiering.models import Scheme, Snapshot, SnapshotEntry, SnapshotState

from ..churn_history import month, monthly, revenue

pytestmark = pytest.mark.django_db
JULY = (date(2026, 7, 1), date(2026, 7, 31))


def event(account, code, on, lost, reason=None):
    d = ChurnDefinition.objects.get(code=code)
    return ChurnEvent.objects.create(account=account, definition=d, detected_on=on, baseline_amount=0,
                                     recent_amount=0, amount_lost=Decimal(lost),
                                     reason=ChurnReason.objects.get(code=reason) if reason else None)


@dataclass
class Book:
    a1: object
    a2: object
    a3: object
    b1: object
    b2: object


@pytest.fixture
def book(org) -> Book:
    """Revenue 2025-07…2026-06 (the base window of July 2026): a1 1,000 a month (党政军, A),
    a2 500 (采掘制造, A), b1 2,000 (党政军, B), b2 1,000 (党政军, B); a3 (A) only bills in July.
    Events in July: a1 spend-drop 6,000 (对手长话) and no-revenue 12,000 (unclassified); b1
    no-revenue 24,000 (对手数据); a3 competitor 100 (not in the base)."""
    gov, making = Industry.objects.get(code="gov"), Industry.objects.get(code="manufacturing")
    b = Book(a1=AccountFactory(owner=org.specialist_a, industry=gov), a2=AccountFactory(owner=org.specialist_a, industry=making),
             a3=AccountFactory(owner=org.specialist_a), b1=AccountFactory(owner=org.specialist_b, industry=gov),
             b2=AccountFactory(owner=org.specialist_b, industry=gov))
    for account, amount in ((b.a1, 1000), (b.a2, 500), (b.b1, 2000), (b.b2, 1000)):
        monthly(account, month(2025, 7), [amount] * 12)
    revenue(b.a3, {date(2026, 7, 5): 100})
    event(b.a1, "spend-drop", date(2026, 7, 15), "6000", "rival_voice")
    event(b.a1, "no-revenue", date(2026, 7, 20), "12000")
    event(b.b1, "no-revenue", date(2026, 7, 1), "24000", "rival_data")
    event(b.a3, "competitor", date(2026, 7, 31), "100", "other")
    event(b.a2, "spend-drop", date(2026, 8, 1), "3000", "price")  # after the range
    return b


def test_periods_by_month_and_by_quarter():
    assert [p.label for p in periods(date(2026, 2, 10), date(2026, 4, 2), "month")] == ["2026-02", "2026-03", "2026-04"]
    q = periods(date(2026, 2, 10), date(2026, 7, 1), "quarter")
    assert [(p.label, p.start, p.end) for p in q] == [("2026-Q1", date(2026, 1, 1), date(2026, 3, 31)),
                                                      ("2026-Q2", date(2026, 4, 1), date(2026, 6, 30)),
                                                      ("2026-Q3", date(2026, 7, 1), date(2026, 9, 30))]


def test_rates_by_count_and_by_amount(org, book):
    # when HQ reads July 2026
    rates = churn_rates(user=org.admin, start=JULY[0], end=JULY[1], by="month")
    (july,) = rates.periods
    # then the base is a1, a2, b1, b2 (a3 billed nothing in the 12 months before), 54,000
    assert (july.base, july.base_revenue) == (4, Decimal("54000.00"))
    # churned a1 (its larger event, 12,000, counts) and b1 (24,000); a3 is not in the base
    assert (july.churned, july.lost) == (2, Decimal("36000.00"))
    assert july.count_rate == pytest.approx(2 / 4)
    assert july.amount_rate == pytest.approx(36000 / 54000)
    assert rates.breakdowns.total.count_rate == july.count_rate


def test_the_base_moves_with_the_period(org, book):
    rates = churn_rates(user=org.admin, start=date(2026, 6, 1), end=JULY[1], by="month")
    june, july = rates.periods
    # June's base window is 2025-06…2026-05: eleven months each
    assert (june.base, june.base_revenue, june.churned, june.lost) == (4, Decimal("49500.00"), 0, Decimal("0.00"))
    assert (july.base, july.churned) == (4, 2)
    # the whole range is read from June's base
    assert rates.breakdowns.total.base_revenue == Decimal("49500.00")
    # each account loses at most what it brought to that base: a1 11,000 of its 12,000 a year,
    # b1 22,000 of 24,000
    assert rates.breakdowns.total.lost == Decimal("33000.00")
    assert rates.breakdowns.total.amount_rate == pytest.approx(33000 / 49500)


def test_the_amount_rate_never_exceeds_the_base_it_is_divided_by(org):
    # an account that billed 100 a month for a year, then was found losing 50,000 a year
    # (a baseline from a big month the year window does not hold)
    small = AccountFactory(owner=org.specialist_a)
    monthly(small, month(2025, 7), [100] * 12)
    event(small, "spend-drop", date(2026, 7, 10), "50000")
    (july,) = churn_rates(user=org.admin, start=JULY[0], end=JULY[1], by="month").periods
    assert (july.base_revenue, july.lost) == (Decimal("1200.00"), Decimal("1200.00"))
    assert july.amount_rate == 1.0


def test_breakdowns_by_reason_industry_tier_and_unit(org, book):
    scheme = Scheme.objects.get(code="monthly-spend")
    snap = Snapshot.objects.create(scheme=scheme, as_of=date(2026, 6, 30), window_start=date(2026, 6, 1),
                                   method=scheme.method, state=SnapshotState.DONE)
    SnapshotEntry.objects.bulk_create([SnapshotEntry(snapshot=snap, account=book.a1, tier="K1", revenue=0),
                                       SnapshotEntry(snapshot=snap, account=book.a2, tier="K1", revenue=0),
                                       SnapshotEntry(snapshot=snap, account=book.b1, tier="K2", revenue=0)])
    b = churn_rates(user=org.admin, start=JULY[0], end=JULY[1], by="month").breakdowns
    # reasons: the counting events' — b1 对手数据 24,000 (2/3), a1 unclassified 12,000 (1/3)
    assert [(r.label, r.churned, r.lost, round(r.lost_share, 4)) for r in b.reasons] == [
        ("使用对手数据业务", 1, Decimal("24000.00"), 0.6667), ("Unclassified", 1, Decimal("12000.00"), 0.3333)]
    # industries: 党政军 base a1, b1, b2 (48,000), churned a1, b1 (36,000); 采掘制造 a2, none
    gov = next(r for r in b.industries if r.label == "党政军")
    making = next(r for r in b.industries if r.label == "采掘制造")
    assert (gov.base, gov.base_revenue, gov.churned, gov.lost) == (3, Decimal("48000.00"), 2, Decimal("36000.00"))
    assert gov.count_rate == pytest.approx(2 / 3) and gov.amount_rate == pytest.approx(0.75) and gov.lost_share == 1.0
    assert (making.base, making.churned, making.count_rate, making.amount_rate) == (1, 0, 0.0, 0.0)
    # tiers: K1 = a1, a2 (18,000; a1 lost 12,000); K2 = b1; b2 not tiered
    tiers = {r.key: r for r in b.tiers}
    assert (tiers["K1"].base, tiers["K1"].churned, tiers["K1"].amount_rate) == (2, 1, pytest.approx(12000 / 18000))
    assert (tiers["K2"].base, tiers["K2"].churned, tiers["K2"].count_rate) == (1, 1, 1.0)
    assert (tiers[""].base, tiers[""].churned) == (1, 0)
    # units: the branches under HQ
    units = {r.label: r for r in b.units}
    assert (units["广州分公司"].base, units["广州分公司"].churned, units["广州分公司"].lost) == (2, 1, Decimal("12000.00"))
    assert (units["深圳分公司"].base, units["深圳分公司"].churned, units["深圳分公司"].lost) == (2, 1, Decimal("24000.00"))


def test_a_specialist_reads_only_their_accounts(org, book):
    rates = churn_rates(user=org.specialist_a, start=JULY[0], end=JULY[1], by="month")
    (july,) = rates.periods
    assert (july.base, july.base_revenue, july.churned, july.lost) == (2, Decimal("18000.00"), 1, Decimal("12000.00"))
    assert [r.label for r in rates.breakdowns.reasons] == ["Unclassified"]
    other = churn_rates(user=org.specialist_b, start=JULY[0], end=JULY[1], by="month").periods[0]
    assert (other.base, other.churned, other.lost) == (2, 1, Decimal("24000.00"))


def test_filters_by_definition_unit_and_industry(org, book):
    # only spend-drop events: a1's 6,000 counts
    drop = ChurnDefinition.objects.get(code="spend-drop").pk
    (july,) = churn_rates(user=org.admin, start=JULY[0], end=JULY[1], definitions=(drop,)).periods
    assert (july.churned, july.lost) == (1, Decimal("6000.00"))
    (july,) = churn_rates(user=org.admin, start=JULY[0], end=JULY[1], unit=org.branch_b).periods
    assert (july.base, july.churned, july.lost) == (2, 1, Decimal("24000.00"))
    making = Industry.objects.get(code="manufacturing").pk
    (july,) = churn_rates(user=org.admin, start=JULY[0], end=JULY[1], industry=making).periods
    assert (july.base, july.churned, july.count_rate) == (1, 0, 0.0)
