"""The public pool pages: the list, its export, claiming with htmx, release and assignment,
the account page's badge and pool events; and that one branch never sees another's pool."""

from __future__ import annotations

from io import BytesIO

import pytest
from django.test import Client
from openpyxl import load_workbook

from factories import AccountFactory
from kam.accounts.models import Account
from kam.sales.models import PoolEvent, PoolEventKind
from kam.sales.pool.services import pool_release

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.fixture
def pooled(org):
    a = AccountFactory(owner=org.specialist_a, name="广州公海客户")
    b = AccountFactory(owner=org.specialist_b, name="深圳公海客户")
    pool_release(actor=org.specialist_a, account=a, note="客户长期未合作")
    pool_release(actor=org.specialist_b, account=b, note="客户长期未合作")
    return a, b


def cells(response) -> set[str]:
    book = load_workbook(BytesIO(response.getvalue()))
    return {str(c.value) for row in book.active.iter_rows() for c in row}


def test_the_pool_page_lists_the_branch_pool_with_former_owner_and_the_claim_count(org, pooled):
    page = client_for(org.specialist_a2).get("/sales/pool/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "广州公海客户" in text and "深圳公海客户" not in text
    assert "张三" in text  # the former owner
    assert "Held from the pool: 0 / 20" in text
    assert 'data-testid="claim-' in text
    # HQ sees every branch's pool
    text = client_for(org.director).get("/sales/pool/").content.decode()
    assert "广州公海客户" in text and "深圳公海客户" in text


def test_filters_narrow_the_list_and_htmx_gets_the_results_only(org, pooled):
    client = client_for(org.specialist_a)
    part = client.get("/sales/pool/?mine=on", HTTP_HX_REQUEST="true").content.decode()
    assert "广州公海客户" in part and "<html" not in part
    part = client_for(org.specialist_a2).get("/sales/pool/?mine=on", HTTP_HX_REQUEST="true").content.decode()
    assert "广州公海客户" not in part
    part = client.get("/sales/pool/?q=shenzhen", HTTP_HX_REQUEST="true").content.decode()
    assert "广州公海客户" not in part


def test_the_export_holds_only_the_branch_pool(org, pooled):
    mine = cells(client_for(org.specialist_a2).get("/sales/pool/export/?format=xlsx"))
    assert "广州公海客户" in mine and "深圳公海客户" not in mine and "张三" in mine
    theirs = cells(client_for(org.specialist_b).get("/sales/pool/export/?format=xlsx"))
    assert "深圳公海客户" in theirs and "广州公海客户" not in theirs
    csv = client_for(org.specialist_b).get("/sales/pool/export/?format=csv")
    assert "深圳公海客户" in b"".join(csv.streaming_content).decode("utf-8-sig")


def test_claiming_with_htmx_redirects_to_the_account_and_a_second_claim_is_refused(org, pooled):
    a, _b = pooled
    response = client_for(org.specialist_a2).post(f"/sales/pool/{a.pk}/claim/", HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and response["HX-Redirect"] == f"/accounts/{a.pk}/"
    assert Account.objects.get(pk=a.pk).owner == org.specialist_a2
    late = client_for(org.manager_a).post(f"/sales/pool/{a.pk}/claim/", HTTP_HX_REQUEST="true")
    assert late.status_code == 200 and "no longer in the public pool" in late.content.decode()
    # without htmx the refusal comes back as a message on the pool page
    again = client_for(org.manager_a).post(f"/sales/pool/{a.pk}/claim/")
    assert again.status_code == 302 and again["Location"] == "/sales/pool/"


def test_the_claim_limit_is_shown_and_enforced(org, pooled, settings):
    settings.KAM = {**settings.KAM, "POOL_CLAIM_LIMIT": 0}
    a, _b = pooled
    client = client_for(org.specialist_a2)
    assert "Held from the pool: 0 / 0" in client.get("/sales/pool/").content.decode()
    response = client.post(f"/sales/pool/{a.pk}/claim/", HTTP_HX_REQUEST="true")
    assert "the limit is 0" in response.content.decode()
    assert Account.objects.get(pk=a.pk).owner is None


def test_another_branch_cannot_claim_assign_or_read_the_events(org, pooled):
    a, _b = pooled
    client = client_for(org.specialist_b)
    assert client.post(f"/sales/pool/{a.pk}/claim/").status_code == 404
    assert client.get(f"/sales/pool/{a.pk}/events/").status_code == 404
    assert client_for(org.manager_b).get(f"/sales/pool/{a.pk}/assign/").status_code == 404
    assert client_for(org.manager_b).post(f"/sales/pool/{a.pk}/assign/", {"owner": org.specialist_b.pk}).status_code == 404
    assert Account.objects.get(pk=a.pk).owner is None


def test_a_manager_assigns_through_the_page(org, pooled):
    a, _b = pooled
    client = client_for(org.manager_a)
    page = client.get(f"/sales/pool/{a.pk}/assign/").content.decode()
    assert "李四" in page and "王五" not in page  # only people of the manager's units
    assert client.post(f"/sales/pool/{a.pk}/assign/", {"owner": org.specialist_b.pk}).status_code == 200
    response = client.post(f"/sales/pool/{a.pk}/assign/", {"owner": org.specialist_a2.pk})
    assert response.status_code == 302
    assert Account.objects.get(pk=a.pk).owner == org.specialist_a2
    assert client_for(org.specialist_a2).get(f"/sales/pool/{a.pk}/assign/").status_code == 404


def test_the_owner_releases_through_the_page_with_a_reason(org):
    a = AccountFactory(owner=org.specialist_a, name="广州待放客户")
    assert client_for(org.specialist_a2).get(f"/sales/pool/{a.pk}/release/").status_code == 404
    client = client_for(org.specialist_a)
    assert 'data-testid="release"' in client.get(f"/accounts/{a.pk}/").content.decode()
    assert client.post(f"/sales/pool/{a.pk}/release/", {"note": " "}).status_code == 200  # the form asks again
    assert Account.objects.get(pk=a.pk).owner == org.specialist_a
    response = client.post(f"/sales/pool/{a.pk}/release/", {"note": "客户业务已迁出本地"})
    assert response.status_code == 302 and response["Location"] == "/sales/pool/"
    event = PoolEvent.objects.get(account=a)
    assert (event.kind, event.note, event.former_owner) == (PoolEventKind.RELEASED, "客户业务已迁出本地", org.specialist_a)


def test_the_account_page_shows_the_pool_badge_and_the_pool_events(org, pooled):
    a, _b = pooled
    client = client_for(org.manager_a)
    page = client.get(f"/accounts/{a.pk}/").content.decode()
    assert 'data-testid="pool-badge"' in page and "In the public pool since" in page and "None" not in page
    history = client.get(f"/accounts/{a.pk}/?tab=history").content.decode()
    assert f"/sales/pool/{a.pk}/events/" in history
    events = client.get(f"/sales/pool/{a.pk}/events/").content.decode()
    assert "Released to the pool by hand" in events and "客户长期未合作" in events and "张三" in events
    # the account list says so too
    listing = client.get("/accounts/").content.decode()
    assert 'data-testid="in-pool"' in listing


def test_the_pool_page_runs_a_constant_number_of_queries(org, django_assert_num_queries):
    client = client_for(org.specialist_a2)

    def load(n):
        for _ in range(n):
            pool_release(actor=org.specialist_a, account=AccountFactory(owner=org.specialist_a), note="未合作")

    load(2)
    client.get("/sales/pool/")  # warm caches (content types, sessions)
    with django_assert_num_queries(20, exact=False) as few:
        assert client.get("/sales/pool/").status_code == 200
    load(15)
    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get("/sales/pool/").status_code == 200


def test_the_account_list_filters_the_accounts_in_the_pool(org, pooled):
    AccountFactory(owner=org.specialist_a, name="广州有主客户")
    client = client_for(org.manager_a)
    everything = client.get("/accounts/").content.decode()
    assert "广州公海客户" in everything and "广州有主客户" in everything
    only_pool = client.get("/accounts/?in_pool=on").content.decode()
    assert "广州公海客户" in only_pool and "广州有主客户" not in only_pool and "深圳公海客户" not in only_pool


def test_the_account_card_offers_each_button_only_to_whom_its_policy_allows(org, pooled):
    a, _b = pooled
    owned = AccountFactory(owner=org.specialist_a, name="广州在管客户")

    def buttons(user, account):
        text = client_for(user).get(f"/accounts/{account.pk}/").content.decode()
        return {name for name in ("claim", "assign", "release", "edit", "merge", "delete", "team-add")
                if f'data-testid="{name}"' in text}

    assert client_for(org.specialist_a).get(f"/accounts/{a.pk}/").status_code == 404  # the pool page is theirs
    assert buttons(org.manager_a, a) == {"claim", "assign", "edit", "merge", "delete", "team-add"}
    assert buttons(org.admin, a) == {"assign", "edit", "merge", "delete", "team-add"}  # holds no accounts
    assert buttons(org.analyst_hq, a) == set()  # an analyst reads; no button leads to a refusal
    assert buttons(org.specialist_a, owned) == {"release", "edit", "merge", "delete", "team-add"}
    assert buttons(org.manager_a, owned) == {"release", "edit", "merge", "delete", "team-add"}
    assert buttons(org.director, owned) == {"release", "edit", "merge", "delete", "team-add"}
    contacts = client_for(org.analyst_hq).get(f"/accounts/{owned.pk}/?tab=contacts").content.decode()
    assert 'data-testid="add-contact"' not in contacts
    assert 'data-testid="add-contact"' in client_for(org.specialist_a).get(
        f"/accounts/{owned.pk}/?tab=contacts").content.decode()
