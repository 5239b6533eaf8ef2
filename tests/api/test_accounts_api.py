"""The accounts API through HTTP: scoping (IDOR), validation, conflicts, auth."""

import json

import pytest
from django.test import Client

from factories import AccountFactory, ContactFactory, valid_uscc
from kam.accounts.models import Account, AccountTeamMember
from kam.core.services import api_token_issue, user_deactivate

pytestmark = pytest.mark.django_db


def bearer(user) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=user)}", HTTP_ACCEPT_LANGUAGE="en")


def send(client, method, url, body=None, **headers):
    kwargs = {"content_type": "application/json", **headers}
    if body is not None:
        kwargs["data"] = json.dumps(body)
    return getattr(client, method)(url, **kwargs)


@pytest.fixture
def world(org):
    a = AccountFactory(owner=org.specialist_a, name="中国移动通信集团广东有限公司")
    b = AccountFactory(owner=org.specialist_b, name="中国移动深圳南山营业部")
    b_contact = ContactFactory(actor=org.specialist_b, account=b, name="王总")
    a_contact = ContactFactory(actor=org.specialist_a, account=a, name="李总")
    b_member = AccountTeamMember.objects.create(account=b, user=org.manager_b, team_role="account_manager")
    return a, b, a_contact, b_contact, b_member


@pytest.mark.parametrize("as_session", [False, True])
def test_other_branch_ids_are_404_on_every_endpoint_and_nothing_changes(org, world, as_session):
    # given a specialist of branch A
    a, b, _a_contact, b_contact, b_member = world
    if as_session:
        client = Client(enforce_csrf_checks=False)
        client.force_login(org.specialist_a)
    else:
        client = bearer(org.specialist_a)
    calls = [
        ("get", f"/api/accounts/{b.pk}", None),
        ("patch", f"/api/accounts/{b.pk}", {"short_name": "hacked"}),
        ("delete", f"/api/accounts/{b.pk}", None),
        ("get", f"/api/accounts/{b.pk}/contacts", None),
        ("post", f"/api/accounts/{b.pk}/contacts", {"name": "间谍"}),
        ("get", f"/api/contacts/{b_contact.pk}", None),
        ("patch", f"/api/contacts/{b_contact.pk}", {"title": "hacked"}),
        ("delete", f"/api/contacts/{b_contact.pk}", None),
        ("get", f"/api/accounts/{b.pk}/team", None),
        ("post", f"/api/accounts/{b.pk}/team", {"user": org.specialist_a.pk, "team_role": "backup"}),
        ("delete", f"/api/accounts/{b.pk}/team/{b_member.pk}", None),
    ]
    # when each is tried, then each is 404 and B's rows are untouched
    for method, url, body in calls:
        assert send(client, method, url, body).status_code == 404, (method, url)
    b.refresh_from_db()
    b_contact.refresh_from_db()
    assert b.short_name == "" and b.deleted_at is None
    assert b_contact.title == "" and b_contact.deleted_at is None
    assert b.contacts.count() == 1 and AccountTeamMember.objects.filter(pk=b_member.pk).exists()


def test_lists_search_and_counts_show_exactly_the_visible_set(org, world):
    a, b, *_ = world
    for user, expected in [
        (org.specialist_a, {a.pk}),
        (org.manager_a, {a.pk}),
        (org.specialist_b, {b.pk}),
        (org.director, {a.pk, b.pk}),
    ]:
        body = bearer(user).get("/api/accounts?q=zgyd").json()
        assert {item["id"] for item in body["items"]} == expected, user
        assert body["count"] == len(expected)


def test_list_is_a_handful_of_queries(org, django_assert_max_num_queries):
    for _ in range(30):
        AccountFactory(owner=org.specialist_a)
    client = bearer(org.manager_a)
    # 6, a second count (the branch's accounts, then the manager's own outside it: each from an
    # index of its own) and the audit event of the list read
    with django_assert_max_num_queries(8):
        body = client.get("/api/accounts?page_size=25").json()
    assert len(body["items"]) == 25 and body["count"] == 30


def test_create_validates_uscc_and_names_the_field(org):
    client = bearer(org.specialist_a)
    uscc = valid_uscc()
    bad = uscc[:-1] + ("0" if uscc[-1] != "0" else "1")
    response = send(client, "post", "/api/accounts", {"name": "某某科技有限公司", "uscc": bad})
    assert response.status_code == 422
    assert "check digit" in response.json()["errors"]["uscc"][0]
    assert not Account.objects.exists()


def test_duplicate_uscc_is_409_and_similar_name_needs_confirmation(org):
    client = bearer(org.specialist_a)
    uscc = valid_uscc()
    first = send(client, "post", "/api/accounts", {"name": "广州天河新华科技有限公司", "uscc": uscc})
    assert first.status_code == 201
    duplicate = send(client, "post", "/api/accounts", {"name": "另一家", "uscc": uscc})
    assert duplicate.status_code == 409 and duplicate.json()["existing_id"] == first.json()["id"]
    similar = send(client, "post", "/api/accounts", {"name": "广州天河新华科技（有限责任公司）"})
    assert similar.status_code == 409 and similar.json()["similar"][0]["id"] == first.json()["id"]
    confirmed = send(client, "post", "/api/accounts", {"name": "广州天河新华科技（有限责任公司）", "confirm_similar": True})
    assert confirmed.status_code == 201


def test_stale_if_match_is_412(org, world):
    a, *_ = world
    client = bearer(org.specialist_a)
    assert send(client, "patch", f"/api/accounts/{a.pk}", {"short_name": "一"}, HTTP_IF_MATCH="1").status_code == 200
    stale = send(client, "patch", f"/api/accounts/{a.pk}", {"short_name": "二"}, HTTP_IF_MATCH="1")
    assert stale.status_code == 412
    a.refresh_from_db()
    assert a.short_name == "一" and a.version == 2


@pytest.mark.parametrize("smuggled", [
    {"unit": 1}, {"version": 99, "created_by": 1}, {"is_staff": True}, {"id": 999}, {"deleted_at": None},
])
def test_mass_assignment_is_rejected(org, world, smuggled):
    a, *_ = world
    response = send(bearer(org.specialist_a), "patch", f"/api/accounts/{a.pk}", {"short_name": "x", **smuggled})
    assert response.status_code in (412, 422)
    a.refresh_from_db()
    assert a.short_name == "" and a.unit == org.office_a1


def test_owner_of_another_branch_is_refused(org, world):
    a, *_ = world
    response = send(bearer(org.manager_a), "patch", f"/api/accounts/{a.pk}", {"owner": org.specialist_b.pk})
    assert response.status_code == 422 and "owner" in response.json()["errors"]
    a.refresh_from_db()
    assert a.owner == org.specialist_a


def test_contact_with_bad_mobile_is_422_then_created(org, world):
    a, *_ = world
    client = bearer(org.specialist_a)
    bad = send(client, "post", f"/api/accounts/{a.pk}/contacts", {"name": "赵六", "mobile": "1380000"})
    assert bad.status_code == 422 and "mobile" in bad.json()["errors"]
    good = send(client, "post", f"/api/accounts/{a.pk}/contacts", {"name": "赵六", "mobile": "13800138000",
                                                                   "decision_role": "decision_maker"})
    assert good.status_code == 201 and good.json()["mobile"] == "13800138000"
    detail = client.get(f"/api/accounts/{a.pk}").json()
    assert detail["decision_chain"]["has_decision_maker"] is True
    assert detail["decision_chain"]["single_threaded"] is False


def test_delete_moves_to_recycle_bin_then_404(org, world):
    a, *_ = world
    client = bearer(org.specialist_a)
    assert client.delete(f"/api/accounts/{a.pk}").status_code == 204
    assert client.get(f"/api/accounts/{a.pk}").status_code == 404
    assert Account.objects.filter(pk=a.pk, deleted_at__isnull=False).exists()


def test_wrong_types_and_huge_numbers_are_422_not_500(org, world):
    a, *_ = world
    client = bearer(org.specialist_a)
    for body in ({"staff_size": "many"}, {"staff_size": 10**30}, {"credit_limit": "1e400"}, {"name": ""},
                 {"signed_on": "yesterday"}, {"signed_on": 0}, {"channel": "vip"}):
        response = send(client, "patch", f"/api/accounts/{a.pk}", body)
        assert response.status_code == 422, (body, response.content)
    for body in ({"birthday": 0}, {"left_on": 1767225600}):  # a number is not read as seconds since 1970
        response = send(client, "post", f"/api/accounts/{a.pk}/contacts", {"name": "赵六", **body})
        assert response.status_code == 422 and set(body) <= set(response.json()["errors"]), response.content
    assert client.get("/api/accounts?page=-3").status_code == 422
    capped = client.get("/api/accounts?page_size=100000")
    assert capped.status_code == 200 and capped.json()["page_size"] == 200
    assert client.get("/api/accounts?industry=abc").status_code == 422


def test_tokens_only_in_the_header_and_revoked_with_the_user(org, world):
    raw = api_token_issue(user=org.specialist_a)
    assert Client().get(f"/api/accounts?token={raw}").status_code == 401
    assert Client().get("/api/accounts", HTTP_AUTHORIZATION="Bearer nonsense").status_code == 401
    assert Client().get("/api/accounts", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    user_deactivate(user=org.specialist_a)
    assert Client().get("/api/accounts", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_session_writes_need_the_csrf_token(org, world):
    a, *_ = world
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.specialist_a)
    assert client.get(f"/api/accounts/{a.pk}").status_code == 200
    response = send(client, "patch", f"/api/accounts/{a.pk}", {"short_name": "csrf"})
    assert response.status_code in (401, 403)
    a.refresh_from_db()
    assert a.short_name == ""


def test_team_members_from_the_same_branch(org, world):
    a, *_ = world
    client = bearer(org.manager_a)
    added = send(client, "post", f"/api/accounts/{a.pk}/team", {"user": org.specialist_a2.pk, "team_role": "backup"})
    assert added.status_code == 201
    refused = send(client, "post", f"/api/accounts/{a.pk}/team", {"user": org.specialist_b.pk, "team_role": "backup"})
    assert refused.status_code == 422
    # the specialist put on the team now sees the account
    assert bearer(org.specialist_a2).get(f"/api/accounts/{a.pk}").status_code == 200


def test_openapi_lists_every_path_and_docs_are_local(client):
    spec = client.get("/api/openapi.json").json()
    assert {"/api/accounts", "/api/accounts/{account_id}", "/api/accounts/{account_id}/contacts",
            "/api/contacts/{contact_id}", "/api/accounts/{account_id}/team",
            "/api/accounts/{account_id}/team/{member_id}"} <= set(spec["paths"])
    docs = client.get("/api/docs").content.decode()
    assert "/static/ninja/" in docs and "cdn." not in docs


def test_out_of_range_ids_are_422_not_500(org, world):
    client = bearer(org.director)
    huge = "9" * 25
    assert client.get(f"/api/accounts?industry={huge}").status_code == 422
    assert client.get(f"/api/accounts/{huge}").status_code == 422
    assert send(client, "post", f"/api/accounts/{world[0].pk}/team", {"user": 10**30, "team_role": "backup"}).status_code == 422
