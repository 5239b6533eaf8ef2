"""The leads API through HTTP: creating (assigned by the rules), listing with the clock,
following up, qualifying with 查重, and scoping across branches."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from factories import AccountFactory
from kam.core.services import api_token_issue
from kam.sales.leads.services import lead_create
from kam.sales.models import Lead, LeadAssignmentRule, LeadSource, LeadStatus

pytestmark = pytest.mark.django_db


def bearer(user) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=user)}", HTTP_ACCEPT_LANGUAGE="en")


def post(client, url, body=None):
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


def website() -> int:
    return LeadSource.objects.get(code="website").pk


def new_lead(actor, company, *, at=None, **data):
    data.setdefault("source", website())
    return lead_create(actor=actor, data={"company": company, **data}, at=at)


def test_create_a_lead_and_read_it_back(org):
    # given a round robin rule for branch A
    LeadAssignmentRule.objects.create(name="branch A", unit=org.branch_a, sort_order=1)
    client = bearer(org.manager_a)
    # when two leads come in through the API
    first = post(client, "/api/leads", {"source": website(), "company": "广州接口客户甲", "phone": "020-38888888",
                                        "estimated_amount": "120000.50", "need": "专线"})
    second = post(client, "/api/leads", {"source": website(), "company": "广州接口客户乙"})
    # then the rule deals them in turn, each with its clock
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["assignee"]["id"] == org.specialist_a.pk and body["status"] == "new"
    assert body["phone"] == "020-38888888" and body["estimated_amount"] in ("120000.50", 120000.5)
    assert body["follow_up_due_at"] is not None and body["overdue"] is False
    assert second.json()["assignee"]["id"] == org.specialist_a2.pk
    got = client.get(f"/api/leads/{body['id']}").json()
    assert got["company"] == "广州接口客户甲" and got["follow_ups"] == []


def test_assignment_and_bookkeeping_cannot_be_smuggled_in(org):
    client = bearer(org.specialist_a)
    for field, value in (("unit", org.branch_b.pk), ("status", "qualified"), ("follow_up_due_at", "2030-01-01"),
                         ("rule", 1)):
        response = post(client, "/api/leads", {"source": website(), "company": "甲", field: value})
        assert response.status_code == 422, field
    response = post(client, "/api/leads", {"source": website(), "company": "甲", "assignee": org.specialist_b.pk})
    assert response.status_code == 422 and "assignee" in response.json()["errors"]
    assert not Lead.objects.exists()


def test_bad_values_name_their_field(org):
    response = post(bearer(org.specialist_a), "/api/leads", {
        "source": 999999, "company": "甲", "uscc": "123", "email": "nope", "industry": 999999})
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"source", "uscc", "email", "industry"}


def test_follow_up_then_the_list_shows_it_followed(org):
    late = new_lead(org.specialist_a, "逾期公司", at=timezone.now() - timedelta(hours=30))
    fresh = new_lead(org.specialist_a, "新公司")
    client = bearer(org.specialist_a)
    overdue = client.get("/api/leads", {"overdue": "true"}).json()
    assert [i["id"] for i in overdue["items"]] == [late.pk] and overdue["items"][0]["overdue"] is True
    response = post(client, f"/api/leads/{late.pk}/follow-ups", {"note": "已电话联系", "plan": "周五拜访"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "following" and body["follow_ups"][0]["note"] == "已电话联系"
    assert client.get("/api/leads", {"overdue": "true"}).json()["items"] == []
    assert {i["id"] for i in client.get("/api/leads", {"status": "new"}).json()["items"]} == {fresh.pk}


def test_qualify_offers_candidates_then_uses_the_chosen_account(org):
    existing = AccountFactory(owner=org.specialist_a, name="广州云帆物流有限公司")
    lead = new_lead(org.specialist_a, "广州云帆物流有限公司", estimated_amount="300000")
    client = bearer(org.specialist_a)
    body = {"outcome": "opportunity", "expected_close": "2027-06-30"}
    response = post(client, f"/api/leads/{lead.pk}/qualify", body)
    assert response.status_code == 409
    assert [c["id"] for c in response.json()["candidates"]] == [existing.pk]
    response = post(client, f"/api/leads/{lead.pk}/qualify", {**body, "account": existing.pk})
    assert response.status_code == 200, response.content
    result = response.json()
    assert result["status"] == "qualified" and result["account"]["id"] == existing.pk
    assert result["opportunity"] is not None
    opportunity = client.get(f"/api/opportunities/{result['opportunity']['id']}")
    assert opportunity.status_code == 200 and opportunity.json()["amount"] in ("300000.00", 300000.0, 300000)


def test_qualify_as_a_nurtured_prospect_creates_the_account(org):
    lead = new_lead(org.specialist_a, "佛山全新公司")
    response = post(bearer(org.specialist_a), f"/api/leads/{lead.pk}/qualify", {"outcome": "nurture"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "nurture" and response.json()["opportunity"] is None
    lead.refresh_from_db()
    assert lead.account.lifecycle_status == "prospect" and lead.account.owner == org.specialist_a


def test_another_branch_sees_and_changes_nothing(org, accounts):
    lead = new_lead(org.specialist_a, "天河保密公司")
    for outsider in (org.specialist_b, org.manager_b):
        client = bearer(outsider)
        assert client.get("/api/leads").json()["count"] == 0
        assert client.get(f"/api/leads/{lead.pk}").status_code == 404
        assert post(client, f"/api/leads/{lead.pk}/follow-ups", {"note": "x"}).status_code == 404
        assert post(client, f"/api/leads/{lead.pk}/qualify", {"outcome": "nurture"}).status_code == 404
        assert post(client, f"/api/leads/{lead.pk}/assign", {"assignee": outsider.pk}).status_code == 404
        assert post(client, f"/api/leads/{lead.pk}/disqualify", {"note": "x"}).status_code == 404
    # nor may branch A qualify onto branch B's account
    response = post(bearer(org.specialist_a), f"/api/leads/{lead.pk}/qualify",
                    {"outcome": "nurture", "account": accounts.b.pk})
    assert response.status_code == 422 and "account" in response.json()["errors"]
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW and not lead.follow_ups.exists()


def test_a_manager_assigns_and_disqualifies(org):
    lead = new_lead(org.specialist_a, "改派公司")
    client = bearer(org.manager_a)
    response = post(client, f"/api/leads/{lead.pk}/assign", {"assignee": org.specialist_a2.pk})
    assert response.status_code == 200 and response.json()["assignee"]["id"] == org.specialist_a2.pk
    assert post(bearer(org.specialist_a2), f"/api/leads/{lead.pk}/assign",
                {"assignee": org.specialist_a2.pk}).status_code == 403
    response = post(client, f"/api/leads/{lead.pk}/disqualify", {"note": "重复线索"})
    assert response.status_code == 200 and response.json()["status"] == "disqualified"
    assert post(client, f"/api/leads/{lead.pk}/follow-ups", {"note": "x"}).status_code == 409
