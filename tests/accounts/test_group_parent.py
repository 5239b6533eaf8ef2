"""A specialist's account may belong to a group whose head account lies outside their view
(HQ linked them). They can still edit their account — the parent they did not change is not
checked against what they see — but they cannot move it under another account they cannot see."""

import json

import pytest
from django.test import Client

from factories import AccountFactory
from kam.accounts.models import Account
from kam.core.services import api_token_issue

pytestmark = pytest.mark.django_db


@pytest.fixture
def grouped(org):
    head = AccountFactory(owner=org.specialist_b, name="深圳集团总部")  # another branch's account
    other = AccountFactory(owner=org.specialist_b, name="深圳另一家公司")
    # HQ, who sees both branches, puts the specialist's account into the group
    mine = AccountFactory(actor=org.admin, owner=org.specialist_a, name="广州分公司", parent=head)
    return head, other, mine


def patch(user, account, body):
    client = Client(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=user)}")
    return client.patch(f"/api/accounts/{account.pk}", json.dumps(body), content_type="application/json")


def test_a_specialist_changes_their_account_whose_group_head_they_cannot_see(org, grouped):
    head, _other, mine = grouped
    response = patch(org.specialist_a, mine, {"short_name": "广分", "notes": "新备注"})
    assert response.status_code == 200, response.content
    mine.refresh_from_db()
    assert (mine.short_name, mine.notes, mine.parent_id) == ("广分", "新备注", head.pk)


def test_sending_the_same_parent_back_is_no_change(org, grouped):
    head, _other, mine = grouped
    assert patch(org.specialist_a, mine, {"parent": head.pk, "short_name": "广分"}).status_code == 200


def test_moving_it_under_another_account_they_cannot_see_is_still_refused(org, grouped):
    head, other, mine = grouped
    response = patch(org.specialist_a, mine, {"parent": other.pk})
    assert response.status_code == 422 and "parent" in response.json()["errors"]
    mine.refresh_from_db()
    assert mine.parent_id == head.pk


def test_they_may_take_it_out_of_the_group_or_put_it_under_an_account_they_see(org, grouped):
    _head, _other, mine = grouped
    own = AccountFactory(owner=org.specialist_a, name="广州另一家公司")
    assert patch(org.specialist_a, mine, {"parent": own.pk}).status_code == 200
    assert patch(org.specialist_a, mine, {"parent": None}).status_code == 200
    assert Account.objects.get(pk=mine.pk).parent_id is None


def test_the_edit_page_saves_with_the_group_head_unchanged_and_refuses_another_invisible_one(org, grouped):
    head, other, mine = grouped
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(org.specialist_a)
    page = client.get(f"/accounts/{mine.pk}/edit/").content.decode()
    assert head.name in page  # the current group head is shown as the chosen parent
    form = {"name": mine.name, "code": mine.code, "channel": mine.channel, "lifecycle_status": mine.lifecycle_status,
            "version": mine.version}

    saved = client.post(f"/accounts/{mine.pk}/edit/", {**form, "parent": head.pk, "short_name": "广分"})
    assert saved.status_code == 302, saved.content.decode()[:2000]
    mine.refresh_from_db()
    assert (mine.short_name, mine.parent_id) == ("广分", head.pk)

    refused = client.post(f"/accounts/{mine.pk}/edit/", {**form, "version": mine.version, "parent": other.pk})
    assert refused.status_code == 200 and 'data-field-error="parent"' in refused.content.decode()
    assert Account.objects.get(pk=mine.pk).parent_id == head.pk


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_their_exported_list_imports_back_with_the_group_head_unchanged(org, grouped, run_import, fmt):
    head, _other, mine = grouped
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(org.specialist_a)
    exported = b"".join(client.get(f"/accounts/export/?format={fmt}").streaming_content)
    job = run_import(org.specialist_a, "accounts", f"mine.{fmt}", exported)
    assert job.preview["counts"]["refused"] == 0 and job.preview["counts"]["invalid"] == 0, job.preview["issues"]
    assert Account.objects.get(pk=mine.pk).parent_id == head.pk
