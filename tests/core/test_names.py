"""A name is one line of plain text: the spaces around it are dropped, and a tab, a line break or
another control character in it is refused with a message naming the field — one rule
(kam.core.validators.clean_name) for the forms, the API and the imports."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from factories import AccountFactory, ContactFactory
from kam.accounts.models import Account, Contact
from kam.core.services import api_token_issue
from kam.core.validators import clean_name
from kam.sales.models import Competitor, LeadSource, Opportunity
from spreadsheets import csv_bytes

pytestmark = pytest.mark.django_db
BAD = ["\t广州天河", "广州天河\n", "广州\n天河", "广州\r天河", "广州\x00天河", "广州\u2028天河", "广州\u202e天河", "\x1b[31m广州"]


@pytest.mark.parametrize("name", BAD)
def test_the_rule_refuses_control_characters_anywhere(name):
    with pytest.raises(ValidationError):
        clean_name(name)


def test_the_rule_drops_the_spaces_around_and_keeps_everything_else():
    assert clean_name("  广州天河 ·（集团）\u3000") == "广州天河 ·（集团）"
    assert clean_name("Zoë 👩\u200d💻 O'Brien") == "Zoë 👩\u200d💻 O'Brien"  # joiners are not controls


def test_the_message_says_what_to_remove():
    with pytest.raises(ValidationError) as tab:
        clean_name("\t广州")
    with pytest.raises(ValidationError) as line:
        clean_name("广州\n天河")
    assert "a tab" in tab.value.messages[0] and "a line break" in line.value.messages[0]


def api(user) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=user)}", HTTP_ACCEPT_LANGUAGE="en")


def send(client, method, url, body):
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("name", BAD[:4])
def test_the_api_refuses_them_naming_the_field(org, name):
    client = api(org.specialist_a)
    account = AccountFactory(owner=org.specialist_a, name="广州接口客户有限公司")
    contact = ContactFactory(actor=org.specialist_a, account=account, name="李总")
    website = LeadSource.objects.get(code="website").pk
    calls = [
        ("post", "/api/accounts", {"name": name}, "name"),
        ("patch", f"/api/accounts/{account.pk}", {"short_name": name}, "short_name"),
        ("post", f"/api/accounts/{account.pk}/contacts", {"name": name}, "name"),
        ("patch", f"/api/contacts/{contact.pk}", {"name": name}, "name"),
        ("post", "/api/leads", {"source": website, "company": name}, "company"),
        ("post", "/api/leads", {"source": website, "company": "广州线索公司", "contact_name": name}, "contact_name"),
        ("post", "/api/opportunities", {"account": account.pk, "name": name, "amount": "1",
                                        "expected_close": "2027-06-30"}, "name"),
    ]
    for method, url, body, field in calls:
        response = send(client, method, url, body)
        assert response.status_code == 422, (url, response.content)
        assert "one line of plain text" in " ".join(response.json()["errors"][field]), (url, response.content)
    assert Account.objects.count() == 1 and Contact.objects.count() == 1 and not Opportunity.objects.exists()


def test_the_api_drops_the_spaces_around_a_name(org):
    response = send(api(org.specialist_a), "post", "/api/accounts", {"name": "  广州空格客户有限公司\u3000"})
    assert response.status_code == 201 and response.json()["name"] == "广州空格客户有限公司"


def test_the_forms_refuse_them_on_their_field(org):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(org.specialist_a)
    account = AccountFactory(owner=org.specialist_a, name="广州表单客户有限公司")
    pages = [
        ("/accounts/new/", {"name": "广州\n天河公司", "channel": "key", "lifecycle_status": "prospect"}, "name"),
        ("/sales/opportunities/new/", {"account": account.pk, "name": "专线\n扩容", "stage": "contact",
                                       "amount": "1", "expected_close": "2027-06-30"}, "name"),
        ("/sales/leads/new/", {"source": LeadSource.objects.get(code="website").pk, "company": "广州\n线索"}, "company"),
    ]
    for url, data, field in pages:
        response = client.post(url, data)
        body = response.content.decode()
        assert response.status_code in (200, 422) and f'data-field-error="{field}"' in body, url
        assert "one line of plain text" in body, url
    assert Account.objects.count() == 1 and not Opportunity.objects.exists()


def test_an_import_refuses_them_naming_the_column(org, run_import):
    rows = [["客户编号", "客户名称"], ["N1", "广州\n天河有限公司"], ["N2", "广州越秀有限公司"]]
    job = run_import(org.admin, "accounts", "names.csv", csv_bytes(rows), mode="valid")
    assert (job.created, job.invalid) == (1, 1)
    issue = job.preview["issues"][0]
    assert issue["column"] == "客户名称" and "one line of plain text" in issue["message"]


def test_list_entries_and_people_follow_the_rule_too(org):
    with pytest.raises(ValidationError) as refused:
        Competitor(code="x", name="对手\t公司").full_clean()
    assert "name" in refused.value.message_dict
    org.specialist_a.display_name = "张\n三"
    with pytest.raises(ValidationError) as person:
        org.specialist_a.full_clean(exclude=["password"])
    assert "display_name" in person.value.message_dict
