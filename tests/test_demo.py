"""The demo dataset: deterministic, valid, covering every role and the decision-chain risks."""

from collections import Counter

import pytest
from django.db import connection
from django.db.models import Avg, Count, F
from django.utils import timezone
from stdnum.cn import uscc as stdnum_uscc

from kam.accounts.models import Account, AccountTeamMember, Channel, Contact, ContactStatus
from kam.accounts.selectors import AccountFilter, account_list
from kam.activities.models import Activity, Task, TaskStatus
from kam.core.models import Role, User
from kam.core.validators import clean_cn_mobile
from kam.demo import build_demo
from kam.revenue.models import MonthlyRevenue, RevenueFact
from kam.sales.models import Lead, LeadAssignmentRule, ReviewMeeting
from kam.tiering import selectors
from kam.tiering.models import Scheme, Snapshot

pytestmark = pytest.mark.django_db


def _snapshot():
    return list(Account.objects.order_by("code").values_list("code", "name", "uscc", "owner__username"))


def _clear_demo():
    """Everything the demo made, so that it can be built again."""
    Contact.objects.all().delete()
    AccountTeamMember.objects.all().delete()
    Account.objects.filter(parent__isnull=False).delete()
    Account.objects.all().delete()
    Snapshot.objects.all().delete()
    Task.objects.all().delete()  # lead tasks have no account to go with
    Lead.objects.all().delete()
    LeadAssignmentRule.objects.all().delete()
    ReviewMeeting.objects.all().delete()
    User.objects.all().delete()
    from kam.core.models import OrgUnit

    for unit in OrgUnit.objects.order_by("-path"):
        unit.delete()


def test_same_seed_gives_the_same_data(django_db_blocker):
    build_demo(accounts=120, seed=7, progress=False)
    first = _snapshot()
    _clear_demo()
    build_demo(accounts=120, seed=7, progress=False)
    assert _snapshot() == first
    assert len(first) == 120


def test_demo_is_valid_and_covers_the_domain():
    summary = build_demo(accounts=300, seed=2026, progress=False)
    assert "300 accounts" in summary
    assert set(User.objects.values_list("role", flat=True)) == set(Role.values)
    assert all(stdnum_uscc.is_valid(u) for u in Account.objects.exclude(uscc=None).values_list("uscc", flat=True))
    for mobile in Contact.objects.values_list("mobile", flat=True):
        clean_cn_mobile(mobile)
    counts = Account.objects.annotate(n=Count("contacts")).values_list("n", flat=True)
    assert min(counts) >= 1 and max(counts) <= 8 and 1 in counts
    assert Account.objects.filter(parent__isnull=False).exists()
    assert AccountTeamMember.objects.exists()
    left = Contact.objects.filter(status=ContactStatus.LEFT, is_key=True)
    assert left.filter(successor__isnull=True).exists() or left.count() < 2
    director = User.objects.get(username="director")
    assert account_list(user=director, filters=AccountFilter(q="zgyd")).exists()


def test_only_if_empty_leaves_existing_data_alone():
    build_demo(accounts=60, seed=1, progress=False)
    before = _snapshot()
    message = build_demo(accounts=500, seed=2, progress=False, only_if_empty=True)
    assert "already" in message
    assert _snapshot() == before


def test_a_year_of_activities_weighted_by_importance():
    build_demo(accounts=300, seed=2026, progress=False)
    activities = Activity.objects.all()
    assert activities.filter(kind="visit").exists() and activities.filter(kind="call").exists()
    # decision-maker meetings happen, and the flag agrees with the contacts met
    assert activities.filter(decision_maker_met=True).exists()
    for activity in activities.filter(decision_maker_met=True).prefetch_related("contacts")[:50]:
        assert any(c.decision_role == "decision_maker" for c in activity.contacts.all())
    # the account's owner is among our participants of each (accounts in the public pool have
    # none), and none lies in the future
    owned = activities.filter(account__owner__isnull=False)
    assert owned.filter(participants=F("account__owner")).count() == owned.count() > 0
    assert not activities.filter(occurred_at__gt=timezone.now()).exists()
    # key accounts are followed far more closely than public customers
    per_account = Account.objects.annotate(n=Count("activities"))
    key = per_account.filter(channel=Channel.KEY).aggregate(avg=Avg("n"))["avg"]
    public = per_account.filter(channel=Channel.PUBLIC).aggregate(avg=Avg("n"))["avg"]
    assert key > 2 * public
    # past next steps are mostly done, some remain open
    assert Task.objects.filter(status=TaskStatus.OPEN).exists() and Task.objects.filter(status=TaskStatus.DONE).exists()


def test_two_years_of_revenue_give_every_scheme_a_snapshot_and_an_annual_list():
    build_demo(accounts=300, seed=2026, progress=False)
    assert RevenueFact.objects.values("month").distinct().count() == 24
    # bills and orders: the monthly sums hold one row per account and month with any line
    assert MonthlyRevenue.objects.count() == RevenueFact.objects.values("account_id", "month").distinct().count()
    assert RevenueFact.objects.filter(product="订单").exists() and RevenueFact.objects.filter(product="").exists()
    latest = {s.code: selectors.latest_snapshot(s) for s in Scheme.objects.filter(is_active=True)}
    assert all(snapshot is not None and snapshot.accounts == 300 for snapshot in latest.values())
    # monthly spend: key-account levels and commercial levels both occur, and some accounts have none
    tiers = Counter(latest["monthly-spend"].entries.values_list("tier", flat=True))
    assert sum(n for t, n in tiers.items() if t.startswith("K")) > 20
    assert sum(n for t, n in tiers.items() if t.startswith("C")) > 20
    assert selectors.annual_list(Scheme.objects.get(code="monthly-spend")).frozen_year == 2026


@pytest.mark.django_db
def test_sales_demo_has_every_stage_and_a_consistent_history():
    build_demo(accounts=300, seed=2026, progress=False)
    from kam.sales.models import DealReview, Opportunity, PoolEvent, StageChange

    stages = set(Opportunity.objects.values_list("stage", flat=True))
    assert stages == {"contact", "design", "review", "tender", "won", "lost"}
    # each opportunity's last recorded move is the stage it is in, and the first has no origin
    last = {}
    for opportunity_id, from_stage, to_stage in StageChange.objects.order_by("at", "id").values_list(
            "opportunity_id", "from_stage", "to_stage"):
        assert (opportunity_id in last) == bool(from_stage)
        last[opportunity_id] = to_stage
    assert last == dict(Opportunity.objects.values_list("pk", "stage"))
    assert not Opportunity.objects.filter(stage__in=["won", "lost"], outcome_reason__isnull=True).exists()
    assert set(DealReview.objects.values_list("status", flat=True)) >= {"submitted", "manager", "director", "decided"}
    pooled = Account.objects.filter(owner__isnull=True)
    assert pooled.exists() and not pooled.filter(pooled_at__isnull=True).exists()
    assert PoolEvent.objects.filter(kind="returned").count() == pooled.count()


@pytest.mark.django_db
def test_demo_pool_holds_no_key_tier_and_deals_lift_the_account_state():
    build_demo(accounts=300, seed=2026, progress=False)
    import numpy as np
    from django.utils import timezone

    from kam.sales.models import Opportunity
    from kam.sales.pool.services import PoolRules, cadence_tiers

    pooled = np.array(sorted(Account.objects.filter(owner__isnull=True).values_list("pk", flat=True)), dtype=np.int64)
    assert len(pooled) and not set(cadence_tiers(pooled, timezone.localdate()).tolist()) & PoolRules.from_settings().excluded
    # nobody is still "prospect" with a deal in hand
    assert not Opportunity.objects.filter(stage__in=["contact", "design", "review", "tender"],
                                          account__lifecycle_status__in=["unidentified", "prospect"]).exists()


@pytest.mark.django_db
def test_insight_demo_gives_scores_churn_over_the_year_warnings_and_a_health_trend():
    build_demo(accounts=300, seed=2026, progress=False)
    from kam.insight.models import (
        AccountScore,
        ChurnEvent,
        HealthScore,
        ModelFit,
        RetentionAction,
        SatisfactionSurvey,
        Warning,
    )

    assert ModelFit.objects.count() == 2  # two fits a month apart, the second compared with the first
    assert AccountScore.objects.count() >= 290 and AccountScore.objects.filter(p_alive_before__isnull=False).exists()
    assert AccountScore.objects.filter(p_alive__lt=0.5).exists() and AccountScore.objects.filter(p_alive__gt=0.9).exists()
    # churn events spread over the months of the year, most of them with a reason
    assert ChurnEvent.objects.dates("detected_on", "month").count() >= 6
    assert ChurnEvent.objects.filter(reason__isnull=False).count() > ChurnEvent.objects.filter(reason__isnull=True).count()
    assert ChurnEvent.objects.filter(competitor__isnull=False).exists()
    # warnings of several rules, one task each, some closed by a retention action
    assert Warning.objects.values("rule").distinct().count() >= 5
    assert RetentionAction.objects.exists()
    opened = Warning.objects.filter(task__isnull=False)
    assert opened.values("task").distinct().count() == opened.count()
    # six months of health, surveys on most key accounts
    assert HealthScore.objects.dates("month", "month").count() == 6
    assert SatisfactionSurvey.objects.values("account").distinct().count() > 20


@pytest.mark.django_db
def test_demo_makes_every_kind_of_row_and_the_tables_take_new_rows_after_it():
    summary = build_demo(accounts=300, seed=2026, progress=False)
    from django.db.models import Sum

    from kam.insight.models import (
        AccountScore,
        ChurnEvent,
        HealthScore,
        ModelFit,
        RetentionAction,
        SatisfactionSurvey,
        Warning,
    )
    from kam.sales.models import (
        BuyingCentreMember,
        DealReview,
        LeadFollowUp,
        Opportunity,
        PoolEvent,
        Rival,
        StageChange,
    )

    kinds = {
        "accounts": Account.objects, "contacts": Contact.objects, "team members": AccountTeamMember.objects,
        "revenue lines": RevenueFact.objects, "monthly revenue": MonthlyRevenue.objects,
        "snapshots": Snapshot.objects, "activities": Activity.objects,
        "participants": Activity.participants.through.objects, "contacts met": Activity.contacts.through.objects,
        "tasks": Task.objects, "leads": Lead.objects, "lead follow-ups": LeadFollowUp.objects,
        "opportunities": Opportunity.objects, "stage changes": StageChange.objects,
        "buying centres": BuyingCentreMember.objects, "rivals": Rival.objects, "deal reviews": DealReview.objects,
        "pool events": PoolEvent.objects, "pool accounts": Account.objects.filter(owner__isnull=True),
        "account history": Account.history, "surveys": SatisfactionSurvey.objects, "churn events": ChurnEvent.objects,
        "model fits": ModelFit.objects, "scores": AccountScore.objects, "warnings": Warning.objects,
        "retention actions": RetentionAction.objects, "health scores": HealthScore.objects,
    }
    assert not [name for name, rows in kinds.items() if not rows.exists()]
    assert "Phases (wall / CPU s): org" in summary and "insight" in summary
    # the monthly sums are the sums of the lines, to the fen
    facts = {(a, m): (amount, margin, n) for a, m, amount, margin, n in RevenueFact.objects.values(
        "account_id", "month").annotate(a=Sum("amount"), g=Sum("margin"), n=Count("id")).values_list(
        "account_id", "month", "a", "g", "n")}
    monthly = {(r.account_id, r.month): (r.amount, r.margin, r.lines) for r in MonthlyRevenue.objects.all()}
    assert monthly == facts
    # each departed contact's successor is in post at the same account
    for contact in Contact.objects.filter(successor__isnull=False).select_related("successor"):
        assert contact.successor.account_id == contact.account_id and contact.successor.status == ContactStatus.ACTIVE
    # activity tasks name their activity, on its account and owner
    activity_of = dict(Activity.objects.values_list("pk", "account_id"))
    for source_id, account_id in Task.objects.filter(source_kind="activity").values_list("source_id", "account_id"):
        assert activity_of.get(source_id, account_id) == account_id  # pooled accounts lost their recent activities
    # rows given their ids in advance leave the tables ready for ordinary inserts
    org_unit = Account.objects.first().unit
    owner = User.objects.get(username="gz_th_spec1")
    new_account = Account.objects.create(code="NEW-1", name="新建客户有限公司", owner=owner, unit=org_unit, created_by=owner)
    new_contact = Contact.objects.create(account=new_account, name="新人")
    new_activity = Activity.objects.create(account=new_account, kind="call", occurred_at=timezone.now(), summary="电话",
                                           created_by=owner)
    new_lead = Lead.objects.create(source=Lead.objects.first().source, company="新线索有限公司")
    assert new_account.pk > max(a for a in Account.objects.exclude(pk=new_account.pk).values_list("pk", flat=True))
    assert new_contact.pk and new_activity.pk and new_lead.pk


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="side-by-side writers are PostgreSQL's")
def test_batches_written_side_by_side_give_the_data_of_one_writer(monkeypatch, reference_lists):
    from kam.demo import batches

    def fingerprint():
        from django.db.models import Sum

        return (Account.objects.count(), Contact.objects.count(), RevenueFact.objects.count(),
                RevenueFact.objects.aggregate(s=Sum("amount"))["s"], MonthlyRevenue.objects.count(),
                Activity.objects.count(), Activity.contacts.through.objects.count(), Task.objects.count(),
                Snapshot.objects.count(), sorted(Contact.objects.values_list("name", flat=True))[:50])

    monkeypatch.setattr(batches, "writers", lambda: 2)
    assert batches.writers() == 2
    build_demo(accounts=120, seed=11, progress=False)
    side_by_side = fingerprint()
    kinds = [Account.objects, Contact.objects, RevenueFact.objects, Activity.objects, Task.objects]
    assert all(rows.exists() for rows in kinds)
    _clear_demo()
    monkeypatch.setattr(batches, "writers", lambda: 1)
    build_demo(accounts=120, seed=11, progress=False)
    assert fingerprint() == side_by_side


@pytest.mark.django_db(transaction=True)
def test_a_health_trend_read_ahead_stores_what_the_sweeps_store(reference_lists):
    """The demo reads a month's health in a second thread while it stores the month before: the
    rows are the sweeps' own, and the reading happened on that thread."""
    import threading
    from datetime import date

    from kam.demo import batches
    from kam.insight.health import services as health
    from kam.insight.models import HealthScore

    build_demo(accounts=60, seed=5, progress=False)
    days = [date(2026, 9, 30), date(2026, 10, 31), date(2026, 11, 30)]
    readers: list[str] = []

    def read(day):
        readers.append(threading.current_thread().name)
        return health.health_rows(day)

    def stored():
        return sorted(HealthScore.objects.filter(month__in=[d.replace(day=1) for d in days])
                      .values_list("account_id", "month", "score", "parts"))

    now = timezone.now()
    written = batches.read_ahead(days, read, lambda day, rows: health.health_store(rows, day.replace(day=1), now))
    assert [w["month"] for w in written] == ["2026-09-01", "2026-10-01", "2026-11-01"]
    ahead = stored()
    assert ahead and {len({r[0] for r in ahead if r[1] == d.replace(day=1)}) for d in days} == {Account.objects.alive().count()}
    if connection.vendor == "sqlite":
        assert all(name.startswith("demo-read") for name in readers)
    HealthScore.objects.filter(month__in=[d.replace(day=1) for d in days]).delete()
    for day in days:
        health.health_sweep(as_of=day, now=now)
    assert stored() == ahead
