"""Check 13: every create/update/delete through the pages, the API and imports leaves a history
row with who, when, old and new values; logins, failures, exports, downloads, permission changes,
tokens, account card views and API list reads are logged — reads once per request; app users
cannot edit the log; old events go after the retention period."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.utils import timezone

from factories import PASSWORD, AccountFactory, ContactFactory
from kam.accounts.models import Account, Contact
from kam.core.models import AuditEvent
from kam.core.services import api_token_issue, user_deactivate
from kam.sales.models import Lead, LeadSource, Opportunity
from spreadsheets import xlsx_bytes
from tests.security.admin_forms import admin_change_form

pytestmark = pytest.mark.django_db


def page(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def api(user) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=user)}", HTTP_ACCEPT_LANGUAGE="en")


def send(client, method, url, body=None):
    return getattr(client, method)(url, data=json.dumps(body or {}), content_type="application/json")


def last_change(model, pk):
    return model.history.filter(id=pk).order_by("-history_date", "-history_id").first()


def assert_recorded(model, pk, *, by, kind, changed: dict | None = None):
    """The newest history row of the record: who, when, what kind, and old → new of `changed`."""
    row = last_change(model, pk)
    assert row is not None, f"no history for {model.__name__} {pk}"
    assert row.history_user == by and row.history_type == kind
    assert abs(row.history_date - timezone.now()) < timedelta(minutes=5)
    if changed:
        # Every tracked field (simple-history's diff_against leaves out non-editable ones such as deleted_at).
        before = row.prev_record
        diff = {f.name: (getattr(before, f.attname), getattr(row, f.attname)) for f in row.tracked_fields
                if getattr(before, f.attname) != getattr(row, f.attname)}
        for field, (old, new) in changed.items():
            assert field in diff, f"{field} not in {diff}"
            got_old, got_new = diff[field]
            assert (old is ... or got_old == old) and (new is ... or got_new == new), (field, diff[field])


# --- domain history, channel by channel ------------------------------------------------------------


def test_accounts_through_the_pages(org):
    client = page(org.specialist_a)
    assert client.post("/accounts/new/", {"name": "页面审计科技有限公司", "channel": "key",
                                          "lifecycle_status": "prospect"}).status_code == 302
    account = Account.objects.get(name="页面审计科技有限公司")
    assert_recorded(Account, account.pk, by=org.specialist_a, kind="+")
    response = client.post(f"/accounts/{account.pk}/edit/", {
        "name": account.name, "code": account.code, "short_name": "页面审计", "channel": "key",
        "lifecycle_status": "prospect", "version": account.version})
    assert response.status_code == 302
    assert_recorded(Account, account.pk, by=org.specialist_a, kind="~", changed={"short_name": ("", "页面审计")})
    assert client.post(f"/accounts/{account.pk}/delete/").status_code == 302
    assert_recorded(Account, account.pk, by=org.specialist_a, kind="~", changed={"deleted_at": (None, ...)})


def test_accounts_through_the_api(org):
    client = api(org.manager_a)
    response = send(client, "post", "/api/accounts", {"name": "接口审计科技有限公司"})
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert_recorded(Account, pk, by=org.manager_a, kind="+")
    assert send(client, "patch", f"/api/accounts/{pk}", {"short_name": "接口审计", "version": 1}).status_code == 200
    assert_recorded(Account, pk, by=org.manager_a, kind="~", changed={"short_name": ("", "接口审计")})
    assert client.delete(f"/api/accounts/{pk}").status_code == 204
    assert_recorded(Account, pk, by=org.manager_a, kind="~", changed={"deleted_at": (None, ...)})


ACCOUNT_HEADER = ["客户编号", "客户名称*", "统一社会信用代码", "行业", "地区", "客户经理", "电话", "年营业额（元）",
                  "签约日期", "上级客户编号"]


def test_accounts_through_an_import(org, run_import):
    rows = [ACCOUNT_HEADER, ["AU001", "导入审计科技有限公司", "", "", "", "spec_a", "020-38888888", "", "", ""]]
    run_import(org.manager_a, "accounts", "客户.xlsx", xlsx_bytes(rows))
    account = Account.objects.get(code="AU001")
    assert_recorded(Account, account.pk, by=org.manager_a, kind="+")
    rows[1][6] = "020-87654321"
    run_import(org.manager_a, "accounts", "客户.xlsx", xlsx_bytes(rows))
    assert_recorded(Account, account.pk, by=org.manager_a, kind="~", changed={"phone": ("020-38888888", "020-87654321")})


CONTACT = {"decision_role": "influencer", "attitude": "neutral", "influence": "medium",
           "relationship_strength": "fair", "status": "active"}


def test_contacts_through_the_pages(org):
    account = AccountFactory(owner=org.specialist_a)
    client = page(org.specialist_a)
    assert client.post(f"/accounts/{account.pk}/contacts/new/",
                       {**CONTACT, "name": "审计联系人", "mobile": "13912345678"}).status_code == 302
    contact = Contact.objects.get(name="审计联系人")
    assert_recorded(Contact, contact.pk, by=org.specialist_a, kind="+")
    assert client.post(f"/accounts/{account.pk}/contacts/{contact.pk}/edit/", {
        **CONTACT, "name": "审计联系人", "mobile": "13912345678", "title": "总监", "version": contact.version,
    }).status_code == 302
    assert_recorded(Contact, contact.pk, by=org.specialist_a, kind="~", changed={"title": ("", "总监")})
    assert client.post(f"/accounts/{account.pk}/contacts/{contact.pk}/delete/").status_code == 302
    assert_recorded(Contact, contact.pk, by=org.specialist_a, kind="~", changed={"deleted_at": (None, ...)})


def test_contacts_through_the_api(org):
    account = AccountFactory(owner=org.specialist_a)
    client = api(org.specialist_a)
    response = send(client, "post", f"/api/accounts/{account.pk}/contacts", {"name": "接口联系人"})
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert_recorded(Contact, pk, by=org.specialist_a, kind="+")
    assert send(client, "patch", f"/api/contacts/{pk}", {"title": "采购经理", "version": 1}).status_code == 200
    assert_recorded(Contact, pk, by=org.specialist_a, kind="~", changed={"title": ("", "采购经理")})
    assert client.delete(f"/api/contacts/{pk}").status_code == 204
    assert_recorded(Contact, pk, by=org.specialist_a, kind="~", changed={"deleted_at": (None, ...)})


def test_contacts_through_an_import(org, run_import):
    AccountFactory(owner=org.specialist_a, code="K01")
    header = ["客户编号", "姓名", "职务", "手机", "邮箱", "决策角色", "关键联系人", "关系负责人"]
    rows = [header, ["K01", "导入联系人", "经理", "13800138000", "", "决策者", "是", "spec_a"]]
    run_import(org.specialist_a, "contacts", "联系人.xlsx", xlsx_bytes(rows))
    contact = Contact.objects.get(name="导入联系人")
    assert_recorded(Contact, contact.pk, by=org.specialist_a, kind="+")
    rows[1][2] = "总经理"
    run_import(org.specialist_a, "contacts", "联系人.xlsx", xlsx_bytes(rows))
    assert_recorded(Contact, contact.pk, by=org.specialist_a, kind="~", changed={"title": ("经理", "总经理")})


def test_opportunities_through_the_pages_and_the_api(org):
    account = AccountFactory(owner=org.specialist_a)
    client = page(org.specialist_a)
    assert client.post("/sales/opportunities/new/", {"account": account.pk, "name": "页面商机", "stage": "contact",
                                                     "amount": "88000", "expected_close": "2027-06-30"}).status_code == 302
    opp = Opportunity.objects.get(name="页面商机")
    assert_recorded(Opportunity, opp.pk, by=org.specialist_a, kind="+")
    assert client.post(f"/sales/opportunities/{opp.pk}/edit/", {"name": "页面商机", "amount": "99000",
                                                                "expected_close": "2027-06-30", "version": 1}).status_code == 302
    assert_recorded(Opportunity, opp.pk, by=org.specialist_a, kind="~", changed={"amount": (..., ...)})
    row = last_change(Opportunity, opp.pk)
    assert str(row.prev_record.amount) == "88000.00" and str(row.amount) == "99000.00"

    client = api(org.manager_a)
    response = send(client, "post", "/api/opportunities", {"account": account.pk, "name": "接口商机", "amount": "1000",
                                                           "expected_close": "2027-05-31", "stage": "design"})
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert_recorded(Opportunity, pk, by=org.manager_a, kind="+")
    assert send(client, "patch", f"/api/opportunities/{pk}", {"version": 1, "description": "三栋楼"}).status_code == 200
    assert_recorded(Opportunity, pk, by=org.manager_a, kind="~", changed={"description": ("", "三栋楼")})


def test_leads_through_the_pages_the_api_and_an_import(org, run_import):
    source = LeadSource.objects.get(code="website")
    client = page(org.specialist_a)
    assert client.post("/sales/leads/new/", {"source": source.pk, "company": "页面线索公司"}).status_code == 302
    lead = Lead.objects.get(company="页面线索公司")
    assert_recorded(Lead, lead.pk, by=org.specialist_a, kind="+")
    assert client.post(f"/sales/leads/{lead.pk}/disqualify/", {"note": "同行询价"}).status_code == 302
    assert_recorded(Lead, lead.pk, by=org.specialist_a, kind="~", changed={"status": ("new", "disqualified")})

    client = api(org.manager_a)
    response = send(client, "post", "/api/leads", {"source": source.pk, "company": "接口线索公司"})
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert_recorded(Lead, pk, by=org.manager_a, kind="+")
    assert send(client, "post", f"/api/leads/{pk}/disqualify", {"note": "重复线索"}).status_code == 200
    assert_recorded(Lead, pk, by=org.manager_a, kind="~", changed={"status": ("new", "disqualified")})

    header = ["线索来源*", "公司名称*", "统一社会信用代码", "联系人", "联系电话", "需求", "预计金额", "地区", "行业"]
    run_import(org.analyst_hq, "leads", "线索.xlsx", xlsx_bytes([header, ["网站", "导入线索公司", "", "", "", "", "", "", ""]]))
    assert_recorded(Lead, Lead.objects.get(company="导入线索公司").pk, by=org.analyst_hq, kind="+")


# --- security events ---------------------------------------------------------------------------


def test_logins_and_failed_logins_are_logged_with_the_address(org):
    Client(REMOTE_ADDR="10.9.0.1").post("/login/", {"username": "spec_a", "password": "nope-nope-nope"})
    Client(REMOTE_ADDR="10.9.0.1").post("/login/", {"username": "spec_a", "password": PASSWORD})
    events = set(AuditEvent.objects.values_list("kind", "username", "ip_address"))
    assert {("login_failed", "spec_a", "10.9.0.1"), ("login", "spec_a", "10.9.0.1")} <= events


def test_an_account_card_view_is_logged_once_with_who_which_and_where(org):
    account = AccountFactory(owner=org.specialist_a, name="被查看的公司")
    client = Client(REMOTE_ADDR="10.9.0.2")
    client.force_login(org.manager_a)
    assert client.get(f"/accounts/{account.pk}/").status_code == 200
    view = AuditEvent.objects.get(kind=AuditEvent.Kind.ACCOUNT_VIEW)
    assert (view.user, view.ip_address, view.detail["account"]) == (org.manager_a, "10.9.0.2", account.pk)
    assert "被查看的公司" in view.target and abs(view.at - timezone.now()) < timedelta(minutes=1)
    # another branch's card is not shown, so not logged as seen
    page(org.specialist_b).get(f"/accounts/{account.pk}/")
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.ACCOUNT_VIEW).count() == 1


def test_an_api_list_read_is_one_event_per_request_not_per_row(org):
    for _ in range(7):
        AccountFactory(owner=org.specialist_a)
    client = api(org.manager_a)
    assert client.get("/api/accounts?page_size=5&page=2&q=测试").status_code == 200
    assert client.get("/api/accounts?page_size=5").status_code == 200
    reads = list(AuditEvent.objects.filter(kind=AuditEvent.Kind.API_LIST).order_by("id"))
    assert len(reads) == 2
    first = reads[0]
    assert first.user == org.manager_a and first.detail["path"] == "/api/accounts"
    assert first.detail["filters"] == {"q": "测试"} and first.detail["page"] == 2 and first.detail["rows"] == 2
    assert reads[1].detail["rows"] == 5 and reads[1].detail["count"] == 7
    # a plain list (no paging) and a read of one record
    account = Account.objects.first()
    assert client.get(f"/api/accounts/{account.pk}/contacts").status_code == 200
    assert client.get(f"/api/accounts/{account.pk}").status_code == 200
    reads = AuditEvent.objects.filter(kind=AuditEvent.Kind.API_LIST)
    assert reads.count() == 3 and reads.order_by("-id").first().detail["rows"] == 0


def test_exports_are_logged(org):
    AccountFactory(owner=org.specialist_a)
    assert page(org.manager_a).get("/accounts/export/?format=csv&q=x").status_code == 200
    export = AuditEvent.objects.get(kind=AuditEvent.Kind.EXPORT)
    assert export.user == org.manager_a and export.detail["what"] == "accounts"


def test_downloading_someone_elses_error_report_is_logged_with_whose_file(org, run_import):
    rows = [ACCOUNT_HEADER, ["AU009", "", "", "", "", "", "", "", "", ""]]
    job = run_import(org.manager_a, "accounts", "错误的客户.xlsx", xlsx_bytes(rows), mode="valid")
    assert job.report
    assert page(org.admin).get(f"/imports/{job.pk}/report/").status_code == 200
    download = AuditEvent.objects.get(kind=AuditEvent.Kind.DOWNLOAD)
    assert download.user == org.admin and download.detail["owner"] == "manager_a" and download.detail["own"] is False
    assert "错误的客户.xlsx" in download.target


def test_role_and_permission_changes_are_logged_old_to_new_by_whom(org):
    admin = page(org.admin)
    # through a service
    user_deactivate(actor=org.admin, user=org.specialist_b)
    event = AuditEvent.objects.filter(kind=AuditEvent.Kind.PERMISSION, target__startswith="spec_b").latest("id")
    assert event.user == org.admin and event.detail["fields"]["is_active"] == [True, False]
    # through the admin's change form: role, unit and staff flag at once
    data = admin_change_form(admin, org.specialist_a)
    data.update(role="manager", unit=org.branch_a.pk, is_staff="on")
    assert admin.post(f"/admin/core/user/{org.specialist_a.pk}/change/", data).status_code == 302
    event = AuditEvent.objects.filter(kind=AuditEvent.Kind.PERMISSION, target__startswith="spec_a").latest("id")
    assert event.user == org.admin
    assert event.detail["fields"] == {"role": ["specialist", "manager"], "unit": ["GZ-TH", "GZ"],
                                      "is_staff": [False, True]}
    # groups and permissions
    group = Group.objects.create(name="审计员")
    org.specialist_a.groups.add(group)
    org.specialist_a.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    group.permissions.add(Permission.objects.get(codename="view_account"))
    changes = [(e.detail["field"], e.detail["change"], e.detail["values"])
               for e in AuditEvent.objects.filter(kind=AuditEvent.Kind.PERMISSION, detail__has_key="field").order_by("id")]
    assert changes == [("groups", "added", ["审计员"]), ("user_permissions", "added", ["view_auditevent"]),
                       ("permissions", "added", ["view_account"])]


def test_token_issue_and_revocation_are_logged(org):
    api_token_issue(user=org.specialist_a, name="脚本", actor=org.admin)
    issued = AuditEvent.objects.get(kind=AuditEvent.Kind.TOKEN)
    assert issued.user == org.admin and issued.detail["owner"] == "spec_a" and issued.detail["token_name"] == "脚本"
    user_deactivate(actor=org.admin, user=org.specialist_a)
    revoked = AuditEvent.objects.get(kind=AuditEvent.Kind.TOKEN_REVOKED)
    assert (revoked.user, revoked.detail["token"], revoked.detail["because"]) == (org.admin, issued.detail["token"],
                                                                                  "deactivated")


def test_app_users_cannot_edit_the_log(org):
    event = AuditEvent.objects.create(kind="login", username="x")
    admin = page(org.admin)
    assert admin.get(f"/admin/core/auditevent/{event.pk}/change/").status_code == 200  # read
    assert admin.post(f"/admin/core/auditevent/{event.pk}/change/", {"username": "y"}).status_code == 403
    assert admin.post(f"/admin/core/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin.get("/admin/core/auditevent/add/").status_code == 403
    event.refresh_from_db()
    assert event.username == "x"


def test_events_past_the_retention_period_go_in_the_nightly_sweep(org, settings):
    from kam.core.tasks import audit_retention_sweep

    settings.KAM = {**settings.KAM, "AUDIT_RETENTION_DAYS": 180}
    assert "kam.core.tasks.audit_retention_sweep" in settings.KAM["NIGHTLY_TASKS"]
    with time_machine.travel(timezone.now() - timedelta(days=181)):
        old = AuditEvent.objects.create(kind="login", username="old")
    with time_machine.travel(timezone.now() - timedelta(days=179)):
        kept = AuditEvent.objects.create(kind="login", username="kept")
    audit_retention_sweep.enqueue()
    assert not AuditEvent.objects.filter(pk=old.pk).exists() and AuditEvent.objects.filter(pk=kept.pk).exists()
    purge = AuditEvent.objects.get(kind=AuditEvent.Kind.PURGED)
    assert purge.detail["removed"] >= 1 and purge.detail["retention_days"] == 180


def test_an_event_is_one_insert(org, django_assert_num_queries):
    from kam.core.audit import audit_record

    with django_assert_num_queries(1):
        audit_record(kind=AuditEvent.Kind.EXPORT, user=org.admin, what="x")


def test_contacts_are_in_the_history_of_their_account_page(org):
    account = AccountFactory(owner=org.specialist_a)
    ContactFactory(actor=org.specialist_a, account=account, name="历史联系人")
    assert page(org.specialist_a).get(f"/accounts/{account.pk}/?tab=history").status_code == 200


def test_every_list_endpoint_of_the_api_is_audited_once_per_request(org):
    """From the OpenAPI document, so a new list endpoint is covered without a new test."""
    client = api(org.admin)
    schema = client.get("/api/openapi.json").json()
    lists = 0
    for path, operations in schema["paths"].items():
        if "get" not in operations or "{" in path:
            continue
        before = AuditEvent.objects.filter(kind=AuditEvent.Kind.API_LIST).count()
        response = client.get(path)
        body = response.json() if response.status_code == 200 else None
        is_list = isinstance(body, list) or (isinstance(body, dict) and isinstance(body.get("items"), list))
        logged = AuditEvent.objects.filter(kind=AuditEvent.Kind.API_LIST).count() - before
        assert logged == (1 if is_list else 0), path
        lists += is_list
    assert lists >= 10
