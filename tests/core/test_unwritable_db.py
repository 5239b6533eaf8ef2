"""A database that cannot be written: every page says so with a 503 (in Chinese and English),
the API answers JSON 503 — whether the write failed in the view or in middleware after it
(the session save). Any other error gets the project's own 500 page, or JSON under /api/.
Neither page touches the database.

The database is made read-only for real: SQLite's `PRAGMA query_only` on the connection, or
PostgreSQL's `ALTER DATABASE … SET default_transaction_read_only = on` for every new session.
"""

from __future__ import annotations

import sqlite3
import sys

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError, connection
from django.test import Client, RequestFactory

from factories import PASSWORD
from kam.core.failures import server_error, unwritable_reason
from kam.core.services import api_token_issue
from spreadsheets import csv_bytes

HEADING = "The database cannot be written right now"


@pytest.fixture
def read_only(transactional_db):
    """Call to make the database read-only; writable again after the test."""
    name = connection.settings_dict["NAME"]

    def make() -> None:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("PRAGMA query_only = ON")
            else:
                cursor.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        if connection.vendor != "sqlite":
            connection.close()  # the next session starts read-only

    yield make
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA query_only = OFF")
        else:
            cursor.execute("SET default_transaction_read_only = off")
            cursor.execute(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')
    if connection.vendor != "sqlite":
        connection.close()


def _client() -> Client:
    # As a browser sees it: the server's error handling, not the exception in the test.
    return Client(raise_request_exception=False)


def test_a_page_whose_session_cannot_be_saved_says_the_database_cannot_be_written(org, read_only):
    # given a logged-in specialist, then the database turning read-only
    client = _client()
    client.login(username="spec_a", password=PASSWORD)
    read_only()

    # when they open a page (the view only reads; the session save after it fails)
    response = client.get("/accounts/", HTTP_ACCEPT_LANGUAGE="zh-hans")

    # then a 503 page says what happened, with the English beside it
    assert response.status_code == 503
    page = response.content.decode()
    assert 'data-testid="unwritable"' in page and HEADING in page
    assert "read-only" in page and "Your last change was not saved" in page
    assert '<html lang="zh-hans">' in page and 'lang="en"' in page
    assert "Server Error (500)" not in page


def test_a_write_in_the_view_gets_the_same_page(org, read_only):
    client = _client()
    client.login(username="spec_a", password=PASSWORD)
    client.get("/accounts/")  # the session is up to date: the view's own write is what fails
    read_only()
    upload = SimpleUploadedFile("a.csv", csv_bytes([["客户名称"], ["只读测试公司"]]))
    response = client.post("/imports/", {"kind": "accounts", "file": upload})
    assert response.status_code == 503 and HEADING in response.content.decode()


def test_the_api_answers_json_503_for_a_write_and_for_a_session_save(org, read_only, account_factory):
    # given an account, a token used once and a browser session, then a read-only database
    account = account_factory(owner=org.specialist_a)
    token = api_token_issue(user=org.specialist_a, name="test")
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    client = _client()
    assert client.get("/api/accounts", **bearer).status_code == 200
    browser = _client()
    browser.login(username="spec_a", password=PASSWORD)
    read_only()

    # when the token changes the account
    response = client.patch(f"/api/accounts/{account.pk}", {"notes": "只读"}, content_type="application/json",
                            **bearer)

    # then the answer is JSON 503 with a reason
    assert response.status_code == 503 and response["Content-Type"].startswith("application/json")
    assert response.json()["reason"] == "read_only" and "read-only" in response.json()["detail"]

    # and a read through the browser session, whose save fails after the view, is JSON too
    response = browser.get("/api/accounts")
    assert response.status_code == 503 and response.json()["reason"] == "read_only"


def test_any_other_error_gets_the_projects_500_page_and_json_under_the_api(org, monkeypatch):
    # given a page and an API list that fail with an unexpected error
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("kam.home.views._home_figures", broken)
    monkeypatch.setattr("kam.accounts.selectors.account_list", broken)
    client = _client()
    client.login(username="spec_a", password=PASSWORD)

    # then the page is our own 500, not Django's bare one
    response = client.get("/")
    assert response.status_code == 500
    page = response.content.decode()
    assert 'data-testid="server-error"' in page and "Something went wrong on the server" in page
    assert "Server Error (500)" not in page

    # and the API answers JSON
    response = client.get("/api/accounts")
    assert response.status_code == 500 and response.json() == {"detail": "Internal server error."}


class Untouchable:
    """A session or user that fails the test if the error page reaches for it."""

    def __getattr__(self, name):
        raise AssertionError(f"the error page used {name!r}")


@pytest.mark.parametrize(("error", "status"), [
    (OperationalError("attempt to write a readonly database"), 503),
    (RuntimeError("a bug"), 500),
])
@pytest.mark.parametrize("path", ["/accounts/", "/api/accounts"])
def test_the_error_pages_need_neither_database_session_nor_user(db, django_assert_num_queries, error, status, path):
    request = RequestFactory().get(path)
    request.session = request.user = Untouchable()
    try:
        raise error
    except Exception:
        with django_assert_num_queries(0):
            response = server_error(request)
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json" if path.startswith("/api/") else "text/html")


def test_the_errors_that_mean_the_database_cannot_be_written(tmp_path):
    # given genuine errors from SQLite: a read-only file, and a file another writer holds
    path = tmp_path / "x.sqlite3"
    with sqlite3.connect(path) as setup:
        setup.execute("CREATE TABLE t (n INTEGER)")
    read_only = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    impatient = sqlite3.connect(path, timeout=0, isolation_level=None)
    errors = {}
    for name, conn in [("read_only", read_only), ("busy", impatient)]:
        try:
            conn.execute("INSERT INTO t VALUES (1)")
        except sqlite3.Error as exc:
            errors[name] = exc
    holder.rollback()

    # then each is recognised, also when wrapped as Django wraps it; other errors are not
    assert unwritable_reason(errors["read_only"]) == "read_only"
    assert unwritable_reason(errors["busy"]) == "busy"
    try:
        try:
            raise errors["read_only"]
        except sqlite3.Error as exc:
            raise OperationalError(*exc.args) from exc
    except OperationalError:
        assert unwritable_reason(sys.exc_info()[1]) == "read_only"
    assert unwritable_reason(OperationalError("no such table: t")) is None
    assert unwritable_reason(ValueError("database is locked")) is None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's read-only transactions")
def test_postgresql_read_only_transactions_are_recognised(transactional_db):
    from django.db import transaction

    with pytest.raises(Exception) as caught, transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION READ ONLY")
            cursor.execute("INSERT INTO core_nightlyrun (day, started_at, jobs) VALUES ('2026-01-01', now(), '[]')")
    assert unwritable_reason(caught.value) == "read_only"
