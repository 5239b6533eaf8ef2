"""POST /api/revenue and GET /api/accounts/{id}/tiers: the importer's rules and the caller's visibility."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client

from kam.core.services import api_token_issue
from kam.revenue.models import MonthlyRevenue, RevenueFact
from kam.tiering import services
from kam.tiering.models import Scheme


@pytest.fixture
def api(org):
    def client_for(user):
        return Client(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=user)}")

    return client_for


def test_a_batch_writes_all_or_nothing_and_names_bad_lines(org, api, account_factory):
    account_factory(owner=org.specialist_a, name="接口收入公司", code="API1")
    account_factory(owner=org.specialist_b, name="别人的公司", code="API2")
    client = api(org.specialist_a)
    lines = [{"account": "API1", "date": "2026-03-01", "amount": "100.50", "product": "宽带"},
             {"account": "API1", "period": "2026-04", "amount": 200},
             {"account": "API2", "period": "2026-04", "amount": 5}]
    response = client.post("/api/revenue", {"lines": lines}, content_type="application/json")
    assert response.status_code == 422
    assert "lines.3.account" in response.json()["errors"]
    assert not RevenueFact.objects.exists()
    epoch = client.post("/api/revenue", {"lines": [{"account": "API1", "date": 0, "amount": 1}]},
                        content_type="application/json")
    assert epoch.status_code == 422 and not RevenueFact.objects.exists()

    response = client.post("/api/revenue", {"lines": lines, "mode": "valid"}, content_type="application/json")
    body = response.json()
    assert response.status_code == 200 and (body["created"], body["refused"]) == (2, 1)
    assert MonthlyRevenue.objects.get(account__code="API1", month=date(2026, 3, 1)).amount == Decimal("100.50")
    again = client.post("/api/revenue", {"lines": lines[:2]}, content_type="application/json").json()
    assert (again["created"], again["unchanged"]) == (0, 2)


def test_an_account_tiers_are_readable_only_when_the_account_is(org, api, account_factory):
    mine = account_factory(owner=org.specialist_a, name="分级接口公司", code="API3")
    theirs = account_factory(owner=org.specialist_b, name="看不见", code="API4")
    api(org.admin).post("/api/revenue", {"lines": [{"account": "API3", "date": "2026-01-05", "amount": 900},
                                                   {"account": "API4", "date": "2026-01-05", "amount": 100}]},
                        content_type="application/json")
    services.snapshot_create(actor=org.admin, scheme=Scheme.objects.get(code="pareto-abc"), as_of=date(2026, 1, 31))
    client = api(org.specialist_a)
    tiers = client.get(f"/api/accounts/{mine.pk}/tiers").json()
    assert tiers[0]["scheme"] == "pareto-abc" and tiers[0]["tier"] == "A" and "Rank 1 of 2" in tiers[0]["why"]
    assert client.get(f"/api/accounts/{theirs.pk}/tiers").status_code == 404
