"""The warning pages, export, retention form, rules page and the account health card:
scoping between branches and bad input."""

from datetime import date
from io import BytesIO

import pytest
from django.test import Client
from openpyxl import load_workbook

from factories import PASSWORD, AccountFactory
from kam.activities.models import Task, TaskStatus
from kam.insight.health.services import health_sweep
from kam.insight.models import (
    RetentionAction,
    SatisfactionSurvey,
    Warning,
    WarningRule,
    WarningState,
)
from kam.insight.warnings.services import warning_sweep

from ..warning_world import only_rules, score

pytestmark = pytest.mark.django_db
DAY = date(2026, 7, 15)


def client_for(user) -> Client:
    c = Client()
    assert c.login(username=user.username, password=PASSWORD)
    return c


@pytest.fixture
def world(org):
    only_rules("p_alive_low")
    a = AccountFactory(owner=org.specialist_a, name="广州天河智造科技有限公司")
    b = AccountFactory(owner=org.specialist_b, name="深圳南山数据服务有限公司")
    score(a, 0.1)
    score(b, 0.2)
    warning_sweep(as_of=DAY)
    health_sweep(as_of=DAY)
    return a, b, Warning.objects.get(account=a), Warning.objects.get(account=b)


def test_the_page_shows_only_the_branch_warnings_and_the_summaries(org, world):
    a, b, wa, wb = world
    page = client_for(org.manager_a).get("/insight/warnings/")
    assert page.status_code == 200
    text = page.content.decode()
    assert f'data-testid="warning-{wa.pk}"' in text and f'data-testid="warning-{wb.pk}"' not in text
    assert "深圳南山" not in text
    people = {r.key: r.total for r in page.context["people"]}
    assert people == {org.specialist_a.pk: 1}
    assert sum(r.total for r in page.context["units"]) == 1
    hq = client_for(org.director).get("/insight/warnings/")
    assert {r.key: r.high for r in hq.context["units"]} == {org.branch_a.pk: 1, org.branch_b.pk: 1}


def test_filters_and_the_export_are_scoped(org, world):
    a, b, wa, wb = world
    c = client_for(org.specialist_b)
    assert [w.pk for w in c.get("/insight/warnings/", {"state": "all"}).context["page"]] == [wb.pk]
    assert [w.pk for w in c.get("/insight/warnings/", {"q": "广州"}).context["page"]] == []
    response = c.get("/insight/warnings/export/", {"format": "xlsx", "state": "all"})
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(b"".join(response.streaming_content) if response.streaming else response.content)).active
    names = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert names == ["深圳南山数据服务有限公司"]
    director = client_for(org.director)
    assert {w.pk for w in director.get("/insight/warnings/", {"severity": "high"}).context["page"]} == {wa.pk, wb.pk}
    assert [w.pk for w in director.get("/insight/warnings/", {"state": "cleared"}).context["page"]] == []


def test_the_retention_form_records_and_refuses_bad_input(org, world):
    a, b, wa, wb = world
    c = client_for(org.specialist_a)
    bad = c.post(f"/insight/warnings/{wa.pk}/retain/", {"action": "上门拜访", "outcome": ""}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 422 and 'data-error="outcome"' in bad.content.decode()
    assert not RetentionAction.objects.exists()
    # another branch's warning is a 404
    assert c.post(f"/insight/warnings/{wb.pk}/retain/", {"action": "x", "outcome": "retained"}).status_code == 404
    ok = c.post(f"/insight/warnings/{wa.pk}/retain/", {"action": "价格锁定一年", "outcome": "retained"},
                HTTP_HX_REQUEST="true")
    assert ok.status_code == 200
    wa.refresh_from_db()
    assert wa.state == WarningState.RETAINED and Task.objects.get(pk=wa.task_id).status == TaskStatus.DONE


def test_evaluate_now_is_for_managers(org, world):
    assert client_for(org.specialist_a).post("/insight/warnings/evaluate/").status_code == 404
    assert client_for(org.manager_a).post("/insight/warnings/evaluate/").status_code == 302


def test_rules_are_edited_by_headquarters_and_read_by_others(org):
    rule = WarningRule.objects.get(code="spend_drop")
    page = client_for(org.manager_a).get("/insight/warnings/rules/")
    assert page.status_code == 200 and 'name="severity"' not in page.content.decode()
    assert client_for(org.manager_a).post("/insight/warnings/rules/", {"rule": rule.pk}).status_code == 404
    admin = client_for(org.admin)
    bad = admin.post("/insight/warnings/rules/", {"rule": rule.pk, "severity": "high", "params.drop_percent": "abc",
                                                  "params.baseline_months": "6", "params.recent_months": "3"})
    assert bad.status_code == 422 and 'data-error="params.drop_percent"' in bad.content.decode()
    ok = admin.post("/insight/warnings/rules/", {"rule": rule.pk, "severity": "low", "params.drop_percent": "40",
                                                 "params.baseline_months": "6", "params.recent_months": "3"})
    assert ok.status_code == 302
    rule.refresh_from_db()
    assert (rule.is_enabled, rule.severity, rule.params["drop_percent"]) == (False, "low", 40)


def test_the_account_health_card_and_its_surveys(org, world):
    a, b, wa, wb = world
    c = client_for(org.specialist_a)
    card = c.get(f"/insight/accounts/{a.pk}/health/")
    assert card.status_code == 200
    text = card.content.decode()
    assert 'data-testid="health-score"' in text and f'data-testid="warning-{wa.pk}"' in text
    assert c.get(f"/insight/accounts/{b.pk}/health/").status_code == 404
    bad = c.post(f"/insight/accounts/{a.pk}/surveys/", {"score": "11", "surveyed_on": "2026-07-01"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 422 and 'data-error="score"' in bad.content.decode()
    assert not SatisfactionSurvey.objects.exists()
    ok = c.post(f"/insight/accounts/{a.pk}/surveys/", {"score": "8.5", "surveyed_on": "2026-07-01", "note": "回访"},
                HTTP_HX_REQUEST="true")
    assert ok.status_code == 200 and SatisfactionSurvey.objects.get().score == 8.5
    assert c.post(f"/insight/accounts/{b.pk}/surveys/", {"score": "5", "surveyed_on": "2026-07-01"}).status_code == 404
    assert c.post(f"/insight/accounts/{a.pk}/health/evaluate/", HTTP_HX_REQUEST="true").status_code == 200
    assert c.post(f"/insight/accounts/{b.pk}/health/evaluate/").status_code == 404


def test_the_accounts_list_and_export_carry_the_latest_health(org, world):
    a, b, wa, wb = world
    c = client_for(org.specialist_a)
    text = c.get("/accounts/").content.decode()
    # alive 10 (weight 20) and warnings 60 (weight 10): 800 ÷ 30 → 27, a red badge
    assert f'data-testid="health-{a.pk}"><span class="badge bg-red-lt">27</span>' in text
    assert f'data-testid="health-{b.pk}"' not in text
    response = c.get("/accounts/export/", {"format": "xlsx"})
    sheet = load_workbook(BytesIO(b"".join(response.streaming_content) if response.streaming else response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    column = list(rows[0]).index("health")
    assert [r[column] for r in rows[1:]] == [27]
