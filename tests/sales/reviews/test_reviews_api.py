"""The deal-review API: submit, the order of the opinions, the decision's follow-ups, filters,
scoping across branches, and bad input as 4xx, never 500."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.test import Client

from kam.core.services import api_token_issue
from kam.sales.models import DealReview
from tests.sales.reviewing import SHEET, make_gm, submit


def bearer(user) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=user)}", HTTP_ACCEPT_LANGUAGE="en")


def post(client, url, body=None):
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


@pytest.fixture
def gm(org):
    return make_gm(org)


@pytest.fixture
def opportunity(org, accounts, open_opportunity):
    return open_opportunity(org.specialist_a, accounts.a, name="园区专线扩容", amount=Decimal("250000"))


def test_submit_and_take_a_review_to_its_decision(org, gm, opportunity):
    # given the owner submits the opportunity with its tracking sheet
    response = post(bearer(org.specialist_a), "/api/reviews", {"opportunity": opportunity.pk, **SHEET})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["project"], body["amount"]) == ("submitted", "园区专线扩容", "250000.00")
    assert body["account"]["id"] == opportunity.account_id and body["manager"]["text"] == ""
    url = f"/api/reviews/{body['id']}"
    # when the director tries first, the API names the rule
    early = post(bearer(org.director), f"{url}/recommend", {"recommendation": "同意"})
    assert early.status_code == 422 and early.json()["detail"] == "The manager has not recommended yet."
    # then manager, director and the general manager in order
    manager = post(bearer(org.manager_a), f"{url}/recommend", {"recommendation": "建议跟进"})
    assert manager.status_code == 200 and manager.json()["status"] == "manager"
    assert manager.json()["manager"]["by"]["id"] == org.manager_a.pk
    director_decides = post(bearer(org.director), f"{url}/decide", {"decision": "立项"})
    assert director_decides.status_code == 403
    assert director_decides.json()["detail"] == "Only the general manager records the decision."
    assert post(bearer(org.director), f"{url}/recommend", {"recommendation": "同意"}).json()["status"] == "director"
    decided = post(bearer(gm), f"{url}/decide", {"decision": "立项", "follow_ups": ["安排高层拜访"]})
    assert decided.status_code == 200
    out = decided.json()
    assert out["status"] == "decided" and out["decision"]["by"]["name"] == "赵总"
    assert [(t["title"], t["status"], t["owner"]["id"]) for t in out["follow_ups"]] == [
        ("安排高层拜访", "open", org.specialist_a.pk)]
    # and the owner reads it back with its follow-up
    again = bearer(org.specialist_a).get(url).json()
    assert again["follow_ups"][0]["title"] == "安排高层拜访"


def test_refusals_are_clear_4xx(org, accounts, opportunity, open_opportunity):
    client = bearer(org.specialist_a)
    small = open_opportunity(org.specialist_a, accounts.a, name="小项目", amount=Decimal("500"))
    below = post(client, "/api/reviews", {"opportunity": small.pk, **SHEET})
    assert below.status_code == 422 and "amount" in below.json()["errors"]
    assert post(client, "/api/reviews", {"opportunity": opportunity.pk, **SHEET, "brief": ""}).status_code == 422
    assert post(client, "/api/reviews", {"opportunity": opportunity.pk, **SHEET, "amount": "abc"}).status_code == 422
    assert post(client, "/api/reviews", {"opportunity": opportunity.pk, **SHEET, "status": "decided"}).status_code == 422
    assert post(client, "/api/reviews", {"opportunity": "x", **SHEET}).status_code == 422
    assert post(client, "/api/reviews", {"opportunity": 2**62, **SHEET}).status_code == 404
    assert not DealReview.objects.exists()
    assert post(client, "/api/reviews", {"opportunity": opportunity.pk, **SHEET}).status_code == 201
    twice = post(client, "/api/reviews", {"opportunity": opportunity.pk, **SHEET})
    assert twice.status_code == 422 and twice.json()["detail"] == "This opportunity is already under review."
    assert client.get("/api/reviews?status=nonsense").status_code == 422
    assert client.get("/api/reviews/0").status_code == 422


def test_the_list_filters(org, opportunity, accounts, open_opportunity):
    first = submit(org.specialist_a, opportunity)
    other = submit(org.specialist_a, open_opportunity(org.specialist_a, accounts.a, name="二期"))
    client = bearer(org.manager_a)
    page = client.get("/api/reviews").json()
    assert page["count"] == 2 and {r["id"] for r in page["items"]} == {first.pk, other.pk}
    assert client.get("/api/reviews?status=manager").json()["count"] == 0
    assert client.get(f"/api/reviews?opportunity={opportunity.pk}").json()["items"][0]["id"] == first.pk
    assert client.get("/api/reviews?escalated=true").json()["count"] == 0
    assert client.get("/api/reviews?follow_up=open").json()["count"] == 0


def test_branch_b_can_neither_read_nor_act_on_branch_a_reviews(org, opportunity):
    review = submit(org.specialist_a, opportunity)
    for outsider in (org.manager_b, org.specialist_b):
        client = bearer(outsider)
        assert client.get("/api/reviews").json()["count"] == 0
        assert client.get(f"/api/reviews/{review.pk}").status_code == 404
        assert post(client, f"/api/reviews/{review.pk}/recommend", {"recommendation": "x"}).status_code == 404
        assert post(client, f"/api/reviews/{review.pk}/withdraw").status_code == 404
        assert post(client, "/api/reviews", {"opportunity": opportunity.pk, **SHEET}).status_code == 404
    review.refresh_from_db()
    assert review.status == "submitted" and review.manager_recommendation == ""


def test_withdraw(org, opportunity):
    review = submit(org.specialist_a, opportunity)
    response = post(bearer(org.specialist_a), f"/api/reviews/{review.pk}/withdraw")
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    assert post(bearer(org.specialist_a), f"/api/reviews/{review.pk}/withdraw").status_code == 422
