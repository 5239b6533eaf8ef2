"""Check 12: lost updates. Editing a record someone else changed meanwhile is detected.

Every versioned model (accounts, contacts, opportunities) carries a version; a write naming the
version read — `If-Match: <version>` or `version` in the body — against a newer one answers
412 Precondition Failed with the current version and changes nothing. Every API operation that
takes a version documents the 412. In the UI, two people who opened the same form and both save:
the second is told the record was changed by someone else, and the first one's change stands."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.apps import apps
from django.test import Client

from factories import AccountFactory, ContactFactory
from kam.accounts.models import Account, Contact
from kam.core.services import api_token_issue
from kam.sales.models import Opportunity, OutcomeReason
from kam.sales.opportunities.services import opportunity_create
from tests.security.world import form_fields

pytestmark = pytest.mark.django_db

VERSIONED = {"accounts.account", "accounts.contact", "sales.opportunity"}


def bearer(person) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=person)}", HTTP_ACCEPT_LANGUAGE="en")


def browser(person) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(person)
    return client


@pytest.fixture
def records(org):
    account = AccountFactory(owner=org.specialist_a, name="广州天河智造科技有限公司")
    contact = ContactFactory(actor=org.specialist_a, account=account, name="李总")
    opportunity = opportunity_create(actor=org.specialist_a, account=account, name="专线扩容项目",
                                     amount=Decimal("250000"), expected_close=date(2027, 3, 31))
    return account, contact, opportunity


def test_the_versioned_models_are_the_ones_covered_here():
    # a new model with a version column must join the checks below
    found = {m._meta.label_lower for m in apps.get_models()
             if any(f.name == "version" for f in m._meta.fields) and not m.__name__.startswith("Historical")}
    assert found == VERSIONED


# --- the API --------------------------------------------------------------------------------------


def _writes(account, contact, opportunity):
    """(method, path, body, the row, a field it would change) for every versioned write."""
    reason = OutcomeReason.objects.filter(is_active=True, applies_to__in=("lost", "both")).first()
    return [
        ("patch", f"/api/accounts/{account.pk}", {"notes": "覆盖"}, account, "notes"),
        ("patch", f"/api/contacts/{contact.pk}", {"title": "覆盖"}, contact, "title"),
        ("patch", f"/api/opportunities/{opportunity.pk}", {"amount": "1"}, opportunity, "amount"),
        ("post", f"/api/opportunities/{opportunity.pk}/move", {"stage": "review"}, opportunity, "stage"),
        ("post", f"/api/opportunities/{opportunity.pk}/close",
         {"outcome": "lost", "reason": reason.pk, "note": "对手报价低"}, opportunity, "stage"),
    ]


def _someone_else_saves(account, contact, opportunity, org):
    """Another user saves each record once, so version 1 is stale (now 2)."""
    client = bearer(org.manager_a)
    assert client.patch(f"/api/accounts/{account.pk}", {"short_name": "天河智造"},
                        content_type="application/json").status_code == 200
    assert client.patch(f"/api/contacts/{contact.pk}", {"department": "采购部"},
                        content_type="application/json").status_code == 200
    assert client.post(f"/api/opportunities/{opportunity.pk}/move", {"stage": "design", "version": 1},
                       content_type="application/json").status_code == 200


@pytest.mark.parametrize("how", ["body", "if-match", "if-match-etag"])
def test_a_stale_version_is_412_everywhere_in_the_api_and_changes_nothing(org, records, how):
    account, contact, opportunity = records
    # given someone else saved each record after we read version 1
    _someone_else_saves(account, contact, opportunity, org)
    client = bearer(org.specialist_a)
    for method, path, body, row, field in _writes(account, contact, opportunity):
        before = type(row).objects.values().get(pk=row.pk)
        # when we write with the version we read
        headers = {}
        if how == "body":
            body = {**body, "version": 1}
        else:
            headers["HTTP_IF_MATCH"] = "1" if how == "if-match" else 'W/"1"'
        response = getattr(client, method)(path, body, content_type="application/json", **headers)
        # then 412, the current version named, nothing changed
        assert response.status_code == 412, (method, path, response.status_code, response.content)
        assert response.json()["current_version"] == 2, response.json()
        assert type(row).objects.values().get(pk=row.pk) == before, (path, field)


def test_the_current_version_is_accepted_and_moves_on(org, records):
    account, contact, opportunity = records
    client = bearer(org.specialist_a)
    response = client.patch(f"/api/opportunities/{opportunity.pk}", {"amount": "300000"},
                            content_type="application/json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 200 and response.json()["version"] == 2
    assert Opportunity.objects.get(pk=opportunity.pk).amount == Decimal("300000.00")
    response = client.patch(f"/api/accounts/{account.pk}", {"notes": "新备注"}, content_type="application/json",
                            HTTP_IF_MATCH="1")
    assert response.status_code == 200 and Account.objects.get(pk=account.pk).version == 2
    # a PATCH of an opportunity says which version it read, one way or the other
    response = client.patch(f"/api/opportunities/{opportunity.pk}", {"amount": "1"}, content_type="application/json")
    assert response.status_code == 422 and "version" in response.json()["errors"]
    # an If-Match that is no version is named
    response = client.patch(f"/api/contacts/{contact.pk}", {"title": "x"}, content_type="application/json",
                            HTTP_IF_MATCH="abc")
    assert response.status_code == 422 and "If-Match" in response.json()["errors"]
    assert Contact.objects.get(pk=contact.pk).title != "x"


def test_every_operation_taking_a_version_documents_412(org):
    client = browser(org.admin)
    doc = client.get("/api/openapi.json").json()
    schemas = doc["components"]["schemas"]

    def properties(schema):
        if "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
        return schema.get("properties", {})

    versioned, missing = [], []
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if body and "version" in properties(body):
                versioned.append(f"{method.upper()} {path}")
                if "412" not in op["responses"]:
                    missing.append(f"{method.upper()} {path}")
    assert len(versioned) >= 5, versioned
    assert not missing, f"versioned writes without a documented 412: {missing}"


# --- the pages ------------------------------------------------------------------------------------


def _both_open_then_save(first, second, url, change_first: dict, change_second: dict):
    """Two people open the same form; the first saves, then the second."""
    form_one = form_fields(first.get(url).content.decode())
    form_two = form_fields(second.get(url).content.decode())
    assert form_one["version"] == form_two["version"] == "1"
    saved = first.post(url, {**form_one, **change_first})
    assert saved.status_code == 302, saved.content.decode()[:2000]
    return second.post(url, {**form_two, **change_second})


def test_two_people_editing_an_account_the_second_is_told(org, records):
    account, _, _ = records
    response = _both_open_then_save(browser(org.specialist_a), browser(org.manager_a), f"/accounts/{account.pk}/edit/",
                                    {"notes": "甲的备注"}, {"notes": "乙的备注"})
    assert response.status_code in (200, 412)
    assert "changed by someone else" in response.content.decode()
    account.refresh_from_db()
    assert (account.notes, account.version) == ("甲的备注", 2)


def test_two_people_editing_a_contact_the_second_is_told(org, records):
    account, contact, _ = records
    response = _both_open_then_save(browser(org.specialist_a), browser(org.manager_a),
                                    f"/accounts/{account.pk}/contacts/{contact.pk}/edit/",
                                    {"title": "总经理"}, {"title": "副总经理"})
    assert "changed by someone else" in response.content.decode()
    contact.refresh_from_db()
    assert (contact.title, contact.version) == ("总经理", 2)


def test_two_people_editing_an_opportunity_the_second_is_told(org, records):
    _, _, opportunity = records
    response = _both_open_then_save(browser(org.specialist_a), browser(org.manager_a),
                                    f"/sales/opportunities/{opportunity.pk}/edit/",
                                    {"amount": "300000"}, {"amount": "1"})
    assert response.status_code == 412
    assert "Someone changed this opportunity in the meantime" in response.content.decode()
    opportunity.refresh_from_db()
    assert (opportunity.amount, opportunity.version) == (Decimal("300000.00"), 2)


def test_the_pages_speak_chinese_about_it(org, records):
    account, _, _ = records
    first, second = browser(org.specialist_a), browser(org.manager_a)
    for client in (first, second):
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    response = _both_open_then_save(first, second, f"/accounts/{account.pk}/edit/", {"notes": "甲"}, {"notes": "乙"})
    assert "该客户已被他人修改" in response.content.decode()
