"""The churn API through HTTP: events listed and filtered in scope, an event's reason, the
mark "moved to a competitor", the rates and breakdowns, the definitions; 404 outside the
caller's scope, 403 for refusals, 422 naming the field for bad input."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client

from factories import AccountFactory
from kam.core.models import Industry
from kam.core.services import api_token_issue
from kam.insight.models import ChurnDefinition, ChurnEvent, ChurnReason
from kam.sales.models import Competitor

from ..churn_history import month, monthly

pytestmark = pytest.mark.django_db


def bearer(user) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=user)}", HTTP_ACCEPT_LANGUAGE="en")


def send(client, method, url, body):
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json")


def event(account, code="no-revenue", on=date(2026, 7, 10), lost="12000", reason=None):
    return ChurnEvent.objects.create(account=account, definition=ChurnDefinition.objects.get(code=code), detected_on=on,
                                     baseline_amount=Decimal(lost) / 12, recent_amount=0, amount_lost=Decimal(lost),
                                     reason=ChurnReason.objects.get(code=reason) if reason else None)


@pytest.fixture
def two(org):
    gov = Industry.objects.get(code="gov")
    a = AccountFactory(owner=org.specialist_a, industry=gov)
    b = AccountFactory(owner=org.specialist_b)
    monthly(a, month(2025, 7), [1000] * 12)
    monthly(b, month(2025, 7), [3000] * 12)
    return event(a, reason="rival_voice"), event(b, lost="36000")


def test_events_are_listed_in_scope_and_filtered(org, two):
    ea, eb = two
    mine = bearer(org.specialist_a).get("/api/churn/events").json()
    assert [e["id"] for e in mine["items"]] == [ea.pk] and mine["count"] == 1
    item = mine["items"][0]
    assert item["reason"]["name"] == "使用对手长话业务" and item["amount_lost"] in ("12000.00", 12000.0, "12000")
    everyone = bearer(org.admin)
    assert everyone.get("/api/churn/events").json()["count"] == 2
    assert [e["id"] for e in everyone.get("/api/churn/events?reason=0").json()["items"]] == [eb.pk]
    assert everyone.get(f"/api/churn/events?unit={org.branch_a.pk}").json()["count"] == 1
    assert everyone.get("/api/churn/events?detected_from=2026-07-11").json()["count"] == 0
    assert everyone.get("/api/churn/events?state=recovered").json()["count"] == 0
    bad = everyone.get("/api/churn/events?detected_from=2026-13-01&state=gone")
    assert bad.status_code == 422 and {"detected_from", "state"} <= set(bad.json()["errors"])
    for number in ("0", "1767225600", "2026-7-1"):  # a date is YYYY-MM-DD, never seconds since 1970
        bad = everyone.get(f"/api/churn/events?detected_to={number}")
        assert bad.status_code == 422 and "detected_to" in bad.json()["errors"], number


def test_an_event_outside_scope_is_not_found(org, two):
    ea, eb = two
    b = bearer(org.specialist_b)
    assert b.get(f"/api/churn/events/{ea.pk}").status_code == 404
    assert send(b, "patch", f"/api/churn/events/{ea.pk}", {"reason": None}).status_code == 404
    assert send(b, "post", f"/api/accounts/{ea.account_id}/churn",
                {"competitor": Competitor.objects.first().pk}).status_code == 404
    ea.refresh_from_db()
    assert ea.reason is not None


def test_set_and_clear_a_reason(org, two):
    ea, _eb = two
    a = bearer(org.specialist_a)
    rival = Competitor.objects.filter(is_active=True).first()
    data = ChurnReason.objects.get(code="rival_data")
    r = send(a, "patch", f"/api/churn/events/{ea.pk}", {"reason": data.pk, "competitor": rival.pk, "note": "数据专线"})
    assert r.status_code == 200 and r.json()["reason"]["id"] == data.pk and r.json()["competitor"]["id"] == rival.pk
    r = send(a, "patch", f"/api/churn/events/{ea.pk}", {"reason": None})
    assert r.status_code == 200 and r.json()["reason"] is None and r.json()["note"] == "数据专线"
    bad = send(a, "patch", f"/api/churn/events/{ea.pk}", {"reason": 999999})
    assert bad.status_code == 422 and "reason" in bad.json()["errors"]
    assert send(a, "patch", f"/api/churn/events/{ea.pk}", {"reason": "5"}).status_code == 422
    assert send(a, "patch", f"/api/churn/events/{ea.pk}", {"owner": 1}).status_code == 422


def test_mark_an_account_moved_to_a_competitor(org, two):
    ea, _eb = two
    rival = Competitor.objects.filter(is_active=True).first()
    a = bearer(org.specialist_a)
    url = f"/api/accounts/{ea.account_id}/churn"
    future = send(a, "post", url, {"competitor": rival.pk, "on": "2999-01-01"})
    assert future.status_code == 422 and "on" in future.json()["errors"]
    assert "competitor" in send(a, "post", url, {}).json()["errors"]
    done = send(a, "post", url, {"competitor": rival.pk, "on": "2026-07-20",
                                 "reason": ChurnReason.objects.get(code="price").pk})
    assert done.status_code == 201
    body = done.json()
    assert body["definition"]["rule"] == "competitor" and body["detected_on"] == "2026-07-20"
    assert Decimal(str(body["amount_lost"])) == Decimal("12000.00")
    assert body["evidence"]["baseline_months"] == ["2025-07", "2026-06"]
    assert send(a, "post", url, {"competitor": rival.pk}).status_code == 409
    # an analyst sees the account but may not mark it
    other = AccountFactory(owner=org.specialist_a)
    refused = send(bearer(org.analyst_hq), "post", f"/api/accounts/{other.pk}/churn", {"competitor": rival.pk})
    assert refused.status_code == 403 and "account" in refused.json()["errors"]


def test_rates_and_breakdowns(org, two):
    hq = bearer(org.admin).get("/api/churn/rates?start=2026-07&end=2026-07").json()
    (july,) = hq["periods"]
    assert (july["base"], july["churned"], july["count_rate"]) == (2, 2, 1.0)
    assert Decimal(str(july["lost"])) == Decimal("48000.00") and july["amount_rate"] == 1.0
    assert {r["label"]: r["lost_share"] for r in hq["by_reason"]} == {"Unclassified": 0.75, "使用对手长话业务": 0.25}
    assert {r["label"]: r["churned"] for r in hq["by_unit"]} == {"广州分公司": 1, "深圳分公司": 1}
    mine = bearer(org.specialist_b).get("/api/churn/rates?start=2026-07&end=2026-07").json()
    assert (mine["total"]["base"], mine["total"]["churned"]) == (1, 1)
    assert [r["label"] for r in mine["by_reason"]] == ["Unclassified"]
    quarters = bearer(org.admin).get("/api/churn/rates?start=2026-04&end=2026-09&by=quarter").json()
    assert [p["label"] for p in quarters["periods"]] == ["2026-Q2", "2026-Q3"]


def test_rates_bad_input_and_units_outside_reach(org, two):
    client = bearer(org.specialist_a)
    bad = client.get("/api/churn/rates?start=2026-13&end=2026-07&by=week")
    assert bad.status_code == 422 and {"start", "by"} <= set(bad.json()["errors"])
    backwards = client.get("/api/churn/rates?start=2026-07&end=2026-01")
    assert backwards.status_code == 422 and "end" in backwards.json()["errors"]
    assert bearer(org.manager_a).get(f"/api/churn/rates?start=2026-07&end=2026-07&unit={org.branch_b.pk}").status_code == 404


def test_definitions_are_read_by_all_and_changed_by_hq(org):
    d = ChurnDefinition.objects.get(code="no-revenue")
    assert len(bearer(org.specialist_a).get("/api/churn/definitions").json()) == 3
    refused = send(bearer(org.manager_a), "patch", f"/api/churn/definitions/{d.pk}", {"params": {"days": 90}})
    assert refused.status_code == 403
    hq = bearer(org.director)
    bad = send(hq, "patch", f"/api/churn/definitions/{d.pk}", {"params": {"days": 0}})
    assert bad.status_code == 422 and "params.days" in bad.json()["errors"]
    unknown = send(hq, "patch", f"/api/churn/definitions/{d.pk}", {"params": {"weeks": 3}})
    assert unknown.status_code == 422 and "params.weeks" in unknown.json()["errors"]
    ok = send(hq, "patch", f"/api/churn/definitions/{d.pk}", {"params": {"days": 90}, "is_active": False})
    assert ok.status_code == 200 and ok.json()["params"] == {"days": 90} and ok.json()["is_active"] is False
    assert send(hq, "patch", "/api/churn/definitions/999999", {"name": "x"}).status_code == 404


def test_a_range_longer_than_five_years_is_refused(org):
    long = bearer(org.admin).get("/api/churn/rates?start=2020-01&end=2025-01")
    assert long.status_code == 422 and "end" in long.json()["errors"]
    assert bearer(org.admin).get("/api/churn/rates?start=2020-02&end=2025-01&by=quarter").status_code == 200


def test_days_and_months_off_the_calendar_are_refused_not_errors(org, two):
    ea, _eb = two
    client = bearer(org.admin)
    for query in ("start=0000-01&end=0001-01", "start=9999-01&end=9999-12", "start=2026-00&end=2026-01"):
        assert client.get(f"/api/churn/rates?{query}").status_code == 422
    old = send(client, "post", f"/api/accounts/{ea.account_id}/churn",
               {"competitor": Competitor.objects.first().pk, "on": "0001-01-01"})
    assert old.status_code == 422 and "on" in old.json()["errors"]
