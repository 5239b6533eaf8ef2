"""A NUL character in what a client sends is refused with a 422 naming the field, on both
databases (PostgreSQL cannot store one in text), never a server error."""

import pytest
from django.test import Client

from kam.core.services import api_token_issue


@pytest.fixture
def api(org):
    token = api_token_issue(user=org.specialist_a)
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def test_a_body_text_with_a_null_character_is_refused_naming_the_field(api, org):
    response = api.post("/api/accounts", {"name": "广州\x00天河", "owner": org.specialist_a.pk},
                        content_type="application/json")
    assert response.status_code == 422
    assert "name" in response.json()["errors"]


@pytest.mark.parametrize("path", ["/api/accounts", "/api/leads", "/api/opportunities", "/api/pool"])
def test_a_query_with_a_null_character_is_refused(api, path):
    response = api.get(path, {"q": "天河\x00"})
    assert response.status_code == 422, response.content
    assert "q" in response.json()["errors"]


def test_nested_text_is_checked_too(api, org):
    response = api.post("/api/revenue", {"lines": [{"account": "KA1\x00", "period": "2026-10", "amount": "1"}]},
                        content_type="application/json")
    assert response.status_code == 422
