"""Check 7: CSRF on every unsafe UI request; API tokens only in the Authorization header.

The UI routes come from the URL conf (the admin's included, the API's not): every one is sent
POST, PUT, PATCH and DELETE by a logged-in user without a CSRF token, with Django's
`enforce_csrf_checks` client — each must be refused with 403 and change nothing. The API takes a
token only from `Authorization: Bearer`; one in the query string or a cookie is no login. With the
session cookie instead, an API write needs the CSRF token like a form does."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from factories import PASSWORD, AccountFactory
from kam.accounts.models import Account
from kam.core.services import api_token_issue
from tests.security.world import changed_tables, fingerprint, form_fields, url_routes

pytestmark = pytest.mark.django_db

UNSAFE = ("post", "put", "patch", "delete")

# Endpoints that take unsafe requests without a token by design, each with the reason; they
# must still write nothing (checked below with the others).
NO_TOKEN = {
    "/csp-report/": "browsers post violation reports without cookies' tokens; it only logs",
}


def ui_urls() -> list[str]:
    """Every URL pattern outside the API, parameters filled with 1."""
    urls = []
    for route in url_routes():
        if route.startswith("api/"):
            continue
        route = re.sub(r"<(?:\w+:)?\w+>", "1", route).lstrip("^").rstrip("$")
        if "(" not in route and "\\" not in route:  # the admin's regex routes: filled below
            urls.append("/" + route)
    return sorted(set(urls))


def test_every_unsafe_ui_request_without_a_csrf_token_is_refused(org):
    # given a logged-in user whose browser does not send the token
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(org.admin)  # the admin reaches every page, the admin's own included
    AccountFactory(owner=org.specialist_a)
    urls = ui_urls()
    assert len(urls) > 150, len(urls)
    assert set(NO_TOKEN) <= set(urls), "exemptions for routes that no longer exist"
    before = fingerprint()
    # when each route is sent each unsafe method
    passed = []
    for url in urls:
        for method in UNSAFE:
            response = getattr(client, method)(url, {"name": "x"} if method == "post" else None)
            if response.status_code != 403 and url not in NO_TOKEN:
                passed.append(f"{method.upper()} {url} → {response.status_code}")
    # then all are refused, and nothing changed
    assert not passed, "unsafe requests accepted without a CSRF token:\n" + "\n".join(passed)
    assert changed_tables(before, fingerprint()) == []


def test_the_login_and_the_language_switch_need_the_token_too(org):
    anonymous = Client(enforce_csrf_checks=True)
    assert anonymous.post("/login/", {"username": "spec_a", "password": PASSWORD}).status_code == 403
    assert anonymous.post("/i18n/setlang/", {"language": "en"}).status_code == 403
    # with the token from the login page, the same login works (so the 403 was the token's)
    page = anonymous.get("/login/")
    token = page.cookies["csrftoken"].value
    response = anonymous.post("/login/", {"username": "spec_a", "password": PASSWORD, "csrfmiddlewaretoken": token})
    assert response.status_code == 302


def test_a_form_with_the_token_goes_through(org):
    account = AccountFactory(owner=org.specialist_a, name="广州天河智造科技有限公司")
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(org.specialist_a)
    url = f"/accounts/{account.pk}/contacts/new/"
    fields = form_fields(client.get(url).content.decode(), having="mobile")
    response = client.post(url, {**fields, "name": "李总", "mobile": "13800138000"})
    assert response.status_code == 302, re.findall(r"(?:invalid-feedback|alert)[^>]*>([^<]+)", response.content.decode())
    assert account.contacts.filter(name="李总").exists()
    # the htmx header form of the token works as well
    token = fields.pop("csrfmiddlewaretoken")
    response = client.post(url, {**fields, "name": "王经理", "mobile": "13800138001"}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 302
    assert account.contacts.filter(name="王经理").exists()


# --- the API -------------------------------------------------------------------------------------


@pytest.fixture
def raw_token(org):
    return api_token_issue(user=org.specialist_a)


def test_the_api_takes_a_token_only_from_the_authorization_header(org, raw_token):
    AccountFactory(owner=org.specialist_a)
    assert Client().get("/api/accounts", HTTP_AUTHORIZATION=f"Bearer {raw_token}").status_code == 200
    # in the query string, under any usual name: no login
    for name in ("token", "access_token", "api_key", "key", "bearer", "auth"):
        assert Client().get(f"/api/accounts?{name}={raw_token}").status_code == 401, name
    # in a cookie: no login either
    for name in ("token", "access_token", "Authorization", "api_token", "sessionid"):
        client = Client()
        client.cookies[name] = raw_token
        assert client.get("/api/accounts").status_code == 401, name
    # another scheme in the header, or the token alone, is not accepted
    for header in (f"Token {raw_token}", raw_token, f"Basic {raw_token}"):
        assert Client().get("/api/accounts", HTTP_AUTHORIZATION=header).status_code == 401, header
    # and a write with the token in the URL changes nothing
    response = Client().post(f"/api/accounts?token={raw_token}", {"name": "查询串公司"}, content_type="application/json")
    assert response.status_code == 401 and not Account.objects.filter(name="查询串公司").exists()


def test_api_writes_with_the_session_cookie_need_the_csrf_token(org, raw_token):
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.specialist_a)
    body = {"name": "会话写入科技有限公司"}
    # reads with the session are fine
    assert client.get("/api/accounts").status_code == 200
    # given no CSRF token, every write is refused and nothing is written
    response = client.post("/api/accounts", body, content_type="application/json")
    assert response.status_code == 403, response.content
    account = AccountFactory(owner=org.specialist_a, name="已有客户科技有限公司")
    assert client.patch(f"/api/accounts/{account.pk}", {"notes": "x"}, content_type="application/json").status_code == 403
    assert client.delete(f"/api/accounts/{account.pk}").status_code == 403
    assert not Account.objects.filter(name=body["name"]).exists()
    account.refresh_from_db()
    assert account.notes != "x" and account.deleted_at is None
    # with the token (as the pages' htmx header sends it) the write goes through
    client.get("/")
    token = client.cookies["csrftoken"].value
    response = client.post("/api/accounts", body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201, response.content
    # a bearer token needs no CSRF token: it is not sent by a browser on its own
    response = Client(enforce_csrf_checks=True).post(
        "/api/accounts", {"name": "令牌写入科技有限公司"}, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw_token}")
    assert response.status_code == 201, response.content


def test_a_refused_form_gets_kams_page_without_inline_style(org):
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="zh-hans")
    response = client.post("/login/", {"username": "spec_a", "password": PASSWORD})
    body = response.content.decode()
    assert response.status_code == 403 and 'data-testid="csrf-failure"' in body and "表单已失效" in body
    assert "<style" not in body and "style=" not in body
    api = Client(enforce_csrf_checks=True)
    api.force_login(org.specialist_a)
    refused = api.post("/api/accounts", {}, content_type="application/json")
    assert refused.status_code == 403 and refused.json()["detail"]
