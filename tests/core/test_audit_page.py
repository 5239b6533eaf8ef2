"""The audit page: administrators only, filtered by person, event, dates, address and text,
paged, exported (and the export audited)."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from kam.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def page(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def at(day: str) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(day + "T10:00"))


@pytest.fixture
def admin(org) -> Client:
    return page(org.admin)


@pytest.fixture
def events(org, admin):
    AuditEvent.objects.all().delete()  # the administrator's own login too
    rows = [
        AuditEvent(kind="login", user=org.manager_a, username="manager_a", ip_address="10.1.2.3", at=at("2026-11-02")),
        AuditEvent(kind="login_failed", username="manager_a", ip_address="203.0.113.7", at=at("2026-11-03")),
        AuditEvent(kind="account_view", user=org.specialist_a, username="spec_a", ip_address="10.1.2.9",
                   target="A000123 广州珠江科技有限公司", detail={"account": 123}, at=at("2026-11-04")),
        AuditEvent(kind="export", user=org.director, username="director", ip_address="10.8.0.1",
                   target="", detail={"what": "accounts"}, at=at("2026-11-05")),
    ]
    AuditEvent.objects.bulk_create(rows)
    return rows


def usernames(response) -> list[str]:
    return [e.username for e in response.context["page"].object_list]


def test_only_administrators_open_it(org, events):
    for user in (org.director, org.manager_a, org.specialist_a, org.analyst_hq):
        client = page(user)
        assert client.get("/audit/").status_code == 404
        assert client.get("/audit/export/?format=csv").status_code == 404
    assert Client().get("/audit/").status_code == 302  # to the login page
    response = page(org.admin).get("/audit/")
    assert response.status_code == 200 and 'data-testid="audit-table"' in response.content.decode()
    assert 'data-testid="nav-audit"' in response.content.decode()
    assert 'data-testid="nav-audit"' not in page(org.director).get("/").content.decode()


@pytest.mark.parametrize("query, expected", [
    ("person=manager", ["manager_a", "manager_a"]),
    ("kind=login_failed", ["manager_a"]),
    ("since=2026-11-04", ["director", "spec_a"]),
    ("since=2026-11-03&until=2026-11-04", ["spec_a", "manager_a"]),
    ("ip=10.1.2.", ["spec_a", "manager_a"]),
    ("ip=203.0.113.7", ["manager_a"]),
    ("q=珠江", ["spec_a"]),
    ("q=A000123", ["spec_a"]),
    ("", ["director", "spec_a", "manager_a", "manager_a"]),
])
def test_filters(org, admin, events, query, expected):
    response = admin.get(f"/audit/?{query}")
    assert usernames(response) == expected


def test_a_bad_date_range_says_so_and_filters_nothing(org, admin, events):
    response = admin.get("/audit/?since=2026-11-05&until=2026-11-01")
    assert "The end date is before the start date." in response.content.decode()
    assert len(usernames(response)) == 4


def test_it_pages_and_the_htmx_partial_is_the_results_only(org, admin, events, settings):
    settings.KAM = {**settings.KAM, "PAGE_SIZE": 3}
    client = admin
    assert usernames(client.get("/audit/?page=2")) == ["manager_a"]
    partial = client.get("/audit/?kind=login", HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<div id="results"') and "<html" not in partial


def test_the_export_is_the_filtered_list_and_is_audited(org, admin, events):
    response = admin.get("/audit/export/?format=csv&ip=10.1.2.")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:3] == ["when", "event", "person"]
    assert [r[2] for r in rows[1:]] == ["spec_a", "manager_a"]
    assert "A000123 广州珠江科技有限公司" in rows[1] and "account: 123" in rows[1]
    export = AuditEvent.objects.get(kind="export", user=org.admin)
    assert export.detail["what"] == "audit" and "ip=10.1.2." in export.detail["query"]
    xlsx = admin.get("/audit/export/?format=xlsx")
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxmlformats")


def test_it_is_a_handful_of_queries(org, admin, events, django_assert_max_num_queries):
    for n in range(40):
        AuditEvent.objects.create(kind="api_list", username="spec_a", target="/api/accounts",
                                  at=timezone.now() - timedelta(minutes=n))
    client = admin
    client.get("/audit/")  # the first request writes the session's last-seen time
    with django_assert_max_num_queries(7):  # session, user, unit, count, the page, the login locks
        response = client.get("/audit/?person=spec")
    assert len(usernames(response)) == 25
