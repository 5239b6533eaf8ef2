"""Staffing arithmetic (activities/staffing.py) against a hand computation."""

from decimal import Decimal

from kam.activities.staffing.workload import (
    TierLoad,
    WorkHours,
    grown,
    spread_growth,
    staffing_need,
)

HOURS = WorkHours(per_visit=Decimal(4), per_call=Decimal("0.5"), per_report=Decimal(8),
                  per_manager_year=Decimal(1600))
LOADS = {
    # crystal: 2 visits a quarter, a call a month, a value report a quarter, 16 h support
    "K1": TierLoad("K1", visits=Decimal(8), calls=Decimal(12), reports=Decimal(4), support_hours=Decimal(16)),
    # top tier: 2 visits a month, 4 calls a month, a monthly report, 120 h support
    "K6": TierLoad("K6", visits=Decimal(24), calls=Decimal(48), reports=Decimal(12), support_hours=Decimal(120)),
}


def test_hours_and_managers_match_the_hand_computation():
    # K1: 8×4 + 12×0.5 + 4×8 + 16 = 32 + 6 + 32 + 16 = 86 h per account; × 100 = 8,600 h
    # K6: 24×4 + 48×0.5 + 12×8 + 120 = 96 + 24 + 96 + 120 = 336 h per account; × 10 = 3,360 h
    # total 11,960 h ÷ 1,600 h = 7.475 → 7.48 managers, 8 people
    result = staffing_need(accounts={"K1": 100, "K6": 10}, loads=LOADS, hours=HOURS, present=5)
    assert [(t.tier, t.hours_per_account, t.hours) for t in result.tiers] == [
        ("K1", Decimal(86), Decimal(8600)), ("K6", Decimal(336), Decimal(3360))]
    assert result.hours == Decimal(11960)
    assert result.required == Decimal("7.48")
    assert result.required_headcount == 8 and result.gap == 3 and result.accounts == 110


def test_a_tier_without_a_standard_needs_no_hours_and_spare_managers_show_as_negative_gap():
    result = staffing_need(accounts={"-": 40, "K1": 10}, loads=LOADS, hours=HOURS, present=2)
    assert result.hours == Decimal(860)
    assert result.required == Decimal("0.54") and result.required_headcount == 1 and result.gap == -1


def test_next_years_growth_adds_to_the_tiers():
    # one branch expects +1,500 key accounts, shared like today's 100 : 10 (rounded to whole accounts)
    growth = spread_growth({"K1": 100, "K6": 10}, 1500)
    assert growth == {"K1": 1364, "K6": 136}
    assert sum(growth.values()) == 1500
    next_year = grown({"K1": 100, "K6": 10}, growth)
    assert next_year == {"K1": 1464, "K6": 146}
    result = staffing_need(accounts=next_year, loads=LOADS, hours=HOURS)
    # 1464×86 + 146×336 = 125,904 + 49,056 = 174,960 h ÷ 1,600 = 109.35
    assert result.required == Decimal("109.35")
    assert grown({"K1": 3}, {"K1": -5, "K6": 2}) == {"K1": 0, "K6": 2}
    assert spread_growth({"K1": 0, "K6": 0}, 7) == {"K1": 7, "K6": 0}
    assert sum(spread_growth({"a": 1, "b": 1, "c": 1}, -5).values()) == -5


def test_each_factor_changed_on_its_own_moves_the_need_as_the_formula_says():
    from kam.activities.staffing.workload import Factors, after_churn

    accounts = {"K1": 100, "K6": 10}
    tier_only = staffing_need(accounts=accounts, loads=LOADS, hours=HOURS)
    assert staffing_need(accounts=accounts, loads=LOADS, hours=HOURS, factors=Factors()).required == tier_only.required
    # a senior team carrying 1.25 standard loads: 11,960 ÷ (1,600 × 1.25) = 5.98
    assert staffing_need(accounts=accounts, loads=LOADS, hours=HOURS,
                         factors=Factors(grade=Decimal("1.25"))).required == Decimal("5.98")
    # half the support hours with the back office: K1 86 − 8 = 78 h, K6 336 − 60 = 276 h → 10,560 h → 6.60
    support = staffing_need(accounts=accounts, loads=LOADS, hours=HOURS, factors=Factors(support_share=Decimal("0.5")))
    assert support.hours == Decimal(10560) and support.required == Decimal("6.60")
    # a 10 % margin for demand peaks: 13,156 h → 8.22
    peak = staffing_need(accounts=accounts, loads=LOADS, hours=HOURS, factors=Factors(peak=Decimal("0.1")))
    assert peak.hours == Decimal("13156.0") and peak.required == Decimal("8.22")
    # 5 % expected to leave: 95 K1 and 10 K6 (9.5 rounds half up) stay before the new ones
    assert after_churn(accounts, Decimal("0.05")) == {"K1": 95, "K6": 10}
    assert after_churn({"K1": 30}, Decimal("0.05")) == {"K1": 29}  # 28.5 → 29
