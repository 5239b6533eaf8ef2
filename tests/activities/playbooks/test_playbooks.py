"""Relationship stages from the signing date and the playbook tasks entering a stage creates."""

import importlib
from datetime import date

import pytest
from django.apps import apps
from django.test import Client

from factories import AccountFactory
from kam.accounts.stages import StageBoundaries, stage_on, stage_span
from kam.activities import services
from kam.activities.models import Playbook, PlaybookStep, Task, TaskSource, TaskStatus
from kam.activities.playbooks import services as playbook_services
from kam.activities.playbooks.schedule import step_due_dates
from kam.core.calendar import is_working_day
from kam.core.errors import NotVisible, PermissionDenied

BOUNDS = StageBoundaries(stable=3, deep=12, symbiosis=36)


@pytest.mark.parametrize(("day", "stage"), [
    (date(2024, 5, 31), ""),  # before signing
    (date(2024, 6, 1), "initial"),
    (date(2024, 8, 31), "initial"),
    (date(2024, 9, 1), "stable"),  # three months to the day
    (date(2025, 5, 31), "stable"),
    (date(2025, 6, 1), "deep"),
    (date(2027, 5, 31), "deep"),
    (date(2027, 6, 1), "symbiosis"),
])
def test_stage_boundaries(day, stage):
    assert stage_on(date(2024, 6, 1), day, BOUNDS) == stage


def test_boundaries_are_settings_and_month_ends_clamp():
    assert stage_on(None, date(2025, 1, 1), BOUNDS) == ""
    assert stage_on(date(2024, 6, 1), date(2024, 8, 1), StageBoundaries(stable=2, deep=12, symbiosis=36)) == "stable"
    # signed on 30 November: the stable stage begins on the last day of February
    assert stage_span(date(2024, 11, 30), "stable", BOUNDS) == (date(2025, 2, 28), date(2025, 11, 30))
    assert stage_span(date(2024, 11, 30), "symbiosis", BOUNDS) == (date(2027, 11, 30), None)


def test_due_dates_repeat_inside_the_stage_and_land_on_working_days():
    # weekly syncs in the first month from 2025-09-15: 22 Sep, 29 Sep, 6 Oct → 9 Oct, 13 Oct
    due = step_due_dates(entered_on=date(2025, 9, 15), stage_ends=date(2025, 12, 15), offset=7, repeat=7, until=28,
                         earliest=date(2025, 1, 1), latest=date(2026, 12, 31))
    assert due == [date(2025, 9, 22), date(2025, 9, 29), date(2025, 10, 9), date(2025, 10, 13)]
    assert all(is_working_day(d) for d in due)
    # a repeating step stops at the stage's end and at the horizon
    due = step_due_dates(entered_on=date(2025, 1, 6), stage_ends=date(2025, 3, 6), offset=0, repeat=14, until=None,
                         earliest=date(2025, 1, 1), latest=date(2025, 2, 10))
    assert due[-1] <= date(2025, 2, 10) and len(due) == 3


@pytest.fixture
def playbooks(db):
    if not Playbook.objects.exists():
        importlib.import_module("kam.activities.migrations.0003_playbooks").seed(apps, None)
    return {p.stage: p for p in Playbook.objects.all()}


def signed(org, signed_on, owner=None):
    return AccountFactory(owner=owner or org.specialist_a, signed_on=signed_on)


def playbook_tasks(account):
    return Task.objects.filter(account=account, source_kind=TaskSource.PLAYBOOK).order_by("due_on", "id")


@pytest.mark.django_db
def test_entering_the_initial_stage_schedules_kickoff_delivery_and_syncs(org, playbooks):
    # given an account signed on 3 September 2025
    account = signed(org, date(2025, 9, 3))
    # when its stage is brought up to date the next day
    created = playbook_services.stage_enter(actor=org.manager_a, account=account, today=date(2025, 9, 4))
    # then it is in the initial stage and its owner has the initial playbook's tasks
    account.refresh_from_db()
    assert account.relationship_stage == "initial"
    tasks = list(playbook_tasks(account))
    assert created == len(tasks) > 0
    titles = [t.title for t in tasks]
    assert titles[0] == "合作启动会" and "首次交付与验收" in titles
    assert titles.count("首月每周例会") == 4 and titles.count("第二、三月每两周例会") == 4
    assert all(t.owner == org.specialist_a and t.status == TaskStatus.OPEN for t in tasks)
    assert all(is_working_day(t.due_on) for t in tasks)
    step_ids = set(PlaybookStep.objects.filter(playbook=playbooks["initial"]).values_list("pk", flat=True))
    assert {t.source_id for t in tasks} == step_ids
    # the sync of 1 October (national day) moved to 9 October
    assert date(2025, 10, 9) in [t.due_on for t in tasks]


@pytest.mark.django_db
def test_entering_twice_or_running_nightly_never_duplicates(org, playbooks):
    account = signed(org, date(2025, 9, 1))
    playbook_services.stage_enter(actor=org.manager_a, account=account, today=date(2025, 9, 3))
    before = playbook_tasks(account).count()
    # a task done and one cancelled are not made again either
    first, second = playbook_tasks(account)[:2]
    services.task_complete(actor=org.specialist_a, task=first)
    services.task_cancel(actor=org.specialist_a, task=second)
    assert playbook_services.stage_enter(actor=org.manager_a, account=account, today=date(2025, 9, 3)) == 0
    assert playbook_services.playbook_apply(today=date(2025, 9, 4))["tasks"] == 0
    assert playbook_tasks(account).count() == before


@pytest.mark.django_db
def test_the_nightly_run_moves_accounts_into_their_new_stage(org, playbooks):
    # given an account in the initial stage with its tasks
    account = signed(org, date(2025, 6, 2))
    playbook_services.stage_enter(actor=org.manager_a, account=account, today=date(2025, 6, 3))
    # when the nightly run sees it three months after signing
    counts = playbook_services.playbook_apply(today=date(2025, 9, 2))
    # then it entered the stable stage: a value report is scheduled, what was left of the first stage is cancelled
    account.refresh_from_db()
    assert account.relationship_stage == "stable" and counts["entered"] == 1
    stable = playbook_tasks(account).filter(source_id__in=playbooks["stable"].steps.values("pk"))
    assert "季度《客户价值报告》" in {t.title for t in stable}
    left = playbook_tasks(account).filter(source_id__in=playbooks["initial"].steps.values("pk"), due_on__gte=date(2025, 9, 2))
    assert left.exists() is False or all(t.status == TaskStatus.CANCELLED for t in left)
    # and a second run the same night changes nothing
    assert playbook_services.playbook_apply(today=date(2025, 9, 2)) == {"accounts": 1, "entered": 0, "tasks": 0}


@pytest.mark.django_db
def test_an_account_signed_long_ago_gets_only_what_is_ahead(org, playbooks):
    # signed five years ago: symbiosis; yearly steps only from two weeks ago to the horizon
    account = signed(org, date(2020, 3, 2))
    playbook_services.stage_enter(actor=org.manager_a, account=account, today=date(2025, 9, 3))
    account.refresh_from_db()
    assert account.relationship_stage == "symbiosis"
    assert all(t.due_on >= date(2025, 8, 20) for t in playbook_tasks(account))


@pytest.mark.django_db
def test_the_deep_stage_holds_an_executive_meeting_every_six_months(org, playbooks, settings):
    settings.KAM = {**settings.KAM, "PLAYBOOK_HORIZON_DAYS": 400}
    account = signed(org, date(2024, 9, 2))  # deep from 2 September 2025
    playbook_services.stage_enter(actor=org.manager_a, account=account, today=date(2025, 9, 2))
    meetings = [t.due_on for t in playbook_tasks(account) if t.title == "高层会晤（每半年）"]
    assert len(meetings) == 3 and all(170 <= (b - a).days <= 195 for a, b in zip(meetings, meetings[1:], strict=False))


@pytest.mark.django_db
def test_another_branch_cannot_enter_a_stage_for_my_account(org, playbooks):
    account = signed(org, date(2025, 9, 1))
    with pytest.raises(NotVisible):
        playbook_services.stage_enter(actor=org.manager_b, account=account, today=date(2025, 9, 3))
    assert not playbook_tasks(account).exists()


@pytest.mark.django_db
def test_only_hq_edits_playbooks_and_edits_shape_the_next_tasks(org, playbooks):
    initial = playbooks["initial"]
    with pytest.raises(PermissionDenied):
        playbook_services.playbook_step_save(actor=org.manager_a, playbook=initial, data={"title": "x", "kind": "meeting"})
    step = playbook_services.playbook_step_save(actor=org.director, playbook=initial,
                                       data={"title": "客户满意度回访", "kind": "review", "offset_days": 30})
    account = signed(org, date(2025, 9, 1))
    playbook_services.stage_enter(actor=org.manager_a, account=account, today=date(2025, 9, 3))
    assert playbook_tasks(account).filter(source_id=step.pk).count() == 1


@pytest.mark.django_db
def test_the_playbooks_page_is_hq_only_and_saves_a_step(org, playbooks):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(org.manager_a)
    assert client.get("/activities/playbooks/").status_code == 403
    client.force_login(org.director)
    page = client.get("/activities/playbooks/").content.decode()
    assert "合作启动会" in page and "高层会晤（每半年）" in page
    step = PlaybookStep.objects.get(title="合作启动会")
    response = client.post(f"/activities/playbooks/{initial_pk(playbooks)}/steps/", {
        "step": step.pk, "title": "合作启动会（高层出席）", "kind": "meeting", "offset_days": 2, "sort_order": 0,
        "is_active": "on"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "合作启动会（高层出席）" in response.content.decode()
    step.refresh_from_db()
    assert step.offset_days == 2


def initial_pk(playbooks):
    return playbooks["initial"].pk


@pytest.mark.django_db
def test_the_account_card_shows_the_stage_from_the_signing_date(org, playbooks):
    account = signed(org, date(2020, 1, 6))
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(org.specialist_a)
    page = client.get(f"/accounts/{account.pk}/").content.decode()
    assert 'data-testid="relationship-stage"' in page and "Value symbiosis" in page


@pytest.mark.django_db
def test_the_nightly_task_brings_stages_up_to_date(org, playbooks):
    from kam.activities.tasks import apply_playbooks

    account = signed(org, date(2025, 9, 3))
    result = apply_playbooks.enqueue(as_of="2025-09-04").return_value
    account.refresh_from_db()
    assert account.relationship_stage == "initial" and result["entered"] == 1 and result["tasks"] > 0


@pytest.mark.django_db
def test_the_deep_and_symbiosis_stages_schedule_what_the_source_orders(org, playbooks, settings):
    settings.KAM = {**settings.KAM, "PLAYBOOK_HORIZON_DAYS": 400}
    deep = signed(org, date(2024, 9, 2))  # deep from 2 September 2025
    playbook_services.stage_enter(actor=org.manager_a, account=deep, today=date(2025, 9, 2))
    titles = {t.title for t in playbook_tasks(deep)}
    assert {"交叉销售与向上销售评估", "联合创新与案例打造", "高层会晤（每半年）"} <= titles
    symbiosis = signed(org, date(2022, 9, 1))  # symbiosis from 1 September 2025
    playbook_services.stage_enter(actor=org.manager_a, account=symbiosis, today=date(2025, 9, 1))
    kinds = {t.title for t in playbook_tasks(symbiosis)}
    assert {"共建行业生态（行业论坛、白皮书、联合投资）", "收益共享、成本共担合作（如系统销售额的 10%）",
            "发布客户成功案例"} <= kinds
    assert not kinds & {"联合创新研讨（每年）", "联合案例复盘（每年）"}


@pytest.mark.django_db
def test_the_migration_replaces_the_first_defaults_only_where_hq_left_them(playbooks):
    from kam.activities.models import PlaybookStep
    from kam.activities.playbooks.schedule import EARLIER_DEFAULTS

    migration = importlib.import_module("kam.activities.migrations.0006_playbooks_as_the_source_orders_them")
    for stage, steps in EARLIER_DEFAULTS.items():
        playbook = playbooks[stage]
        playbook.steps.all().delete()
        for order, (title, kind, offset, repeat, until) in enumerate(steps):
            PlaybookStep.objects.create(playbook=playbook, title=title, kind=kind, offset_days=offset,
                                        repeat_days=repeat, until_days=until, sort_order=order)
    edited = playbooks["symbiosis"].steps.first()
    edited.title = "总部改过的步骤"
    edited.save()
    migration.reorder(apps, None)
    assert [s.kind for s in playbooks["deep"].steps.order_by("sort_order")] == ["review", "innovation", "executive"]
    assert "总部改过的步骤" in set(playbooks["symbiosis"].steps.values_list("title", flat=True))
