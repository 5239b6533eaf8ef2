"""Sales analytics on a hand-built history: every number below is worked out by hand in the comments.

The period is 2025-Q2 (2025-04-01 … 2025-06-30, Asia/Shanghai); all moves happen at 10:00 local
time unless said, so stays last whole days.

Branch A (specialist_a owns all but where said; account `a` unless said):
    O1  contact 03-20 (100,000, our quote 95,000) → design 04-10 → review 05-10 → won 06-10
    O2  contact 04-05 (200,000, our quote 210,000) → design 04-15 → lost 05-20
    O3  contact 04-01 (50,000) → design 06-01
    O4  design 02-01 (300,000) → review 04-20 → tender 05-01
    O5  contact 05-01 (80,000) on account a2, made by manager_a for specialist_a
    O7  contact 06-20 (40,000) → design 07-05 (after the period)
    O8  contact 04-03 (60,000, our quote 70,000) → lost 04-25
Branch B: O6 contact 04-02 (999,000) → design 04-12 → won 06-01, specialist_b.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from factories import AccountFactory, ContactFactory
from kam.accounts.models import Account
from kam.activities.services import activity_log
from kam.sales.analytics import selectors as analytics
from kam.sales.analytics.selectors import Period, scope_for
from kam.sales.models import Competitor, OutcomeReason, Rival
from kam.sales.opportunities.services import opportunity_close, opportunity_create, opportunity_move

SHANGHAI = ZoneInfo("Asia/Shanghai")
Q2 = Period(date(2025, 4, 1), date(2025, 6, 30))


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2025, month, day, hour, tzinfo=SHANGHAI)


@dataclass
class History:
    o1: object
    o2: object
    o3: object
    o4: object
    o5: object
    o6: object
    o7: object
    o8: object


@pytest.fixture
def history(org, accounts) -> History:
    a, spec = org.specialist_a, org.specialist_a
    price = OutcomeReason.objects.get(code="price")

    def new(account, amount, when, stage="contact", actor=spec, owner=None, our_quote=None):
        return opportunity_create(actor=actor, account=account, name=f"项目{amount}", amount=Decimal(amount),
                                  expected_close=date(2025, 12, 31), stage=stage, at=when, owner=owner,
                                  our_quote=our_quote)

    def move(opp, stage, when, actor=spec):
        return opportunity_move(actor=actor, opportunity=opp, stage=stage, at=when)

    def close(opp, outcome, when, actor=spec):
        return opportunity_close(actor=actor, opportunity=opp, outcome=outcome, reason=price, note="见纪要", at=when)

    o1 = new(accounts.a, 100_000, at(3, 20), our_quote=95_000)
    move(o1, "design", at(4, 10))
    move(o1, "review", at(5, 10))
    close(o1, "won", at(6, 10))
    o2 = new(accounts.a, 200_000, at(4, 5), our_quote=210_000)
    move(o2, "design", at(4, 15))
    close(o2, "lost", at(5, 20))
    o3 = new(accounts.a, 50_000, at(4, 1))
    move(o3, "design", at(6, 1))
    o4 = new(accounts.a, 300_000, at(2, 1), stage="design")
    move(o4, "review", at(4, 20))
    move(o4, "tender", at(5, 1))
    o5 = new(accounts.a2, 80_000, at(5, 1), actor=org.manager_a, owner=a)
    o7 = new(accounts.a, 40_000, at(6, 20))
    move(o7, "design", at(7, 5))
    o8 = new(accounts.a, 60_000, at(4, 3), our_quote=70_000)
    close(o8, "lost", at(4, 25))
    spec_b = org.specialist_b
    o6 = new(accounts.b, 999_000, at(4, 2), actor=spec_b)
    move(o6, "design", at(4, 12), actor=spec_b)
    close(o6, "won", at(6, 1), actor=spec_b)
    return History(o1, o2, o3, o4, o5, o6, o7, o8)


def test_funnel_counts_open_stages_now_and_the_period_s_wins_and_losses(org, history):
    # given the history above, seen by branch A's manager
    # when
    steps = analytics.funnel(scope_for(user=org.manager_a), Q2)
    # then — open now: contact O5 (80,000); design O3 + O7 (50,000 + 40,000); review none;
    # tender O4 (300,000); closed in Q2: won O1 (100,000); lost O2 + O8 (200,000 + 60,000).
    assert [(s.stage, s.count, s.amount) for s in steps] == [
        ("contact", 1, Decimal("80000.00")), ("design", 2, Decimal("90000.00")), ("review", 0, Decimal("0.00")),
        ("tender", 1, Decimal("300000.00")), ("won", 1, Decimal("100000.00")), ("lost", 2, Decimal("260000.00")),
    ]
    # a period before any close: no wins or losses, the open stages unchanged
    earlier = analytics.funnel(scope_for(user=org.manager_a), Period(date(2025, 1, 1), date(2025, 3, 31)))
    assert [(s.stage, s.count) for s in earlier] == [
        ("contact", 1), ("design", 2), ("review", 0), ("tender", 1), ("won", 0), ("lost", 0)]


def test_stage_conversion_follows_each_cohort_to_the_end_of_the_period(org, history):
    rows = analytics.stage_conversion(scope_for(user=org.manager_a), Q2)
    # contact entered in Q2: O2, O3, O5, O7, O8 = 5; moved on: O2 and O3 (to design) = 2
    #   (O7 only after the period, O8 lost); won: none.
    # design entered: O1, O2, O3 = 3; moved on: O1 (to review) = 1 (O2 lost); won: O1 = 1.
    # review entered: O1, O4 = 2; moved on: O1 (won, skipping tender) and O4 (tender) = 2; won: O1 = 1.
    # tender entered: O4 = 1; moved on 0; won 0.
    assert [(r.stage, r.entered, r.moved_on, r.won) for r in rows] == [
        ("contact", 5, 2, 0), ("design", 3, 1, 1), ("review", 2, 2, 1), ("tender", 1, 0, 0)]
    assert rows[0].moved_on_rate == pytest.approx(0.4)
    assert rows[1].won_rate == pytest.approx(1 / 3)
    assert rows[3].moved_on_rate == 0


def test_an_opportunity_entering_a_stage_twice_counts_once(org, accounts, open_opportunity):
    opp = open_opportunity(org.specialist_a, accounts.a, at=at(4, 1))
    opportunity_move(actor=org.specialist_a, opportunity=opp, stage="design", at=at(4, 2))
    opportunity_move(actor=org.specialist_a, opportunity=opp, stage="contact", at=at(4, 3))  # back
    opportunity_move(actor=org.specialist_a, opportunity=opp, stage="design", at=at(4, 4))
    rows = {r.stage: r for r in analytics.stage_conversion(scope_for(user=org.specialist_a), Q2)}
    # contact: entered once (as one opportunity), moved on after its first entry → 1 of 1
    assert (rows["contact"].entered, rows["contact"].moved_on) == (1, 1)
    # design: entered once, went back to contact only (no progress beyond design) → 0 of 1
    assert (rows["design"].entered, rows["design"].moved_on) == (1, 0)


def test_days_per_stage_counts_stays_that_ended_in_the_period(org, history):
    rows = analytics.days_per_stage(scope_for(user=org.manager_a), Q2)
    # contact stays ended in Q2: O1 03-20→04-10 = 21, O2 04-05→04-15 = 10, O3 04-01→06-01 = 61,
    #   O8 04-03→04-25 = 22 → 114 / 4 = 28.5 (O5 and O7 still in contact by 06-30: not counted).
    # design: O1 04-10→05-10 = 30, O2 04-15→05-20 = 35, O4 02-01→04-20 = 28 + 31 + 19 = 78
    #   → 143 / 3 = 47.67 (O3's stay runs on).
    # review: O1 05-10→06-10 = 31, O4 04-20→05-01 = 11 → 21.0.  tender: O4 still there → none.
    assert [(r.stage, r.stays) for r in rows] == [("contact", 4), ("design", 3), ("review", 2), ("tender", 0)]
    assert rows[0].mean_days == pytest.approx(28.5)
    assert rows[1].mean_days == pytest.approx(143 / 3)
    assert rows[2].mean_days == pytest.approx(21.0)
    assert rows[3].mean_days is None


def test_fractional_days_and_a_stay_from_before_the_period(org, accounts, open_opportunity):
    # contact 2025-03-31 22:00 → design 2025-04-02 10:00 = 1.5 days, the stay began before Q2
    opp = open_opportunity(org.specialist_a, accounts.a, at=at(3, 31, 22))
    opportunity_move(actor=org.specialist_a, opportunity=opp, stage="design", at=at(4, 2, 10))
    rows = {r.stage: r for r in analytics.days_per_stage(scope_for(user=org.specialist_a), Q2)}
    assert rows["contact"].stays == 1 and rows["contact"].mean_days == pytest.approx(1.5)


@pytest.fixture
def rivals(history):
    cloud, ali, tencent = (Competitor.objects.get(code=c) for c in ("huawei_cloud", "aliyun", "tencent_cloud"))
    for opp, competitor, quote in (
        (history.o1, cloud, 90_000), (history.o2, cloud, 190_000), (history.o8, cloud, 65_000),
        (history.o1, ali, 120_000), (history.o4, ali, 310_000),  # O4 is open: left out
        (history.o2, tencent, None),  # no quote: a deal for the win rate, no pair for the quotes
        (history.o6, ali, 1_000_000),  # branch B
    ):
        Rival.objects.create(opportunity=opp, competitor=competitor, quote=quote)
    return cloud, ali, tencent


def test_win_rate_by_competitor(org, rivals):
    cloud, ali, tencent = rivals
    rows = analytics.win_rate_by_competitor(scope_for(user=org.manager_a), Q2)
    # closed in Q2 in branch A: O1 won, O2 lost, O8 lost.
    # 华为云 on O1, O2, O8 → 1 of 3 won; 阿里云 on O1 (O4 open, O6 branch B) → 1 of 1; 腾讯云 on O2 → 0 of 1.
    assert {r.competitor: (r.deals, r.won) for r in rows} == {cloud.name: (3, 1), ali.name: (1, 1), tencent.name: (1, 0)}
    assert rows[0].competitor == cloud.name and rows[0].win_rate == pytest.approx(1 / 3)
    # branch B's manager sees only O6 (won, with 阿里云)
    assert [(r.competitor, r.deals, r.won) for r in analytics.win_rate_by_competitor(scope_for(user=org.manager_b), Q2)] \
        == [(ali.name, 1, 1)]


def test_quote_comparison_on_won_and_lost_deals(org, rivals):
    cloud, ali, _tencent = rivals
    rows = analytics.quote_comparison(scope_for(user=org.manager_a), Q2)
    totals = {r.outcome: r for r in rows if r.competitor is None}
    # won: O1 ours 95,000 vs 华为云 90,000 (+5,000, dearer) and vs 阿里云 120,000 (−25,000)
    #   → 2 pairs, ours 95,000, theirs 105,000, difference −10,000, dearer in 1 of 2
    won = totals["won"]
    assert (won.pairs, won.our_mean, won.their_mean, won.difference_mean, won.dearer) == (
        2, Decimal("95000.00"), Decimal("105000.00"), Decimal("-10000.00"), 1)
    assert won.dearer_share == pytest.approx(0.5)
    # lost: O2 210,000 vs 190,000 (+20,000) and O8 70,000 vs 65,000 (+5,000); 腾讯云 gave no quote
    #   → 2 pairs, ours 140,000, theirs 127,500, difference +12,500, dearer in 2 of 2
    lost = totals["lost"]
    assert (lost.pairs, lost.our_mean, lost.their_mean, lost.difference_mean, lost.dearer) == (
        2, Decimal("140000.00"), Decimal("127500.00"), Decimal("12500.00"), 2)
    by_competitor = {(r.outcome, r.competitor): (r.pairs, r.difference_mean) for r in rows if r.competitor}
    assert by_competitor == {("won", cloud.name): (1, Decimal("5000.00")), ("won", ali.name): (1, Decimal("-25000.00")),
                             ("lost", cloud.name): (2, Decimal("12500.00"))}


def _states(account: Account, steps: list[tuple[datetime, str]]) -> None:
    """Rewrite the account's field history: one version per (when, lifecycle status)."""
    Account.history.model.objects.filter(id=account.pk).delete()
    for when, status in steps:
        account.lifecycle_status = status
        account._history_date = when
        account.save()


def test_customer_state_conversion_from_the_account_history(org):
    # given specialist_a2's accounts with these lifecycle histories:
    owner = org.specialist_a2
    made = [AccountFactory(owner=owner) for _ in range(7)]
    p, q, r, s, t, u, v = made
    _states(p, [(at(3, 1), "prospect"), (at(4, 10), "opportunity"), (at(5, 20), "ordered"), (at(6, 15), "active")])
    _states(q, [(at(4, 5), "unidentified"), (at(5, 1), "prospect")])
    _states(r, [(at(2, 1), "prospect")])
    _states(s, [(at(1, 15), "opportunity"), (at(4, 20), "churned")])
    _states(t, [(at(3, 1), "prospect"), (at(5, 5), "ordered")])  # skips opportunity
    _states(u, [(at(3, 1), "unidentified"), (at(7, 10), "prospect")])  # moves after the period
    _states(v, [(at(8, 1), "prospect")])  # exists only after the period
    # when
    rows = analytics.customer_state_conversion(scope_for(user=owner), Q2)
    # then
    # unidentified in Q2: Q (entered 04-05), U (at the start) = 2; moved on: Q (→ prospect 05-01) = 1
    # prospect: P, R, T (at the start), Q (entered 05-01) = 4; moved on: P (→ opportunity), T (→ ordered) = 2
    # opportunity: P (entered 04-10), S (at the start) = 2; moved on: P (→ ordered); S churned = 1
    # ordered: P (05-20), T (05-05) = 2; moved on: P (→ active 06-15) = 1
    assert [(c.state, c.next_state, c.held, c.moved_on) for c in rows] == [
        ("unidentified", "prospect", 2, 1), ("prospect", "opportunity", 4, 2),
        ("opportunity", "ordered", 2, 1), ("ordered", "active", 2, 1)]
    assert rows[1].rate == pytest.approx(0.5)
    # another branch sees none of it
    assert [c.held for c in analytics.customer_state_conversion(scope_for(user=org.manager_b), Q2)] == [0, 0, 0, 0]


def test_process_metrics_per_person(org, accounts, history):
    spec, spec2 = org.specialist_a, org.specialist_a2
    boss = ContactFactory(actor=spec, account=accounts.a, decision_role="decision_maker")
    # X1 visit on a with spec_a2 and the decision maker; X2 call; X3 quote; X4 bid on a2 by spec_a2;
    # X5 a meeting before the period; X6 branch B's visit.
    activity_log(actor=spec, account=accounts.a, kind="visit", occurred_at=at(4, 10), summary="拜访",
                 participants=[spec2.pk], contacts=[boss.pk])
    activity_log(actor=spec, account=accounts.a, kind="call", occurred_at=at(5, 2), summary="电话")
    activity_log(actor=spec, account=accounts.a, kind="quote", occurred_at=at(5, 3), summary="报价")
    activity_log(actor=spec2, account=accounts.a2, kind="bid", occurred_at=at(6, 1), summary="投标")
    activity_log(actor=spec, account=accounts.a, kind="meeting", occurred_at=at(3, 15), summary="会议")
    activity_log(actor=org.specialist_b, account=accounts.b, kind="visit", occurred_at=at(4, 11), summary="拜访")
    # when
    people = {p.name: p for p in analytics.process_metrics(scope_for(user=org.manager_a), Q2)}
    # then — spec_a took part in X1–X3: 3 activities, 1 visit, 1 with the decision maker, 1 quote;
    # owns O3, O4, O7 on a and O5 on a2 open now, won O1 in Q2; follow-ups: a had 3 activities in
    # Q2 (X1–X3), a2 had 1 (X4) → 3 + 3 + 3 + 1 = 10 over 4 open opportunities = 2.5.
    me = people[str(spec)]
    assert (me.activities, me.visits, me.decision_maker_meetings, me.quotes) == (3, 1, 1, 1)
    assert (me.open_opportunities, me.won, me.follow_ups) == (4, 1, 10)
    assert me.follow_ups_per_opportunity == pytest.approx(2.5)
    # spec_a2 took part in X1 and X4: 2 activities, 1 visit, 1 decision maker, 1 quote (the bid); no opportunities
    other = people[str(spec2)]
    assert (other.activities, other.visits, other.decision_maker_meetings, other.quotes, other.open_opportunities) == (
        2, 1, 1, 1, 0)
    assert other.follow_ups_per_opportunity is None
    assert str(org.specialist_b) not in people
    # narrowed to one owner: only that person's line
    only = analytics.process_metrics(scope_for(user=org.manager_a, owner=spec2), Q2)
    assert [(p.name, p.activities) for p in only] == [(str(spec2), 2)]


def test_a_branch_b_manager_sees_only_branch_b(org, history):
    scope = scope_for(user=org.manager_b)
    result = analytics.analyse(scope, Q2)
    # only O6: contact 04-02 → design 04-12 → won 06-01
    assert [(s.stage, s.count, s.amount) for s in result.funnel if s.count] == [("won", 1, Decimal("999000.00"))]
    assert [(r.stage, r.entered, r.won) for r in result.conversion if r.entered] == [("contact", 1, 1), ("design", 1, 1)]
    assert [(d.stage, d.stays, d.mean_days) for d in result.days if d.stays] == [("contact", 1, 10.0), ("design", 1, 50.0)]
    assert {p.name for p in result.people} == {str(org.specialist_b)}
    # and branch A's manager none of O6
    mine = analytics.analyse(scope_for(user=org.manager_a), Q2)
    assert next(s for s in mine.funnel if s.stage == "won").amount == Decimal("100000.00")


def test_unit_and_owner_narrow_the_scope(org, history):
    # office A2 holds account a2 only: O5 (contact, 80,000, owned by specialist_a)
    in_office = analytics.funnel(scope_for(user=org.manager_a, unit=org.office_a2), Q2)
    assert [(s.stage, s.count) for s in in_office if s.count] == [("contact", 1)]
    # specialist_a's opportunities across the branch: all but O6
    owned = analytics.funnel(scope_for(user=org.director, owner=org.specialist_a), Q2)
    assert sum(s.count for s in owned) == 7
