"""The Content-Security-Policy: the exact header on pages, the API, static files and error
pages; the /csp-report/ endpoint that logs what browsers report; and a scan of every template
for the inline code the policy would refuse (so that adding one fails here, not in a browser).
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import path

import kam
import kam.urls
from factories import AccountFactory

EXPECTED = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "report-uri": "/csp-report/",
}


def _boom(request):
    raise RuntimeError("a bug")


# The project's URLs plus one view that fails, for the 500 page (used with pytest.mark.urls).
urlpatterns = [path("test-boom/", _boom), *kam.urls.urlpatterns]
handler400 = kam.urls.handler400
handler500 = kam.urls.handler500


def policy(response) -> dict[str, str]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.status_code} {response.get('Content-Type')}"
    directives = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition(" ")
        assert name not in directives, f"{name} twice"
        directives[name] = value.strip()
    return directives


def assert_strict(response) -> None:
    assert policy(response) == EXPECTED
    assert "unsafe" not in response.headers["Content-Security-Policy"]
    assert "Reporting-Endpoints" not in response.headers  # report-to only under HTTPS


def test_under_https_the_policy_also_names_a_reporting_endpoint(client, settings):
    # given the policy as settings.py makes it with KAM_HTTPS
    directives = {**settings.CONTENT_SECURITY_POLICY["DIRECTIVES"], "report-to": "csp-endpoint"}
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": directives}
    settings.SECURE_SSL_REDIRECT = False

    # then a response names the group and the header says where it reports
    response = client.get("/login/")
    assert policy(response) == {**EXPECTED, "report-to": "csp-endpoint"}
    assert response.headers["Reporting-Endpoints"] == 'csp-endpoint="/csp-report/"'


def test_settings_add_report_to_only_under_https():
    import subprocess
    import sys

    code = "import kam.settings as s; print(s.CONTENT_SECURITY_POLICY['DIRECTIVES'].get('report-to'))"
    for flag, expected in (("1", "csp-endpoint"), ("0", "None")):
        env = {**os.environ, "KAM_HTTPS": flag, "KAM_SECRET_KEY": "x" * 50}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        assert out.stdout.strip() == expected


# --- the header ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_policy_on_pages_for_anonymous_and_logged_in_users(client, org):
    # given an account to show
    account = AccountFactory(owner=org.specialist_a)

    # then the login page (anonymous), the home page, a list, a card and the admin carry it
    assert_strict(client.get("/login/"))
    client.force_login(org.admin)
    for url in ("/", "/accounts/", f"/accounts/{account.pk}/", "/tiering/", "/admin/", "/admin/accounts/account/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict(response)


@pytest.mark.django_db
def test_policy_on_the_api_and_static_files(client, org):
    assert_strict(client.get("/api/openapi.json"))
    assert_strict(client.get("/api/accounts"))  # 401 without a token
    client.force_login(org.admin)
    assert_strict(client.get("/api/accounts"))
    response = client.get("/static/kam/kam.js")
    assert response.status_code == 200
    assert_strict(response)


@pytest.mark.django_db
def test_policy_on_404_and_405(client, org):
    client.force_login(org.admin)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert_strict(response)
    response = client.get("/accounts/999999/")
    assert response.status_code == 404
    assert_strict(response)
    response = client.get("/csp-report/")
    assert response.status_code == 405
    assert_strict(response)


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_policy_on_the_500_page():
    # when a view fails
    response = Client(raise_request_exception=False).get("/test-boom/")

    # then the project's 500 page carries the policy too
    assert response.status_code == 500
    assert_strict(response)


# --- the report endpoint --------------------------------------------------------------------

REPORT_URI_BODY = {"csp-report": {
    "document-uri": "http://127.0.0.1:8000/tiering/bcg/", "referrer": "",
    "violated-directive": "script-src-elem", "effective-directive": "script-src-elem",
    "original-policy": "default-src 'self'", "disposition": "enforce", "blocked-uri": "inline",
    "line-number": 12, "source-file": "http://127.0.0.1:8000/tiering/bcg/", "status-code": 200,
    "script-sample": "alert(1)",
}}
REPORTING_API_BODY = [{
    "type": "csp-violation", "age": 10, "url": "http://127.0.0.1:8000/", "user_agent": "Chrome",
    "body": {"documentURL": "http://127.0.0.1:8000/", "blockedURL": "inline",
             "effectiveDirective": "style-src-attr", "originalPolicy": "default-src 'self'",
             "disposition": "enforce", "sample": "color:red", "statusCode": 200, "lineNumber": 3,
             "sourceFile": "http://127.0.0.1:8000/static/kam/kam.js"},
}]


@pytest.fixture
def reports(caplog):
    caplog.set_level(logging.WARNING, logger="kam.security")

    def logged() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.name == "kam.security"]

    return logged


@pytest.fixture
def csrf_client():
    return Client(enforce_csrf_checks=True)


def post(client, body, content_type):
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post("/csp-report/", data=data, content_type=content_type)


@pytest.mark.django_db
def test_a_report_uri_report_is_logged_without_a_csrf_token(csrf_client, reports):
    # when a browser posts a report-uri report (no CSRF token, no session)
    response = post(csrf_client, REPORT_URI_BODY, "application/csp-report")

    # then it is accepted and logged with what was blocked where
    assert response.status_code == 204
    [record] = reports()
    assert record.levelno == logging.WARNING
    assert record.csp_violation == {
        "document": "http://127.0.0.1:8000/tiering/bcg/", "directive": "script-src-elem",
        "blocked": "inline", "source": "http://127.0.0.1:8000/tiering/bcg/", "line": "12",
        "sample": "alert(1)", "disposition": "enforce"}
    assert "script-src-elem" in record.getMessage()


@pytest.mark.django_db
def test_a_reporting_api_report_is_logged(csrf_client, reports):
    response = post(csrf_client, REPORTING_API_BODY, "application/reports+json")
    assert response.status_code == 204
    [record] = reports()
    assert record.csp_violation["directive"] == "style-src-attr"
    assert record.csp_violation["source"] == "http://127.0.0.1:8000/static/kam/kam.js"


@pytest.mark.django_db
@pytest.mark.parametrize("body", [
    b"\xff\xfe not utf-8", b"not json at all", b"", b"[]", b"{}", b"null", b"42", b'"text"',
    b'{"csp-report": "a string"}', b'[{"type": "csp-violation", "body": "x"}]',
    b'[{"type": "network-error", "body": {}}]', b"[" * 30_000, b'{"csp-report": {' * 3000,
])
def test_garbage_is_a_400_never_a_500(csrf_client, reports, body):
    response = post(csrf_client, body, "application/csp-report")
    assert response.status_code == 400
    assert reports() == []


@pytest.mark.django_db
def test_wrong_method_type_and_size_are_refused(csrf_client, reports, settings):
    assert csrf_client.get("/csp-report/").status_code == 405
    assert csrf_client.put("/csp-report/", data="{}", content_type="application/csp-report").status_code == 405
    assert post(csrf_client, REPORT_URI_BODY, "text/plain").status_code == 415
    settings.KAM = {**settings.KAM, "CSP_REPORT_MAX_BYTES": 1000}
    big = {"csp-report": {**REPORT_URI_BODY["csp-report"], "script-sample": "x" * 2000}}
    assert post(csrf_client, big, "application/csp-report").status_code == 413
    assert reports() == []


@pytest.mark.django_db
def test_values_are_cut_and_cannot_forge_log_lines(csrf_client, reports):
    # given a report whose sample is long and carries a line break
    body = {"csp-report": {**REPORT_URI_BODY["csp-report"],
                           "script-sample": "x\n2026-01-01 WARNING kam.security forged" + "y" * 1000}}

    # when it is posted
    assert post(csrf_client, body, "application/csp-report").status_code == 204

    # then the log line is one line, and the value is cut
    [record] = reports()
    assert "\n" not in record.getMessage()
    assert len(record.csp_violation["sample"]) == 300


@pytest.mark.django_db
def test_one_address_gets_at_most_the_limit_logged_per_minute(csrf_client, reports, settings):
    from django.core.cache import cache

    cache.clear()
    settings.KAM = {**settings.KAM, "CSP_REPORTS_PER_MINUTE": 3}
    for _ in range(10):
        assert post(csrf_client, REPORT_URI_BODY, "application/csp-report").status_code == 204
    assert len(reports()) == 3
    cache.clear()


# --- templates carry no inline code -------------------------------------------------------

TEMPLATE_DIRS = sorted(Path(kam.__file__).parent.glob("**/templates"))
RULES = {
    "inline <script> (code goes in a static .js file; data through json_script)":
        re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I),
    "an on*= event handler attribute": re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I | re.S),
    "a style= attribute (use a class in kam.css)": re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I | re.S),
    "a <style> element (use kam.css)": re.compile(r"<style\b", re.I),
    "a javascript: URL": re.compile(r"javascript:", re.I),
    "htmx code (hx-on, js: values, hx-vars)": re.compile(r"\shx-on|\shx-vars|hx-vals=['\"]\s*js:", re.I),
}


def inline_code(text: str) -> list[str]:
    return [rule for rule, pattern in RULES.items() if pattern.search(text)]


@pytest.mark.parametrize("snippet", [
    "<script>alert(1)</script>", '<select onchange="this.form.submit()">', '<div class="x" style="width: 5%">',
    '<tr\n  style="cursor: pointer">', "<style>.a{}</style>", '<a href="javascript:void(0)">',
    '<button hx-on:click="go()">', "<input hx-vals='js:{q: event.target.value}'>",
])
def test_the_scan_finds_each_kind_of_inline_code(snippet):
    assert inline_code(snippet)


def test_the_scan_leaves_allowed_markup_alone():
    assert inline_code('<script src="/static/kam/kam.js"></script> {{ charts|json_script:"c" }} '
                       '<div data-style="x" data-onchange="y" class="kam-w-5">') == []


def test_no_template_has_inline_code():
    # given every template of the project
    templates = [p for d in TEMPLATE_DIRS for p in d.rglob("*.html")]
    assert len(templates) > 50

    # then none has inline script, event handler attributes or inline styles
    found = {str(p.relative_to(Path(kam.__file__).parent)): inline_code(p.read_text()) for p in templates}
    assert {name: rules for name, rules in found.items() if rules} == {}
