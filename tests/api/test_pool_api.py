"""The public pool API through HTTP: the list scoped by branch, claims and their limit,
conflicts, release and assignment refused to those who may not, and the pool history."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from factories import AccountFactory
from kam.accounts.models import Account, AccountTeamMember
from kam.core.models import Industry
from kam.core.services import api_token_issue
from kam.sales.models import PoolEvent, PoolEventKind
from kam.sales.pool.services import pool_release

pytestmark = pytest.mark.django_db


def bearer(user) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=user)}", HTTP_ACCEPT_LANGUAGE="en")


def post(client, url, body=None):
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


def in_pool(account, actor, note="客户已转由总部对接"):
    pool_release(actor=actor, account=account, note=note)
    account.refresh_from_db()
    return account


@pytest.fixture
def pooled(org):
    """A pool account in each branch, released by its former owner."""
    a = in_pool(AccountFactory(owner=org.specialist_a, name="广州天河智造科技有限公司"), org.specialist_a)
    b = in_pool(AccountFactory(owner=org.specialist_b, name="深圳南山数据服务有限公司"), org.specialist_b)
    return a, b


# --- the list -------------------------------------------------------------------------------------


def test_each_branch_sees_its_own_pool_and_hq_sees_all(org, pooled):
    a, b = pooled
    for user, expected in [
        (org.specialist_a2, {a.pk}),
        (org.manager_a, {a.pk}),
        (org.specialist_b, {b.pk}),
        (org.director, {a.pk, b.pk}),
        (org.analyst_hq, {a.pk, b.pk}),
    ]:
        response = bearer(user).get("/api/pool")
        assert response.status_code == 200, user
        body = response.json()
        assert {item["id"] for item in body["items"]} == expected, user
        assert body["count"] == len(expected) and body["page"] == 1


def test_list_items_carry_the_pool_columns(org, pooled):
    a, _b = pooled
    item = bearer(org.specialist_a2).get("/api/pool").json()["items"][0]
    assert (item["id"], item["code"], item["name"]) == (a.pk, a.code, a.name)
    assert item["unit"] == {"id": a.unit_id, "name": str(a.unit)}
    assert item["former_owner"] == {"id": org.specialist_a.pk, "name": "张三"}
    assert item["pooled_at"] is not None and item["days_in_pool"] == 0
    assert item["idle_days"] == 0 and item["tier"] is None
    # released by hand: no idle days or allowed days of a return
    assert item["returned_idle_days"] is None and item["limit_days"] is None


def test_list_filters_as_the_page(org, pooled):
    a, _b = pooled
    industry = Industry.objects.filter(is_active=True).first()
    other = in_pool(AccountFactory(owner=org.specialist_a2, name="广州越秀商贸有限公司", industry=industry),
                    org.specialist_a2)
    client = bearer(org.specialist_a)

    def ids(query: str) -> set[int]:
        return {item["id"] for item in client.get(f"/api/pool?{query}").json()["items"]}

    assert ids("") == {a.pk, other.pk}
    assert ids("mine=true") == {a.pk}
    assert ids("q=智造") == ids("q=thzz") == {a.pk}
    assert ids(f"unit={org.office_a2.pk}") == {other.pk}
    assert ids(f"unit={org.office_b1.pk}") == set()  # another branch's unit gives nothing
    assert ids(f"industry={industry.pk}") == {other.pk}


def test_list_pages_in_a_fixed_number_of_queries(org, django_assert_max_num_queries):
    for _ in range(30):
        in_pool(AccountFactory(owner=org.specialist_a), org.specialist_a)
    client = bearer(org.manager_a)
    with django_assert_max_num_queries(13):  # 12 and the audit event of the list read
        body = client.get("/api/pool?page_size=25").json()
    assert len(body["items"]) == 25 and body["count"] == 30
    second = client.get("/api/pool?page_size=25&page=2").json()
    assert len(second["items"]) == 5 and not {i["id"] for i in body["items"]} & {i["id"] for i in second["items"]}


# --- claims ----------------------------------------------------------------------------------------


def test_a_claim_makes_the_caller_owner_and_shows_in_the_events(org, pooled):
    a, _b = pooled
    client = bearer(org.specialist_a2)
    assert client.get("/api/pool/limit").json() == {"held": 0, "limit": 20, "may_claim": True}
    # when specialist A2 claims branch A's pool account
    response = post(client, f"/api/pool/{a.pk}/claim")
    # then it is theirs, out of the pool, and the history says so
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["owner"]["id"] == org.specialist_a2.pk and body["in_pool"] is False and body["pooled_at"] is None
    assert body["unit"]["id"] == org.office_a2.pk
    assert body["event"]["kind"] == "claimed" and body["event"]["former_owner"]["id"] == org.specialist_a.pk
    assert Account.objects.get(pk=a.pk).owner == org.specialist_a2
    events = client.get(f"/api/pool/{a.pk}/events").json()
    assert [e["kind"] for e in events] == ["claimed", "released"]
    assert events[0]["user"]["id"] == org.specialist_a2.pk and events[1]["note"] == "客户已转由总部对接"
    assert client.get("/api/pool/limit").json()["held"] == 1
    assert client.get("/api/pool").json()["count"] == 0


def test_a_second_claim_conflicts(org, pooled):
    a, _b = pooled
    assert post(bearer(org.specialist_a2), f"/api/pool/{a.pk}/claim").status_code == 200
    response = post(bearer(org.manager_a), f"/api/pool/{a.pk}/claim")
    assert response.status_code == 409
    assert "account" in response.json()["errors"]
    assert Account.objects.get(pk=a.pk).owner == org.specialist_a2


def test_a_claim_beyond_the_limit_is_refused(org, settings):
    settings.KAM = {**settings.KAM, "POOL_CLAIM_LIMIT": 1}
    first, second = (in_pool(AccountFactory(owner=org.specialist_a), org.specialist_a) for _ in range(2))
    client = bearer(org.specialist_a2)
    assert post(client, f"/api/pool/{first.pk}/claim").status_code == 200
    response = post(client, f"/api/pool/{second.pk}/claim")
    assert response.status_code == 422
    assert "limit is 1" in response.json()["errors"]["account"][0]
    assert Account.objects.get(pk=second.pk).owner is None
    assert client.get("/api/pool/limit").json() == {"held": 1, "limit": 1, "may_claim": True}


def test_another_branchs_pool_account_is_404(org, pooled):
    a, _b = pooled
    client = bearer(org.specialist_b)
    assert post(client, f"/api/pool/{a.pk}/claim").status_code == 404
    assert client.get(f"/api/pool/{a.pk}/events").status_code == 404
    assert post(bearer(org.manager_b), f"/api/pool/{a.pk}/assign", {"owner": org.specialist_b.pk}).status_code == 404
    assert post(client, "/api/pool/999999999/claim").status_code == 404
    assert Account.objects.get(pk=a.pk).owner is None


def test_an_owned_account_is_not_found_through_the_pool(org):
    owned = AccountFactory(owner=org.specialist_a)
    assert post(bearer(org.specialist_a2), f"/api/pool/{owned.pk}/claim").status_code == 404
    assert Account.objects.get(pk=owned.pk).owner == org.specialist_a


def test_an_analyst_cannot_claim(org, pooled):
    a, _b = pooled
    client = bearer(org.analyst_hq)
    assert client.get("/api/pool/limit").json()["may_claim"] is False
    assert post(client, f"/api/pool/{a.pk}/claim").status_code == 403
    assert Account.objects.get(pk=a.pk).owner is None
    assert not PoolEvent.objects.filter(account=a, kind=PoolEventKind.CLAIMED).exists()


# --- release ---------------------------------------------------------------------------------------


def test_the_owner_releases_with_a_reason(org):
    a = AccountFactory(owner=org.specialist_a)
    client = bearer(org.specialist_a)
    blank = post(client, f"/api/pool/{a.pk}/release", {"note": "  "})
    assert blank.status_code == 422 and "note" in blank.json()["errors"]
    assert post(client, f"/api/pool/{a.pk}/release", {}).status_code == 422
    response = post(client, f"/api/pool/{a.pk}/release", {"note": "客户已迁出"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["in_pool"] is True and body["owner"] is None and body["pooled_at"] is not None
    assert body["event"]["kind"] == "released" and body["event"]["note"] == "客户已迁出"
    assert body["event"]["former_owner"]["id"] == org.specialist_a.pk
    # already in the pool: the same release again conflicts; the former owner still sees its history
    assert post(bearer(org.manager_a), f"/api/pool/{a.pk}/release", {"note": "再放一次"}).status_code == 409
    assert [e["kind"] for e in client.get(f"/api/pool/{a.pk}/events").json()] == ["released"]


def test_a_stranger_cannot_release(org):
    a = AccountFactory(owner=org.specialist_a)
    # a colleague who does not see the account: 404
    assert post(bearer(org.specialist_a2), f"/api/pool/{a.pk}/release", {"note": "不再跟进"}).status_code == 404
    assert post(bearer(org.manager_b), f"/api/pool/{a.pk}/release", {"note": "不再跟进"}).status_code == 404
    # a colleague on the account's team sees it, but it is not theirs to give away: 403
    AccountTeamMember.objects.create(account=a, user=org.specialist_a2, team_role="backup")
    assert post(bearer(org.specialist_a2), f"/api/pool/{a.pk}/release", {"note": "不再跟进"}).status_code == 403
    a.refresh_from_db()
    assert a.owner == org.specialist_a and a.pooled_at is None
    assert not PoolEvent.objects.filter(account=a).exists()


# --- assignment ------------------------------------------------------------------------------------


def test_a_manager_assigns_within_their_units_only(org, pooled):
    a, _b = pooled
    manager = bearer(org.manager_a)
    # branch A's manager cannot hand branch A's pool account to a person of branch B
    refused = post(manager, f"/api/pool/{a.pk}/assign", {"owner": org.specialist_b.pk})
    assert refused.status_code == 422 and "owner" in refused.json()["errors"]
    assert Account.objects.get(pk=a.pk).owner is None
    # a specialist cannot assign at all
    assert post(bearer(org.specialist_a2), f"/api/pool/{a.pk}/assign",
                {"owner": org.specialist_a2.pk}).status_code == 403
    # to a person of their units it works, and shows in the history
    response = post(manager, f"/api/pool/{a.pk}/assign", {"owner": org.specialist_a2.pk})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["owner"]["id"] == org.specialist_a2.pk and body["event"]["kind"] == "assigned"
    assert body["event"]["user"]["id"] == org.manager_a.pk
    assert [e["kind"] for e in manager.get(f"/api/pool/{a.pk}/events").json()] == ["assigned", "released"]
    # an assignment is not a claim: it does not count against the limit
    assert bearer(org.specialist_a2).get("/api/pool/limit").json()["held"] == 0


def test_assign_refuses_bad_input(org, pooled):
    a, _b = pooled
    manager = bearer(org.manager_a)
    for body in ({}, {"owner": "5"}, {"owner": 0}, {"owner": org.specialist_a2.pk, "unit": 1}):
        assert post(manager, f"/api/pool/{a.pk}/assign", body).status_code == 422, body
    assert Account.objects.get(pk=a.pk).owner is None


def test_without_credentials_nothing_is_answered(org, pooled):
    a, _b = pooled
    anonymous = Client()
    assert anonymous.get("/api/pool").status_code == 401
    assert post(anonymous, f"/api/pool/{a.pk}/claim").status_code == 401
