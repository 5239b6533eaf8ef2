"""The activities and tasks API through HTTP: logging, reading, scoping, tasks."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from kam.activities.models import Activity, Task, TaskStatus
from kam.core.services import api_token_issue

pytestmark = pytest.mark.django_db


def bearer(user) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=user)}", HTTP_ACCEPT_LANGUAGE="en")


def post(client, url, body=None):
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


def visit(account, **extra):
    when = (timezone.now() - timedelta(hours=3)).isoformat()
    return {"account": account.pk, "kind": "visit", "occurred_at": when, "summary": "季度业务回顾", **extra}


def test_log_an_activity_and_read_it_back(org, world):
    # given specialist A's token
    client = bearer(org.specialist_a)
    due = (timezone.localdate() + timedelta(days=5)).isoformat()
    # when they log a visit meeting the decision maker with a next step
    response = post(client, "/api/activities", visit(
        world.a, contacts=[world.boss_a.pk], participants=[org.manager_a.pk], next_step="安排技术交流", next_step_due=due,
        location="天河区珠江新城", latitude="23.119800", longitude="113.321500",
    ))
    # then it is created with the derived decision-maker flag and both of our people
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["decision_maker_met"] is True
    assert {p["id"] for p in body["participants"]} == {org.specialist_a.pk, org.manager_a.pk}
    assert body["contacts"] == [{"id": world.boss_a.pk, "name": "李总", "decision_role": "decision_maker"}]
    got = client.get(f"/api/activities/{body['id']}").json()
    assert got["summary"] == "季度业务回顾" and got["location"] == "天河区珠江新城"
    # and the next step is on their tasks
    tasks = client.get("/api/tasks").json()
    assert [t["title"] for t in tasks["items"]] == ["安排技术交流"]
    assert tasks["items"][0]["source_kind"] == "activity" and tasks["items"][0]["source_id"] == body["id"]


def test_decision_maker_met_cannot_be_smuggled_in(org, world):
    client = bearer(org.specialist_a)
    response = post(client, "/api/activities", visit(world.a, decision_maker_met=True))
    assert response.status_code == 422
    response = post(client, "/api/activities", visit(world.a, contacts=[world.clerk_a.pk]))
    assert response.json()["decision_maker_met"] is False


def test_contacts_of_another_account_are_a_field_error_and_nothing_is_written(org, world):
    client = bearer(org.director)
    response = post(client, "/api/activities", visit(world.a, contacts=[world.boss_b.pk], next_step="x",
                                                     next_step_due=timezone.localdate().isoformat()))
    assert response.status_code == 422
    assert "contacts" in response.json()["errors"]
    assert Activity.objects.count() == 0 and Task.objects.count() == 0


def test_future_times_and_bad_input_are_422_never_500(org, world):
    client = bearer(org.specialist_a)
    future = (timezone.now() + timedelta(days=3)).isoformat()
    assert "occurred_at" in post(client, "/api/activities", visit(world.a, occurred_at=future)).json()["errors"]
    assert post(client, "/api/activities", visit(world.a, occurred_at="0001-01-01T00:00:00")).status_code == 422
    assert post(client, "/api/activities", visit(world.a, kind="gossip")).status_code == 422
    assert post(client, "/api/activities", visit(world.a, latitude="91")).status_code == 422
    assert post(client, "/api/activities", visit(world.a, latitude="23.1")).status_code == 422
    assert Activity.objects.count() == 0


@pytest.mark.parametrize("as_session", [False, True])
def test_another_branch_cannot_read_log_against_or_complete(org, world, log_activity, as_session):
    # given an activity and a task of branch A
    activity = log_activity(org.specialist_a, world.a, next_step="回访", next_step_due=timezone.localdate())
    task = Task.objects.get()
    if as_session:
        client = Client()
        client.force_login(org.specialist_b)
    else:
        client = bearer(org.specialist_b)
    # then branch B gets 404 for each of them, and its lists hold none of them
    assert client.get(f"/api/activities/{activity.pk}").status_code == 404
    assert post(client, "/api/activities", visit(world.a)).status_code == 404
    assert post(client, f"/api/tasks/{task.pk}/complete").status_code == 404
    assert client.get(f"/api/activities?account={world.a.pk}").json()["count"] == 0
    assert client.get("/api/activities").json()["count"] == 0
    assert client.get("/api/tasks").json()["count"] == 0
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN and Activity.objects.count() == 1


def test_complete_a_task(org, world, log_activity):
    log_activity(org.specialist_a, world.a, next_step="回访", next_step_due=timezone.localdate())
    task = Task.objects.get()
    client = bearer(org.specialist_a)
    done = post(client, f"/api/tasks/{task.pk}/complete")
    assert done.status_code == 200 and done.json()["status"] == "done"
    assert post(client, f"/api/tasks/{task.pk}/complete").status_code == 409
    assert client.get("/api/tasks").json()["count"] == 0
    assert client.get("/api/tasks?status=done").json()["count"] == 1


def test_list_filters_and_counts_its_queries(org, world, log_activity, django_assert_num_queries):
    now = timezone.now()
    for day in range(10):
        log_activity(org.specialist_a, world.a, occurred_at=now - timedelta(days=day), kind="visit" if day < 4 else "call",
                     contacts=[world.boss_a], participants=[org.manager_a])
    client = bearer(org.manager_a)
    # token, user's unit, team ids, unit subtree, rows, participants, contacts (the page is not full: no count)
    with django_assert_num_queries(8):  # 7 and the audit event of the list read
        page = client.get("/api/activities?kind=visit").json()
    assert page["count"] == 4 and all(item["kind"] == "visit" for item in page["items"])
    since = (timezone.localdate() - timedelta(days=1)).isoformat()
    assert client.get(f"/api/activities?date_from={since}").json()["count"] == 2
    assert client.get(f"/api/activities?person={org.specialist_a2.pk}").json()["count"] == 0


def test_dates_are_iso_text_not_numbers(org, world):
    client = bearer(org.specialist_a)
    assert client.get("/api/activities?date_to=0").status_code == 422
    assert client.get("/api/activities?date_to=2026-01-31").status_code == 200
    assert post(client, "/api/activities", visit(world.a, occurred_at=1700000000)).status_code == 422
    assert post(client, "/api/activities", visit(world.a, next_step="x", next_step_due=0)).status_code == 422
    assert client.get("/api/activities?date_from=0001-01-01&date_to=9999-12-31").json()["count"] == 0
