"""The sales analytics' read model: after any sequence of state changes, contacts logged and
deleted, participants added, opportunities opened, moved, won and deleted, moves of accounts,
team changes and reads of another period, the incrementally kept rows equal a rebuild, and
what each role is shown (funnel, stage conversion, days per stage, customer-state conversion,
the people's process metrics) equals the same figures worked out from the raw facts of what
they see."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from account_moves import ACCOUNT_MOVES, move_account
from factories import AccountFactory
from kam.accounts.lifecycle import lifecycle_follow
from kam.accounts.models import Account
from kam.activities.compliance.measure import current_quarter, parse_period
from kam.activities.models import Activity
from kam.core import summaries
from kam.core.models import SummaryDirty
from kam.sales.analytics import selectors as analytics
from kam.sales.analytics import summary
from kam.sales.models import AnalyticsFigure, Opportunity, OutcomeReason, Stage
from kam.sales.opportunities.services import (
    opportunity_close,
    opportunity_create,
    opportunity_delete,
    opportunity_move,
)

pytestmark = pytest.mark.django_db


FIELDS = [f.attname for f in AnalyticsFigure._meta.concrete_fields if not f.primary_key]


def stored_rows() -> Counter:
    return Counter(AnalyticsFigure.objects.values_list(*FIELDS))


def rebuilt_rows() -> Counter:
    """What a rebuild computes for every period kept (the rebuild itself drops the periods
    besides this quarter first)."""
    return Counter(tuple(getattr(r, f) for f in FIELDS) for r in summary.compute(Account.objects.alive()))


def shown(scope: analytics.Scope, period: analytics.Period, raw: bool) -> analytics.Analytics:
    """Everything the page shows, from the read model or from the raw facts."""
    return analytics.analyse(scope, period) if raw else summary.page(scope, period)


OPS = st.lists(st.tuples(st.sampled_from([
    "create", "won", "churned", "recovered", "visit", "quote", "forget", "join", "open", "move", "close", "drop",
    "owner", "office", "pool", "delete", "team", "refresh", "month",
]), st.integers(0, 10_000)), min_size=1, max_size=10)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=OPS)
def test_incremental_equals_rebuild_and_each_role_sees_its_raw_figures(org, ops):

    people = [org.specialist_a, org.specialist_a2, org.specialist_b]
    today = timezone.localdate()
    quarter = analytics.Period(*parse_period(current_quarter(today)))
    month = analytics.Period(today.replace(day=1), today)
    won = OutcomeReason.objects.filter(is_active=True, applies_to__in=["won", "both"]).first()
    with transaction.atomic():
        for i in range(4):  # each with an opportunity opened before the quarter and moved on in it
            a = AccountFactory(owner=people[i % 3], lifecycle_status=["prospect", "opportunity", "ordered", "active"][i])
            o = opportunity_create(actor=org.admin, account=a, name=f"老项目{i}", amount=Decimal(5000 * (i + 1)),
                                   expected_close=today + timedelta(days=90), owner=people[i % 3],
                                   at=timezone.now() - timedelta(days=120 + 10 * i))
            opportunity_move(actor=org.admin, opportunity=o, stage=Stage.DESIGN, at=timezone.now() - timedelta(hours=i))
        summaries.rebuild([summary.ANALYTICS])
        for op, n in ops:
            live = list(Account.objects.alive().order_by("pk"))
            account = live[n % len(live)] if live else None
            person = people[n % len(people)]
            day = max(quarter.start, today - timedelta(days=n % 60))
            when = timezone.make_aware(datetime.combine(day, time(n % 24)))
            opportunities = list(Opportunity.objects.alive().filter(stage__in=["contact", "design"]).order_by("pk"))
            opportunity = opportunities[n % len(opportunities)] if opportunities else None
            if op == "create" or account is None:
                AccountFactory(owner=person, lifecycle_status=["unidentified", "prospect", "opportunity"][n % 3])
            elif op in ("won", "churned", "recovered"):
                lifecycle_follow(event=op, accounts=[account.pk], cause="test")
            elif op in ("visit", "quote"):
                activity = Activity.objects.create(account=account, kind=op, summary="跟进", created_by=person,
                                                   occurred_at=when, decision_maker_met=bool(n % 2))
                activity.participants.set([person])
            elif op == "forget":
                gone = Activity.objects.filter(account=account).order_by("pk").first()
                if gone is not None:
                    gone.delete()
            elif op == "join":  # a colleague added from the user's side
                activity = Activity.objects.order_by("pk").first()
                if activity is not None:
                    org.manager_a.activities.add(activity)
            elif op == "open" and account.owner_id:
                # opened now or up to 200 days ago: some stays began before the quarter
                opportunity_create(actor=org.admin, account=account, name=f"项目{n}", amount=Decimal(1000 + n),
                                   expected_close=today + timedelta(days=90), owner=person,
                                   at=timezone.now() - timedelta(days=n % 200, hours=n % 24))
            elif op == "move" and opportunity is not None:
                opportunity_move(actor=org.admin, opportunity=opportunity,
                                 stage=Stage.DESIGN if opportunity.stage == Stage.CONTACT else Stage.REVIEW)
            elif op == "close" and opportunity is not None:
                opportunity_close(actor=org.admin, opportunity=opportunity, outcome="won", reason=won, note="签约")
            elif op == "drop" and opportunity is not None:
                opportunity_delete(actor=org.admin, opportunity=opportunity)
            elif op in ACCOUNT_MOVES:
                move_account(org, op, account, person)
            elif op == "refresh":
                summaries.refresh(summary.ANALYTICS)
            elif op == "month":  # another period read: stored from then on, kept by the marks too
                summary.page(analytics.scope_for(user=org.director), month)
        summaries.refresh(summary.ANALYTICS)
        assert not SummaryDirty.objects.filter(summary=summary.ANALYTICS).exists()
        assert stored_rows() == rebuilt_rows()
        scopes = [analytics.scope_for(user=user) for user in (org.director, org.manager_a, org.specialist_a,
                                                                org.specialist_b)]
        scopes += [analytics.scope_for(user=org.manager_a, unit=org.office_a2),
                   analytics.scope_for(user=org.director, owner=org.specialist_a)]
        for scope in scopes:
            for period in (quarter, month):
                assert shown(scope, period, raw=False) == shown(scope, period, raw=True), (scope.user, period)
        transaction.set_rollback(True)


def test_each_write_path_marks_what_it_changes(org):
    a = AccountFactory(owner=org.specialist_a)
    summaries.rebuild([summary.ANALYTICS])

    def marked() -> bool:
        found = SummaryDirty.objects.filter(summary=summary.ANALYTICS, account_id=a.pk).exists()
        summaries.refresh(summary.ANALYTICS)
        return found

    visit = Activity.objects.create(account=a, kind="visit", summary="拜访", created_by=org.specialist_a,
                                    occurred_at=timezone.now())
    assert marked()
    visit.participants.add(org.manager_a)
    assert marked()
    org.specialist_a2.activities.add(visit)
    assert marked()
    opportunity = opportunity_create(actor=org.specialist_a, account=a, name="项目", amount=Decimal(1000),
                                     expected_close=date(2030, 1, 1))
    assert marked()
    opportunity_move(actor=org.specialist_a, opportunity=opportunity, stage=Stage.DESIGN)
    assert marked()
    lifecycle_follow(event="won", accounts=[a.pk], cause="test")
    assert marked()


def test_another_period_is_stored_at_its_first_read(org):
    AccountFactory(owner=org.specialist_a)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(org.manager_a)
    page = client.get("/sales/analytics/")
    assert page.status_code == 200 and b'data-testid="analytics-as-of"' in page.content  # says when its figures were true
    quarter = parse_period(current_quarter(timezone.localdate()))
    assert AnalyticsFigure.objects.filter(span="k", start=quarter[0], end=quarter[1]).exists()
    assert not AnalyticsFigure.objects.filter(span="k", start=date(2025, 1, 1)).exists()
    assert client.get("/sales/analytics/?period=2025-Q1").status_code == 200
    assert AnalyticsFigure.objects.filter(span="k", start=date(2025, 1, 1), end=date(2025, 3, 31)).exists()
    # and the nightly rebuild drops it again, keeping this quarter
    summaries.rebuild([summary.ANALYTICS])
    assert not AnalyticsFigure.objects.filter(span="k", start=date(2025, 1, 1)).exists()
    assert AnalyticsFigure.objects.filter(span="k", start=quarter[0]).exists()
