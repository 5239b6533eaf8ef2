"""Account pages through the Django test client: scoping, forms, duplicates, history, search."""

import pytest
from django.test import Client

from factories import AccountFactory, ContactFactory, valid_uscc
from kam.accounts import services
from kam.accounts.models import Account, AccountTeamMember

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.fixture
def two_branches(org):
    a = AccountFactory(owner=org.specialist_a, name="中国移动通信集团广东有限公司")
    b = AccountFactory(owner=org.specialist_b, name="中国移动深圳南山营业部")
    a_contact = ContactFactory(actor=org.specialist_a, account=a, name="李总")
    b_contact = ContactFactory(actor=org.specialist_b, account=b, name="王总")
    member = AccountTeamMember.objects.create(account=b, user=org.manager_b, team_role="account_manager")
    return a, b, a_contact, b_contact, member


def test_pages_require_login(org, client):
    for url in ("/", "/accounts/", "/accounts/new/", "/pickers/users/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_other_branch_pages_are_404_and_nothing_changes(org, two_branches):
    # given a specialist of branch A
    _a, b, _ac, b_contact, member = two_branches
    client = logged_in(org.specialist_a)
    # when every page and action of branch B's account is tried
    for method, url in [
        ("get", f"/accounts/{b.pk}/"), ("get", f"/accounts/{b.pk}/?tab=contacts"), ("get", f"/accounts/{b.pk}/?tab=history"),
        ("get", f"/accounts/{b.pk}/edit/"), ("post", f"/accounts/{b.pk}/edit/"),
        ("get", f"/accounts/{b.pk}/delete/"), ("post", f"/accounts/{b.pk}/delete/"),
        ("post", f"/accounts/{b.pk}/team/"), ("post", f"/accounts/{b.pk}/team/{member.pk}/remove/"),
        ("get", f"/accounts/{b.pk}/contacts/new/"), ("post", f"/accounts/{b.pk}/contacts/new/"),
        ("get", f"/accounts/{b.pk}/contacts/{b_contact.pk}/edit/"), ("post", f"/accounts/{b.pk}/contacts/{b_contact.pk}/edit/"),
        ("post", f"/accounts/{b.pk}/contacts/{b_contact.pk}/delete/"),
    ]:
        # then each is 404
        assert getattr(client, method)(url).status_code == 404, (method, url)
    b.refresh_from_db()
    assert b.deleted_at is None and b.contacts.alive().count() == 1
    assert AccountTeamMember.objects.filter(pk=member.pk).exists()


def test_contact_of_another_account_is_404_even_through_a_visible_account(org, two_branches):
    a, _b, _ac, b_contact, _m = two_branches
    client = logged_in(org.director)  # sees both accounts
    assert client.get(f"/accounts/{a.pk}/contacts/{b_contact.pk}/edit/").status_code == 404


def test_list_search_pickers_and_home_show_exactly_the_visible_set(org, two_branches):
    a, b, a_contact, b_contact, _m = two_branches
    client = logged_in(org.specialist_a)
    page = client.get("/accounts/?q=zgyd").content.decode()
    assert a.name in page and b.name not in page
    assert "1 account" in page
    assert b.name not in client.get("/accounts/pick/?q=zgyd").content.decode()
    assert b_contact.name not in client.get("/pickers/contacts/?q=").content.decode()
    assert a_contact.name in client.get("/pickers/contacts/?q=").content.decode()
    assert "王五" not in client.get("/pickers/users/?q=").content.decode()  # branch B's specialist
    home = client.get("/").content.decode()
    assert 'data-kpi="total">1<' in home
    director_home = logged_in(org.director).get("/").content.decode()
    assert 'data-kpi="total">2<' in director_home


def test_list_filters_and_htmx_partial(org, two_branches):
    a, b, *_ = two_branches
    client = logged_in(org.director)
    page = client.get(f"/accounts/?unit={org.branch_b.pk}").content.decode()
    assert b.name in page and a.name not in page
    partial = client.get("/accounts/?q=zgyd", HTTP_HX_REQUEST="true").content.decode()
    assert 'id="results"' in partial and "<html" not in partial


def test_list_page_is_a_handful_of_queries(org, django_assert_max_num_queries):
    for _ in range(30):
        AccountFactory(owner=org.specialist_a)
    client = logged_in(org.manager_a)
    client.get("/accounts/")  # warm the session and caches
    with django_assert_max_num_queries(12):
        response = client.get("/accounts/?sort=name")
    assert response.content.decode().count('href="/accounts/') >= 25


def test_create_with_bad_uscc_shows_the_field_error_and_writes_nothing(org):
    client = logged_in(org.specialist_a)
    uscc = valid_uscc()
    bad = uscc[:-1] + ("0" if uscc[-1] != "0" else "1")
    response = client.post("/accounts/new/", {"name": "某某科技有限公司", "uscc": bad, "channel": "key",
                                              "lifecycle_status": "prospect"})
    assert response.status_code == 200
    assert 'data-field-error="uscc"' in response.content.decode()
    assert "check digit" in response.content.decode()
    assert not Account.objects.exists()


def test_duplicate_uscc_links_to_the_existing_account(org):
    uscc = valid_uscc()
    first = AccountFactory(owner=org.specialist_a, uscc=uscc)
    response = logged_in(org.manager_a).post("/accounts/new/", {
        "name": "另一个名字", "uscc": uscc, "channel": "key", "lifecycle_status": "prospect"})
    assert f'href="{first.get_absolute_url()}"' in response.content.decode()
    assert Account.objects.count() == 1


def test_similar_name_warns_then_creates_when_confirmed(org):
    AccountFactory(owner=org.specialist_a, name="广州市天河区新华科技有限公司")
    client = logged_in(org.specialist_a)
    data = {"name": "广州市天河区新华科技（有限责任公司）", "channel": "key", "lifecycle_status": "prospect"}
    warned = client.post("/accounts/new/", data)
    assert 'data-testid="similar"' in warned.content.decode()
    assert Account.objects.count() == 1
    created = client.post("/accounts/new/", {**data, "confirm_similar": "on"})
    assert created.status_code == 302 and Account.objects.count() == 2


def test_stale_edit_is_refused(org):
    account = AccountFactory(owner=org.specialist_a)
    services.account_update(actor=org.manager_a, account=account, data={"short_name": "先到"})
    response = logged_in(org.specialist_a).post(f"/accounts/{account.pk}/edit/", {
        "name": account.name, "code": account.code, "short_name": "后到", "channel": "key",
        "lifecycle_status": "prospect", "version": 1})
    assert "changed by someone else" in response.content.decode()
    account.refresh_from_db()
    assert account.short_name == "先到"


def test_contact_with_bad_mobile_shows_error_then_saves(org, two_branches):
    a, *_ = two_branches
    client = logged_in(org.specialist_a)
    base = {"name": "赵六", "decision_role": "influencer", "attitude": "neutral", "influence": "medium",
            "relationship_strength": "fair", "status": "active"}
    bad = client.post(f"/accounts/{a.pk}/contacts/new/", {**base, "mobile": "12345"})
    assert 'data-field-error="mobile"' in bad.content.decode()
    assert not a.contacts.filter(name="赵六").exists()
    good = client.post(f"/accounts/{a.pk}/contacts/new/", {**base, "mobile": "13912345678"})
    assert good.status_code == 302 and good["Location"].endswith("?tab=contacts")
    chain = client.get(good["Location"]).content.decode()
    assert 'data-role="influencer"' in chain and "赵六" in chain


def test_history_tab_shows_who_changed_which_field(org, two_branches):
    a, *_ = two_branches
    services.account_update(actor=org.manager_a, account=a, data={"short_name": "广东移动"})
    page = logged_in(org.specialist_a).get(f"/accounts/{a.pk}/?tab=history").content.decode()
    assert "short name" in page and "广东移动" in page and "manager_a" in page


def test_chinese_by_default_and_english_after_switching(org, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    client = Client()
    client.force_login(org.specialist_a)
    assert "客户" in client.get("/accounts/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/"})
    assert "New account" in client.get("/accounts/").content.decode()


def test_delete_moves_to_recycle_bin(org, two_branches):
    a, *_ = two_branches
    response = logged_in(org.specialist_a).post(f"/accounts/{a.pk}/delete/")
    assert response.status_code == 302
    assert Account.objects.filter(pk=a.pk, deleted_at__isnull=False).exists()


def test_repeated_bad_passwords_lock_the_login(org, settings):
    settings.AXES_ENABLED = True
    settings.KAM = {**settings.KAM, "LOGIN_FAILURE_LIMIT": 3}
    client = Client()
    for _ in range(3):
        client.post("/login/", {"username": "spec_a", "password": "wrong"})
    from factories import PASSWORD

    locked = client.post("/login/", {"username": "spec_a", "password": PASSWORD})
    assert locked.status_code == 429
    # another user from the same address is not locked out
    assert Client().post("/login/", {"username": "spec_b", "password": PASSWORD}).status_code == 302


def test_out_of_range_ids_are_refused_not_500(org, two_branches):
    client = logged_in(org.director)
    huge = "9" * 25
    assert client.get(f"/accounts/?industry={huge}&owner={huge}&unit=-1").status_code == 200
    assert client.get(f"/accounts/{huge}/").status_code == 404
    a, *_ = two_branches
    response = client.post(f"/accounts/{a.pk}/edit/", {"name": a.name, "code": a.code, "channel": "key",
                                                       "lifecycle_status": "prospect", "parent": huge})
    assert response.status_code == 200 and 'data-field-error="parent"' in response.content.decode()


def test_recycle_bin_lists_only_own_deleted_accounts_and_restores(org, two_branches):
    a, b, *_ = two_branches
    services.account_delete(actor=org.specialist_a, account=a)
    services.account_delete(actor=org.specialist_b, account=b)
    client = logged_in(org.specialist_a)
    page = client.get("/accounts/recycle-bin/").content.decode()
    assert a.name in page and b.name not in page
    assert client.post(f"/accounts/{b.pk}/restore/").status_code == 404
    assert client.post(f"/accounts/{a.pk}/restore/").status_code == 302
    assert Account.objects.alive().filter(pk=a.pk).exists()
    assert not Account.objects.alive().filter(pk=b.pk).exists()


def test_a_long_list_pages_with_the_filter_kept(org, settings):
    settings.KAM = {**settings.KAM, "PAGE_SIZE": 2}
    for n in range(3):
        AccountFactory(owner=org.specialist_a, name=f"佛山顺德电器配件厂{n}号有限公司", industry=None)
    client = logged_in(org.specialist_a)
    first = client.get("/accounts/", {"q": "顺德"}).content.decode()
    assert "Page 1 of 2" in first and "page=2" in first and "q=%E9%A1%BA%E5%BE%B7" in first
    second = client.get("/accounts/", {"q": "顺德", "page": 2}, HTTP_HX_REQUEST="true").content.decode()
    assert "Page 2 of 2" in second and "previous" in second and "page=3" not in second


def test_the_account_card_is_a_handful_of_queries_however_many_schemes_have_tiers(
        org, account_factory, run_import, django_assert_max_num_queries):
    from datetime import date

    from kam.accounts.team.services import team_member_add
    from kam.tiering import services as tiering
    from kam.tiering.models import Scheme
    from spreadsheets import csv_bytes

    # given an account on a team, with contacts, tiered under three schemes, one of them frozen as the annual list
    accounts = [account_factory(owner=org.specialist_a, name=f"卡片查询{n}号公司", code=f"CQ{n}") for n in range(1, 6)]
    account = accounts[0]
    ContactFactory(account=account, actor=org.specialist_a)
    team_member_add(actor=org.manager_a, account=account, user=org.specialist_a2, team_role="technical_support")
    rows = [["客户编号", "日期", "金额"], *[[a.code, "2026-01-10", str(100 * n)] for n, a in enumerate(accounts, 1)]]
    run_import(org.admin, "revenue", "r.csv", csv_bytes(rows))
    snapshots = [tiering.snapshot_create(actor=org.admin, scheme=scheme, as_of=date(2026, 1, 31))
                 for scheme in Scheme.objects.filter(is_active=True).order_by("id")[:3]]
    tiering.snapshot_freeze(actor=org.admin, snapshot=snapshots[0], year=2026)
    for user in (org.specialist_a, org.manager_a, org.director):
        client = logged_in(user)
        client.get(f"/accounts/{account.pk}/")  # warm the session
        # when the card is opened, then it takes fewer than 15 queries and shows every tier
        with django_assert_max_num_queries(14):
            response = client.get(f"/accounts/{account.pk}/")
        assert response.status_code == 200
        assert len(response.context["tiers"]) == 3
