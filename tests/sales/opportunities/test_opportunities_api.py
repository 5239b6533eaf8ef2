"""The opportunities API through HTTP: the same rules and scoping as the pages."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.test import Client

from factories import ContactFactory
from kam.core.services import api_token_issue
from kam.sales.models import BuyingCentreMember, Competitor, Opportunity, OutcomeReason, StageChange


def bearer(user) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=user)}", HTTP_ACCEPT_LANGUAGE="en")


def send(client, method, url, body=None):
    return getattr(client, method)(url, data=json.dumps(body or {}), content_type="application/json")


def test_create_read_edit_and_move_with_the_version(org, accounts):
    client = bearer(org.specialist_a)
    # when a specialist creates an opportunity on their account
    response = send(client, "post", "/api/opportunities", {
        "account": accounts.a.pk, "name": "智慧园区", "amount": "480000.5", "expected_close": "2027-05-31",
        "stage": "design"})
    assert response.status_code == 201, response.content
    body = response.json()
    pk = body["id"]
    # then it is theirs, in 方案设计, weighted by that stage's probability, with its first history row
    assert body["owner"]["id"] == org.specialist_a.pk and body["stage"] == "design"
    assert Decimal(body["weighted_amount"]) == Decimal("144000.15") and body["version"] == 1
    assert [(s["from_stage"], s["to_stage"]) for s in body["stage_history"]] == [("", "design")]
    # a stale version is refused, nothing changes
    response = send(client, "post", f"/api/opportunities/{pk}/move", {"stage": "review", "version": 1})
    assert response.status_code == 200 and response.json()["version"] == 2
    response = send(client, "patch", f"/api/opportunities/{pk}", {"version": 1, "amount": "1"})
    assert response.status_code == 412
    assert Opportunity.objects.get(pk=pk).amount == Decimal("480000.50")
    response = send(client, "patch", f"/api/opportunities/{pk}", {"version": 2, "amount": "500000",
                                                                   "description": "三栋楼"})
    assert response.status_code == 200 and response.json()["amount"] in ("500000.00", 500000.0)
    # the version is required and the stage cannot be patched
    assert send(client, "patch", f"/api/opportunities/{pk}", {"amount": "1"}).status_code == 422
    assert send(client, "patch", f"/api/opportunities/{pk}", {"version": 3, "stage": "won"}).status_code == 422
    # moving to won is not a move
    response = send(client, "post", f"/api/opportunities/{pk}/move", {"stage": "won", "version": 3})
    assert response.status_code == 422 and "stage" in response.json()["errors"]


def test_losing_without_a_reason_is_422_and_changes_nothing(org, accounts, open_opportunity):
    opp = open_opportunity(org.specialist_a, accounts.a, stage="tender")
    client = bearer(org.specialist_a)
    response = send(client, "post", f"/api/opportunities/{opp.pk}/close", {"outcome": "lost"})
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"reason", "note"}
    # a reason meant for wins does not explain a loss either
    won_only = OutcomeReason.objects.create(code="api_won_only", name="仅赢单", applies_to="won")
    response = send(client, "post", f"/api/opportunities/{opp.pk}/close",
                    {"outcome": "lost", "reason": won_only.pk, "note": "x"})
    assert response.status_code == 422 and set(response.json()["errors"]) == {"reason"}
    opp.refresh_from_db()
    assert (opp.stage, opp.version) == ("tender", 1) and StageChange.objects.filter(opportunity=opp).count() == 1
    # with a loss reason and a note it is lost
    reason = OutcomeReason.objects.get(code="chain_coverage")
    response = send(client, "post", f"/api/opportunities/{opp.pk}/close",
                    {"outcome": "lost", "reason": reason.pk, "note": "未覆盖评标专家", "version": 1})
    assert response.status_code == 200
    assert response.json()["outcome_reason"] == {"id": reason.pk, "name": "决策链覆盖不足"}
    response = send(client, "post", f"/api/opportunities/{opp.pk}/reopen", {"stage": "review"})
    assert response.status_code == 200 and response.json()["stage"] == "review"


def test_list_filters_and_pipeline_totals(org, accounts, open_opportunity, settings):
    open_opportunity(org.specialist_a, accounts.a, name="甲", amount="100000", stage="review")
    open_opportunity(org.specialist_a2, accounts.a2, name="乙", amount="300000", stage="review")
    open_opportunity(org.specialist_a, accounts.a, name="丙", amount="50000", stage="tender")
    open_opportunity(org.specialist_b, accounts.b, name="深圳", amount="7000000", stage="tender")
    client = bearer(org.manager_a)
    body = client.get("/api/opportunities?stage=review&amount_min=200000").json()
    assert [o["name"] for o in body["items"]] == ["乙"] and body["count"] == 1
    assert {o["name"] for o in client.get(f"/api/opportunities?owner={org.specialist_a.pk}").json()["items"]} == {
        "甲", "丙"}
    pipeline = client.get("/api/opportunities/pipeline").json()
    review = next(s for s in pipeline["stages"] if s["stage"] == "review")
    assert review["count"] == 2 and Decimal(str(review["weighted_amount"])) == Decimal("200000")
    assert Decimal(str(pipeline["weighted_pipeline"])) == Decimal("235000")  # 400000 × 50 % + 50000 × 70 %
    settings.KAM = {**settings.KAM, "OPPORTUNITY_STAGE_PROBABILITIES":
                    "contact:10,design:30,review:60,tender:80,won:100,lost:0"}
    pipeline = client.get("/api/opportunities/pipeline").json()
    assert Decimal(str(pipeline["weighted_pipeline"])) == Decimal("280000")
    assert client.get("/api/opportunities?amount_min=-1").status_code == 422


def test_buying_centre_and_rivals_sub_resources(org, accounts, open_opportunity):
    opp = open_opportunity(org.specialist_a, accounts.a)
    own = ContactFactory(actor=org.specialist_a, account=accounts.a, name="采购处陈处长")
    stranger = ContactFactory(actor=org.specialist_b, account=accounts.b, name="深圳的联系人")
    client = bearer(org.specialist_a)
    url = f"/api/opportunities/{opp.pk}/buying-centre"
    response = send(client, "post", url, {"contact": stranger.pk, "role": "procurement"})
    assert response.status_code == 422 and set(response.json()["errors"]) == {"contact"}
    assert not BuyingCentreMember.objects.exists()
    response = send(client, "post", url, {"contact": own.pk, "role": "leadership", "note": "分管副总"})
    assert response.status_code == 201
    member = response.json()
    assert client.get(url).json() == [member]
    assert client.delete(f"{url}/{member['id']}").status_code == 204
    assert client.get(url).json() == []
    # competitors: from the list, quote not negative, then edited and removed
    rivals = f"/api/opportunities/{opp.pk}/rivals"
    huawei = Competitor.objects.get(code="huawei_cloud")
    assert send(client, "post", rivals, {"competitor": huawei.pk, "quote": "-3"}).status_code == 422
    assert send(client, "post", rivals, {"competitor": 999_999}).status_code == 422
    response = send(client, "post", rivals, {"competitor": huawei.pk, "product": "混合云", "quote": "210000"})
    assert response.status_code == 201
    rival = response.json()
    response = send(client, "patch", f"{rivals}/{rival['id']}", {"status": "leading", "quote": None})
    assert response.status_code == 200 and response.json()["status"] == "leading" and response.json()["quote"] is None
    detail = client.get(f"/api/opportunities/{opp.pk}").json()
    assert [r["competitor"]["name"] for r in detail["rivals"]] == ["华为云"]
    assert client.delete(f"{rivals}/{rival['id']}").status_code == 204
    reasons = client.get("/api/opportunity-reasons").json()
    assert {"code": "price", "applies_to": "both"}.items() <= next(r for r in reasons if r["code"] == "price").items()


@pytest.mark.parametrize("outsider", ["specialist_b", "manager_b"])
def test_another_branch_gets_404_and_changes_nothing(org, accounts, open_opportunity, outsider):
    opp = open_opportunity(org.specialist_a, accounts.a, name="天河机密项目", stage="tender")
    client = bearer(getattr(org, outsider))
    pk = opp.pk
    assert client.get(f"/api/opportunities/{pk}").status_code == 404
    assert send(client, "patch", f"/api/opportunities/{pk}", {"version": 1, "amount": "1"}).status_code == 404
    assert send(client, "post", f"/api/opportunities/{pk}/move", {"stage": "review"}).status_code == 404
    reason = OutcomeReason.objects.get(code="price")
    assert send(client, "post", f"/api/opportunities/{pk}/close",
                {"outcome": "lost", "reason": reason.pk, "note": "x"}).status_code == 404
    assert client.get(f"/api/opportunities/{pk}/rivals").status_code == 404
    assert send(client, "post", "/api/opportunities", {
        "account": accounts.a.pk, "name": "越界", "amount": "1", "expected_close": "2027-01-01"}).status_code == 404
    assert client.get("/api/opportunities").json()["count"] == 0
    assert client.get("/api/opportunities/pipeline").json()["open_count"] == 0
    opp.refresh_from_db()
    assert (opp.stage, opp.version, opp.amount) == ("tender", 1, Decimal("250000.00"))
    assert not Opportunity.objects.filter(name="越界").exists()
