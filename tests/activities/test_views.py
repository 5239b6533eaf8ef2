"""Activity pages through the Django test client: the account card, the list, the export, my tasks."""

import re
from datetime import timedelta
from io import BytesIO

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from kam.activities.models import Activity, Task, TaskStatus

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def htmx(client, method, url, data=None):
    return getattr(client, method)(url, data or {}, HTTP_HX_REQUEST="true")


def visit_form(**extra):
    when = timezone.localtime() - timedelta(hours=1)
    return {"kind": "visit", "occurred_at": when.strftime("%Y-%m-%dT%H:%M"), "summary": "现场演示新方案", **extra}


def test_account_page_loads_the_timeline_card(org, world):
    page = logged_in(org.specialist_a).get(f"/accounts/{world.a.pk}/").content.decode()
    assert f'hx-get="/activities/accounts/{world.a.pk}/"' in page


def test_logging_from_the_account_card_shows_it_on_the_timeline(org, world):
    # given specialist A on their account's card
    client = logged_in(org.specialist_a)
    due = (timezone.localdate() + timedelta(days=3)).isoformat()
    # when they log a visit meeting the decision maker, with a next step
    response = htmx(client, "post", f"/activities/accounts/{world.a.pk}/",
                    visit_form(contacts=[world.boss_a.pk], next_step="发送报价单", next_step_due=due))
    # then the refreshed card shows it, with the decision-maker badge and the next step
    card = response.content.decode()
    assert response.status_code == 200 and 'data-testid="logged"' in card
    assert "现场演示新方案" in card and 'data-testid="decision-maker-met"' in card and "发送报价单" in card
    # and the next step is on their tasks
    assert "发送报价单" in htmx(client, "get", "/activities/tasks/?card=1").content.decode()


def test_invalid_input_is_shown_next_to_the_fields_and_nothing_is_written(org, world):
    client = logged_in(org.specialist_a)
    future = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = htmx(client, "post", f"/activities/accounts/{world.a.pk}/", visit_form(summary="", occurred_at=future))
    card = response.content.decode()
    assert response.status_code == 200
    assert 'data-field-error="summary"' in card
    response = htmx(client, "post", f"/activities/accounts/{world.a.pk}/", visit_form(occurred_at=future))
    assert 'data-field-error="occurred_at"' in response.content.decode()
    response = htmx(client, "post", f"/activities/accounts/{world.a.pk}/", visit_form(contacts=[world.boss_b.pk]))
    assert 'data-field-error="contacts"' in response.content.decode()
    assert Activity.objects.count() == 0


def test_a_contact_row_opens_the_form_with_that_contact_chosen(org, world):
    client = logged_in(org.specialist_a)
    contacts_tab = client.get(f"/accounts/{world.a.pk}/?tab=contacts").content.decode()
    assert f"/activities/accounts/{world.a.pk}/log/?contact={world.boss_a.pk}" in contacts_tab
    form = client.get(f"/activities/accounts/{world.a.pk}/log/?contact={world.boss_a.pk}").content.decode()
    checked = re.findall(r'name="contacts" value="(\d+)"[^>]*checked', form)
    assert checked == [str(world.boss_a.pk)]
    response = client.post(f"/activities/accounts/{world.a.pk}/log/", visit_form(contacts=[world.boss_a.pk]))
    assert response.status_code == 302
    assert Activity.objects.get().decision_maker_met


def test_the_list_filters_and_counts_its_queries(org, world, log_activity, django_assert_num_queries):
    # given twelve activities of A's account, with participants and contacts
    now = timezone.now()
    for day in range(12):
        log_activity(org.specialist_a, world.a, occurred_at=now - timedelta(days=day), kind="call" if day % 3 else "visit",
                     contacts=[world.boss_a, world.clerk_a], participants=[org.manager_a])
    client = logged_in(org.manager_a)
    # when the manager filters the list to visits: session, user with unit, the scope (team,
    # subtree: read once for the pickers and the list), count, rows, participants, contacts,
    # and the session's idle clock (a savepoint around it) — however many rows the page holds
    with django_assert_num_queries(11):
        page = client.get("/activities/?kind=visit").content.decode()
    # then the page shows the four visits
    assert "4 activities" in page
    since = (timezone.localdate() - timedelta(days=2)).isoformat()
    assert "3 activities" in htmx(client, "get", f"/activities/?date_from={since}").content.decode()
    assert "12 activities" in client.get(f"/activities/?person={org.manager_a.pk}").content.decode()


def test_export_is_the_filtered_list(org, world, log_activity):
    log_activity(org.specialist_a, world.a, kind="visit", contacts=[world.boss_a])
    log_activity(org.specialist_a, world.a, kind="call")
    log_activity(org.specialist_b, world.b, kind="visit")
    response = logged_in(org.specialist_a).get("/activities/export/?kind=visit&format=xlsx")
    rows = list(load_workbook(BytesIO(b"".join(response.streaming_content) if response.streaming else response.content)).active.values)
    assert len(rows) == 2
    assert world.a.name in rows[1] and "李总" in rows[1]


def test_another_branch_cannot_list_log_export_or_complete(org, world, log_activity):
    # given an activity and a task of branch A
    log_activity(org.specialist_a, world.a, next_step="回访", next_step_due=timezone.localdate())
    task = Task.objects.get()
    client = logged_in(org.specialist_b)
    # then branch B sees none of it and cannot act on it
    assert "0 activities" in client.get("/activities/").content.decode()
    assert "0 activities" in client.get(f"/activities/?account={world.a.pk}").content.decode()
    assert client.get(f"/activities/accounts/{world.a.pk}/").status_code == 404
    assert client.get(f"/activities/accounts/{world.a.pk}/log/").status_code == 404
    assert client.post(f"/activities/accounts/{world.a.pk}/", visit_form()).status_code == 404
    assert client.post(f"/activities/accounts/{world.a.pk}/log/", visit_form()).status_code == 404
    export = client.get("/activities/export/?format=csv")
    assert world.a.name not in b"".join(export.streaming_content).decode()
    assert client.post(f"/activities/tasks/{task.pk}/complete/").status_code == 404
    assert client.post(f"/activities/tasks/{task.pk}/cancel/").status_code == 404
    assert "回访" not in client.get("/activities/tasks/").content.decode()
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN and Activity.objects.count() == 1


def test_home_card_lists_my_open_tasks_and_completes_them(org, world, log_activity, django_assert_num_queries):
    for n in range(3):
        log_activity(org.specialist_a, world.a, next_step=f"任务{n}", next_step_due=timezone.localdate() + timedelta(days=n))
    client = logged_in(org.specialist_a)
    assert 'hx-get="/activities/tasks/?card=1"' in client.get("/").content.decode()
    # session, user with unit, the account scope (team), the tasks with their accounts
    with django_assert_num_queries(4):
        card = htmx(client, "get", "/activities/tasks/?card=1").content.decode()
    assert all(f"任务{n}" in card for n in range(3))
    first = Task.objects.get(title="任务0")
    card = htmx(client, "post", f"/activities/tasks/{first.pk}/complete/?card=1").content.decode()
    assert "任务0" not in card and "任务1" in card
    first.refresh_from_db()
    assert first.status == TaskStatus.DONE


def test_a_team_member_may_not_complete_someone_elses_task(org, world, log_activity):
    from kam.accounts.services import team_member_add

    team_member_add(actor=org.manager_a, account=world.a, user=org.specialist_a2, team_role="backup")
    log_activity(org.specialist_a, world.a, next_step="回访", next_step_due=timezone.localdate())
    task = Task.objects.get()
    assert logged_in(org.specialist_a2).post(f"/activities/tasks/{task.pk}/complete/").status_code == 403
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


def test_the_card_shows_the_latest_activities_and_links_to_the_rest(org, world, log_activity, settings):
    settings.KAM = {**settings.KAM, "TIMELINE_LENGTH": 2}
    now = timezone.now()
    for day, summary in enumerate(["最新一次", "上一次", "很久以前"]):
        log_activity(org.specialist_a, world.a, occurred_at=now - timedelta(days=day), summary=summary)
    card = logged_in(org.specialist_a).get(f"/activities/accounts/{world.a.pk}/").content.decode()
    assert card.index("最新一次") < card.index("上一次")
    assert "很久以前" not in card
    assert f"/activities/?account={world.a.pk}" in card and "Show all activities" in card


def test_the_tasks_page_shows_a_page_at_a_time_and_a_task_done_keeps_the_page(org, world, settings):
    from kam.activities.models import TaskSource
    from kam.activities.services import NewTask, tasks_open_many

    settings.KAM = {**settings.KAM, "PAGE_SIZE": 5}
    # given twelve open tasks of specialist A
    today = timezone.localdate()
    tasks_open_many(actor=None, tasks=[NewTask(owner_id=org.specialist_a.pk, account_id=world.a.pk,
                                               source_kind=TaskSource.MANUAL, source_id=None, title=f"待办{n:02d}",
                                               due_on=today + timedelta(days=n), created_by_id=org.specialist_a.pk)
                                       for n in range(12)])
    client = logged_in(org.specialist_a)
    # when the tasks page opens, then it lists the first five, the nearest due first, with the way to the next
    first = client.get("/activities/tasks/").content.decode()
    assert re.findall(r"待办\d\d", first) == [f"待办{n:02d}" for n in range(5)]
    assert 'data-testid="page-next"' in first and 'hx-target="#my-tasks"' in first
    # and the next page, as htmx fetches it, holds the next five
    second = htmx(client, "get", "/activities/tasks/?page=2").content.decode()
    assert re.findall(r"待办\d\d", second) == [f"待办{n:02d}" for n in range(5, 10)]
    # and marking one done there answers with that page again, less the task
    done = Task.objects.get(title="待办06")
    assert f'hx-post="/activities/tasks/{done.pk}/complete/?page=2"' in second
    after = htmx(client, "post", f"/activities/tasks/{done.pk}/complete/?page=2").content.decode()
    assert re.findall(r"待办\d\d", after) == ["待办05", "待办07", "待办08", "待办09", "待办10"]
