"""Visit plans kept as tasks (visit_plan_create), their page and `kam plan visits`; scoping."""

import importlib
import json
from collections import Counter
from datetime import date

import pytest
from django.apps import apps
from django.test import Client

from factories import AccountFactory
from kam import cli
from kam.activities import services
from kam.activities.models import ServiceStandard, Task, TaskSource, TaskStatus
from kam.activities.planning import services as planning_services
from kam.core.calendar import is_working_day
from kam.core.errors import NotVisible
from kam.core.models import Region
from kam.tiering.models import Scheme, Snapshot, SnapshotEntry, SnapshotState

pytestmark = pytest.mark.django_db
SEPT_20 = date(2025, 9, 20)


@pytest.fixture
def standards(db):
    if not ServiceStandard.objects.exists():
        importlib.import_module("kam.activities.migrations.0002_service_standards").seed(apps, None)


def tier(accounts_by_tier: dict, as_of=date(2025, 6, 30)) -> Snapshot:
    """A finished monthly-spend snapshot putting the accounts in the tiers given."""
    scheme = Scheme.objects.get(code="monthly-spend")
    snapshot = Snapshot.objects.create(scheme=scheme, as_of=as_of, window_start=date(2024, 7, 1), method=scheme.method,
                                       state=SnapshotState.DONE)
    SnapshotEntry.objects.bulk_create(SnapshotEntry(snapshot=snapshot, account=a, tier=t, revenue=0)
                                      for t, accounts in accounts_by_tier.items() for a in accounts)
    return snapshot


@pytest.fixture
def accounts(org, standards):
    regions = list(Region.objects.order_by("code")[:2])
    return [AccountFactory(owner=org.specialist_a, region=regions[i % 2]) for i in range(8)]


def plan_tasks(user, month=202510):
    return Task.objects.filter(owner=user, source_kind=TaskSource.PLAN, source_id=month)


def test_a_month_plan_becomes_tasks_on_working_days_only(org, accounts, settings):
    # given eight key accounts without a tier (one visit a month each) and at most 2 visits a day
    settings.KAM = {**settings.KAM, "PLAN_DAILY_MAX_VISITS": 2}
    # when October 2025 is planned in September
    plan = planning_services.visit_plan_create(actor=org.specialist_a, user=org.specialist_a, month=date(2025, 10, 1),
                                      today=SEPT_20)
    # then each account has one visit task, none in the holiday week or on a weekend off
    tasks = list(plan_tasks(org.specialist_a))
    assert plan.placed == 8 and plan.created == 8 and not plan.unplaced
    assert sorted(t.account_id for t in tasks) == sorted(a.pk for a in accounts)
    assert all(is_working_day(t.due_on) and not date(2025, 10, 1) <= t.due_on <= date(2025, 10, 8) for t in tasks)
    assert max(Counter(t.due_on for t in tasks).values()) <= 2
    # accounts of one region share their days
    by_region = {}
    for task in tasks:
        by_region.setdefault(task.account.region_id, set()).add(task.due_on)
    assert all(len(days) <= 2 for days in by_region.values())


def test_the_service_standard_of_the_tier_sets_the_visits(org, accounts):
    # K6 asks for two visits a month, K1 (two a quarter) one in the quarter's first month
    tier({"K6": accounts[:2], "K1": accounts[2:4]})
    plan = planning_services.visit_plan_create(actor=org.specialist_a, user=org.specialist_a, month=date(2025, 10, 1),
                                      today=SEPT_20)
    got = Counter(v.account_id for v in plan.visits)
    assert got[accounts[0].pk] == 2 and got[accounts[1].pk] == 2
    assert got[accounts[2].pk] == 1 and got[accounts[3].pk] == 1
    assert got[accounts[4].pk] == 1  # untiered key account: the default


def test_planning_again_replaces_the_open_plan_tasks_and_never_duplicates(org, accounts, settings):
    month = date(2025, 10, 1)
    planning_services.visit_plan_create(actor=org.specialist_a, user=org.specialist_a, month=month, today=SEPT_20)
    first = set(plan_tasks(org.specialist_a).values_list("account_id", "due_on"))
    again = planning_services.visit_plan_create(actor=org.specialist_a, user=org.specialist_a, month=month, today=SEPT_20)
    assert again.created == 0 and again.kept == 8 and again.removed == 0
    assert set(plan_tasks(org.specialist_a).values_list("account_id", "due_on")) == first
    # a done task stays; a new daily maximum moves the open ones without doubling any account
    done = plan_tasks(org.specialist_a).first()
    services.task_complete(actor=org.specialist_a, task=done)
    settings.KAM = {**settings.KAM, "PLAN_DAILY_MAX_VISITS": 1}
    planning_services.visit_plan_create(actor=org.specialist_a, user=org.specialist_a, month=month, today=SEPT_20)
    open_tasks = plan_tasks(org.specialist_a).filter(status=TaskStatus.OPEN)
    assert max(Counter(open_tasks.values_list("due_on", flat=True)).values()) == 1
    assert Counter(open_tasks.values_list("account_id", flat=True)).most_common(1)[0][1] == 1
    assert plan_tasks(org.specialist_a).filter(status=TaskStatus.DONE).count() == 1


def test_the_make_up_sunday_can_carry_visits(org, standards, settings):
    settings.KAM = {**settings.KAM, "PLAN_DAILY_MAX_VISITS": 1}
    for _ in range(23):
        AccountFactory(owner=org.specialist_a)
    planning_services.visit_plan_create(actor=org.specialist_a, user=org.specialist_a, month=date(2025, 9, 1),
                               today=date(2025, 9, 1))
    days = set(plan_tasks(org.specialist_a, 202509).values_list("due_on", flat=True))
    assert date(2025, 9, 28) in days and all(is_working_day(d) for d in days)


def test_a_manager_plans_for_their_people_but_not_for_another_branch(org, accounts):
    plan = planning_services.visit_plan_create(actor=org.manager_a, user=org.specialist_a, month=date(2025, 10, 1),
                                      today=SEPT_20)
    assert plan.created == 8
    with pytest.raises(NotVisible):
        planning_services.visit_plan_create(actor=org.manager_b, user=org.specialist_a, month=date(2025, 10, 1), today=SEPT_20)
    with pytest.raises(NotVisible):
        planning_services.visit_plan_create(actor=org.specialist_a2, user=org.specialist_a, month=date(2025, 10, 1),
                                   today=SEPT_20)


def test_the_plan_page_plans_and_hides_other_branches(org, accounts):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(org.manager_b)
    assert client.get(f"/activities/plan/?user={org.specialist_a.pk}&month=2099-10").status_code == 404
    assert client.post("/activities/plan/", {"user": org.specialist_a.pk, "month": "2099-10"}).status_code == 404
    assert not Task.objects.filter(source_kind=TaskSource.PLAN).exists()
    client.force_login(org.manager_a)
    response = client.post("/activities/plan/", {"user": org.specialist_a.pk, "month": "2099-10"},
                           HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and 'data-testid="plan-summary"' in body
    assert plan_tasks(org.specialist_a, 209910).count() == 8
    assert accounts[0].name in body
    assert 'data-testid="plan-link"' in client.get("/activities/tasks/").content.decode()


def test_kam_plan_visits_prints_the_plan_and_refuses_strangers(org, accounts, capsys):
    assert cli.main(["plan", "visits", "--user", "spec_a", "--month", "2099-10", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["placed"] == 8 and result["tasks"]["created"] == 8 and not result["unplaced"]
    assert all(date.fromisoformat(v["day"]).weekday() < 5 for v in result["visits"])
    assert cli.main(["plan", "visits", "--user", "spec_a", "--month", "2099-10", "--actor", "manager_b"]) == 2
    assert "no user 'spec_a'" in capsys.readouterr().err
    assert cli.main(["plan", "visits", "--user", "spec_a", "--month", "October"]) == 2
