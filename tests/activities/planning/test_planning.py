"""The month's visit plan (activities/planning.py) on the real 2025 calendar."""

from collections import Counter
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from kam.activities.planning.planner import PlanAccount, plan_visits
from kam.core.calendar import is_working_day, working_days

OCTOBER = working_days(2025, 10)
SEPTEMBER = working_days(2025, 9)


def test_october_2025_visits_avoid_the_holiday_week_and_weekends():
    # given 30 accounts needing 2 visits each in October 2025
    accounts = [PlanAccount(account_id=i, required=2, region=f"R{i % 3}") for i in range(1, 31)]
    # when planned with up to 4 visits a day
    plan = plan_visits(accounts, days=OCTOBER, daily_max=4)
    # then all 60 fit, none on 1–8 October, on the weekend of the 18th or on any Sunday
    assert plan.placed == 60 and not plan.unplaced
    assert all(is_working_day(v.day) for v in plan.visits)
    assert not any(date(2025, 10, 1) <= v.day <= date(2025, 10, 8) for v in plan.visits)
    assert all(v.day.weekday() != 6 for v in plan.visits)


def test_the_make_up_sunday_is_used_and_ordinary_weekends_are_not():
    accounts = [PlanAccount(account_id=i, required=1, region="天河") for i in range(1, 24 * 3 + 1)]
    plan = plan_visits(accounts, days=SEPTEMBER, daily_max=3)
    days = {v.day for v in plan.visits}
    assert date(2025, 9, 28) in days  # Sunday, but a make-up working day
    assert not any(d.weekday() == 5 or (d.weekday() == 6 and d != date(2025, 9, 28)) for d in days)


def test_the_daily_maximum_holds_and_the_rest_is_reported():
    # 18 working days × 2 a day = 36 places for 40 visits
    accounts = [PlanAccount(account_id=i, required=4, region="") for i in range(1, 11)]
    plan = plan_visits(accounts, days=OCTOBER, daily_max=2)
    per_day = Counter(v.day for v in plan.visits)
    assert max(per_day.values()) <= 2
    assert plan.capacity == 36 and plan.required == 40
    assert plan.placed + sum(plan.unplaced.values()) == 40
    assert sum(plan.unplaced.values()) >= 4


def test_accounts_longest_without_a_visit_are_placed_first_when_it_is_tight():
    accounts = [
        PlanAccount(account_id=1, required=1, last_visit=date(2025, 9, 20)),
        PlanAccount(account_id=2, required=1, last_visit=date(2025, 5, 1)),
        PlanAccount(account_id=3, required=1, last_visit=None),
    ]
    plan = plan_visits(accounts, days=OCTOBER[:1], daily_max=2)
    assert {v.account_id for v in plan.visits} == {2, 3}
    assert plan.unplaced == {1: 1}


def test_accounts_of_one_region_share_their_days():
    # given four accounts in each of two regions, one visit each, four visits a day allowed
    accounts = [PlanAccount(account_id=i, required=1, region="越秀" if i % 2 else "天河") for i in range(1, 9)]
    plan = plan_visits(accounts, days=OCTOBER, daily_max=4)
    # then each region is visited on a single day, and the two regions on different days
    days_of = {region: {v.day for v in plan.visits if v.region == region} for region in ("越秀", "天河")}
    assert len(days_of["越秀"]) == 1 and len(days_of["天河"]) == 1
    assert days_of["越秀"] != days_of["天河"]


def test_one_accounts_visits_are_spread_and_kept_apart():
    plan = plan_visits([PlanAccount(account_id=1, required=3)], days=OCTOBER, daily_max=5, min_gap_days=5)
    days = sorted(v.day for v in plan.visits)
    assert len(days) == 3
    assert all((b - a).days >= 5 for a, b in zip(days, days[1:], strict=False))
    # one in each third of the month's working days
    thirds = [OCTOBER[:6], OCTOBER[6:12], OCTOBER[12:]]
    assert [sum(d in third for d in days) for third in thirds] == [1, 1, 1]


def test_a_recent_visit_before_the_month_pushes_the_first_one_back():
    # two visits over 9–15 October (six working days), kept 3 days apart: without the
    # visit of 8 October they would go on the 10th and the 14th
    days = OCTOBER[:6]
    plan = plan_visits([PlanAccount(account_id=1, required=2)], days=days, daily_max=5, min_gap_days=3)
    assert [v.day for v in plan.visits] == [date(2025, 10, 10), date(2025, 10, 14)]
    plan = plan_visits([PlanAccount(account_id=1, required=2, last_visit=date(2025, 10, 8))],
                       days=days, daily_max=5, min_gap_days=3)
    assert [v.day for v in plan.visits] == [date(2025, 10, 11), date(2025, 10, 14)]


def test_no_working_days_or_no_capacity_places_nothing():
    accounts = [PlanAccount(account_id=1, required=2)]
    assert plan_visits(accounts, days=[], daily_max=3).unplaced == {1: 2}
    assert plan_visits(accounts, days=OCTOBER, daily_max=0).unplaced == {1: 2}


@settings(max_examples=60, deadline=None)
@given(
    needs=st.lists(st.tuples(st.integers(0, 6), st.sampled_from(["A", "B", "C", ""])), max_size=25),
    daily_max=st.integers(1, 6),
    month=st.sampled_from([(2025, 9), (2025, 10), (2026, 2), (2026, 5)]),
)
def test_every_plan_keeps_its_rules(needs, daily_max, month):
    days = working_days(*month)
    accounts = [PlanAccount(account_id=i, required=r, region=g) for i, (r, g) in enumerate(needs, 1)]
    plan = plan_visits(accounts, days=days, daily_max=daily_max)
    per_day = Counter(v.day for v in plan.visits)
    assert all(day in days for day in per_day) and max(per_day.values(), default=0) <= daily_max
    got = Counter(v.account_id for v in plan.visits)
    for account in accounts:
        assert got[account.account_id] + plan.unplaced.get(account.account_id, 0) == account.required
        visits = [v.day for v in plan.visits if v.account_id == account.account_id]
        assert len(set(visits)) == len(visits)  # never twice the same day


def test_visits_due_in_a_month_follow_the_standards_calendar_period():
    from kam.activities.planning.planner import visits_due_in_month as due

    # two a quarter: one in the first month, the second by the second month, none left after
    assert [due(count=2, period_months=3, month_index=i, done_in_period=0) for i in range(3)] == [1, 2, 2]
    assert due(count=2, period_months=3, month_index=1, done_in_period=1) == 1
    assert due(count=2, period_months=3, month_index=2, done_in_period=2) == 0
    # one a quarter or a half-year: in the first month, and again later only if missed
    assert [due(count=1, period_months=3, month_index=i, done_in_period=1) for i in range(3)] == [0, 0, 0]
    assert due(count=1, period_months=6, month_index=4, done_in_period=0) == 1
    # twice a month, with one made already
    assert due(count=2, period_months=1, month_index=0, done_in_period=1) == 1
    assert due(count=0, period_months=3, month_index=0, done_in_period=0) == 0
