"""The warnings and health API through HTTP: scoping (404 outside it) and bad input."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.test import Client

from factories import AccountFactory
from kam.core.services import api_token_issue
from kam.insight.health.services import health_sweep
from kam.insight.models import RetentionAction, SatisfactionSurvey, Warning, WarningState
from kam.insight.warnings.services import warning_sweep

from ..warning_world import only_rules, score

pytestmark = pytest.mark.django_db
DAY = date(2026, 7, 15)


def bearer(user) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=user)}", HTTP_ACCEPT_LANGUAGE="en")


def send(client, url, body=None):
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


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


def test_the_list_and_one_warning_are_scoped(org, world):
    a, b, wa, wb = world
    client = bearer(org.specialist_b)
    body = client.get("/api/warnings").json()
    assert body["count"] == 1 and [w["id"] for w in body["items"]] == [wb.pk]
    item = body["items"][0]
    assert item["rule_code"] == "p_alive_low" and item["evidence"] == {"p_alive": 0.2, "threshold": 0.3}
    assert item["owner"]["id"] == org.specialist_b.pk and item["task"] == wb.task_id
    assert client.get(f"/api/warnings/{wa.pk}").status_code == 404
    assert client.get(f"/api/warnings/{wb.pk}").status_code == 200
    hq = bearer(org.director).get("/api/warnings", {"severity": "high", "page_size": 1}).json()
    assert hq["count"] == 2 and len(hq["items"]) == 1
    assert bearer(org.director).get("/api/warnings", {"state": "cleared"}).json()["count"] == 0
    assert bearer(org.director).get("/api/warnings", {"severity": "urgent"}).status_code == 422


def test_retention_through_the_api(org, world):
    a, b, wa, wb = world
    client = bearer(org.specialist_a)
    assert send(client, f"/api/warnings/{wa.pk}/retention", {"action": "上门拜访"}).status_code == 422
    assert send(client, f"/api/warnings/{wa.pk}/retention", {"action": " ", "outcome": "retained"}).status_code == 422
    assert send(client, f"/api/warnings/{wb.pk}/retention", {"action": "x", "outcome": "retained"}).status_code == 404
    assert not RetentionAction.objects.exists()
    response = send(client, f"/api/warnings/{wa.pk}/retention", {"action": "价格锁定", "outcome": "partly"})
    assert response.status_code == 200, response.content
    assert response.json()["state"] == WarningState.RETAINED and response.json()["actions"][0]["outcome"] == "partly"
    assert send(client, f"/api/warnings/{wa.pk}/retention", {"action": "x", "outcome": "lost"}).status_code == 409


def test_evaluate_now(org, world):
    a, b, wa, wb = world
    assert send(bearer(org.specialist_a), "/api/warnings/evaluate").status_code == 403
    assert send(bearer(org.specialist_a), "/api/warnings/evaluate", {"account": b.pk}).status_code == 404
    response = send(bearer(org.specialist_a), "/api/warnings/evaluate", {"account": a.pk})
    assert response.status_code == 200 and response.json()["kept"] == 1
    assert send(bearer(org.manager_a), "/api/warnings/evaluate").status_code == 200


def test_rules_list(org):
    rules = bearer(org.specialist_a).get("/api/warnings/rules").json()
    assert len(rules) == 8 and rules[0]["code"] == "spend_drop" and rules[0]["params"]["drop_percent"] == 30


def test_health_and_surveys(org, world):
    a, b, wa, wb = world
    client = bearer(org.specialist_a)
    body = client.get(f"/api/accounts/{a.pk}/health").json()
    # alive 10 (weight 20), warnings 100 − 40 = 60 (weight 10): (200 + 600) ÷ 30 = 26.67 → 27
    assert body["score"] == 27 and body["parts"]["alive"] == 10.0 and body["parts"]["payment"] is None
    assert body["band"] == "red" and body["trend"] == [{"month": "2026-07-01", "score": 27}]
    assert client.get(f"/api/accounts/{b.pk}/health").status_code == 404
    assert send(client, f"/api/accounts/{a.pk}/surveys", {"score": 11, "surveyed_on": "2026-07-01"}).status_code == 422
    # a bare number is not a date (it would read as a Unix time: 1970-01-01)
    refused = send(client, f"/api/accounts/{a.pk}/surveys", {"score": 5, "surveyed_on": 0})
    assert refused.status_code == 422 and "surveyed_on" in refused.json()["errors"]
    assert send(client, f"/api/accounts/{b.pk}/surveys", {"score": 5, "surveyed_on": "2026-07-01"}).status_code == 404
    assert not SatisfactionSurvey.objects.exists()
    created = send(client, f"/api/accounts/{a.pk}/surveys", {"score": "7.5", "surveyed_on": "2026-07-01", "note": "回访"})
    assert created.status_code == 201, created.content
    assert [s["score"] for s in client.get(f"/api/accounts/{a.pk}/surveys").json()] == ["7.5"]
    assert client.get(f"/api/accounts/{b.pk}/surveys").status_code == 404
