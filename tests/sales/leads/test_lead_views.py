"""Lead pages through the Django test client: the list with its clock and filters, the export,
a new lead, the lead page's actions, qualification with 查重, and scoping across branches."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from factories import AccountFactory
from kam.accounts.models import Account
from kam.sales.leads.routing import lead_sla_sweep
from kam.sales.leads.services import lead_create
from kam.sales.models import Lead, LeadAssignmentRule, LeadFollowUp, LeadSource, LeadStatus

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def new_lead(actor, company, *, at=None, **data):
    data.setdefault("source", LeadSource.objects.get(code="website"))
    return lead_create(actor=actor, data={"company": company, **data}, at=at)


def xlsx_rows(response) -> list[tuple]:
    sheet = load_workbook(BytesIO(b"".join(response.streaming_content if response.streaming else [response.content])),
                          read_only=True).active
    return list(sheet.iter_rows(values_only=True))


def test_the_list_shows_the_clock_and_filters_overdue_leads(org):
    # given one lead past its deadline and one fresh
    late = new_lead(org.specialist_a, "逾期未跟进公司", at=timezone.now() - timedelta(hours=30))
    fresh = new_lead(org.specialist_a, "新到线索公司")
    client = logged_in(org.specialist_a)
    # when the list is read
    page = client.get("/sales/leads/").content.decode()
    # then both show with their clock
    assert "逾期未跟进公司" in page and "新到线索公司" in page
    assert page.count('data-sla="overdue"') == 1 and page.count('data-sla="due"') == 1
    # and the overdue filter (an htmx request gets the results only) keeps the late one
    part = client.get("/sales/leads/", {"overdue": "on"}, HTTP_HX_REQUEST="true").content.decode()
    assert f'lead-row-{late.pk}"' in part and f'lead-row-{fresh.pk}"' not in part
    assert "<html" not in part


def test_the_list_filters_by_status_and_unassigned(org):
    waiting = new_lead(org.manager_a, "待分配公司")
    mine = new_lead(org.specialist_a, "已分配公司")
    client = logged_in(org.manager_a)
    page = client.get("/sales/leads/", {"unassigned": "on"}).content.decode()
    assert f'lead-row-{waiting.pk}"' in page and f'lead-row-{mine.pk}"' not in page
    page = client.get("/sales/leads/", {"status": "new", "assignee": org.specialist_a.pk}).content.decode()
    assert f'lead-row-{mine.pk}"' in page and f'lead-row-{waiting.pk}"' not in page


def test_the_list_stays_a_handful_of_queries(org, django_assert_max_num_queries):
    for i in range(30):
        new_lead(org.specialist_a, f"公司{i}")
    client = logged_in(org.manager_a)
    client.get("/sales/leads/")
    with django_assert_max_num_queries(12):
        assert client.get("/sales/leads/").status_code == 200


def test_the_export_holds_the_filtered_visible_list(org):
    new_lead(org.specialist_a, "甲公司", source=LeadSource.objects.get(code="phone"))
    new_lead(org.specialist_a, "乙公司")
    new_lead(org.specialist_b, "深圳丙公司", source=LeadSource.objects.get(code="phone"))
    response = logged_in(org.manager_a).get("/sales/leads/export/", {"format": "xlsx",
                                                                      "source": LeadSource.objects.get(code="phone").pk})
    rows = xlsx_rows(response)
    assert rows[0][2] == "company"
    assert [r[2] for r in rows[1:]] == ["甲公司"]
    # branch B's specialist exports only their own
    rows = xlsx_rows(logged_in(org.specialist_b).get("/sales/leads/export/", {"format": "xlsx"}))
    assert [r[2] for r in rows[1:]] == ["深圳丙公司"]


def test_a_new_lead_goes_by_the_rules(org):
    LeadAssignmentRule.objects.create(name="branch A", unit=org.office_a2, sort_order=1)
    client = logged_in(org.manager_a)
    response = client.post("/sales/leads/new/", {
        "source": LeadSource.objects.get(code="exhibition").pk, "company": "广州展会客户有限公司",
        "contact_name": "周经理", "phone": "13900139000", "estimated_amount": "50000", "need": "视频会议"})
    lead = Lead.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/sales/leads/{lead.pk}/"
    assert lead.assignee == org.specialist_a2 and lead.created_by == org.manager_a
    page = client.get(response["Location"]).content.decode()
    assert "广州展会客户有限公司" in page and "李四" in page


def test_bad_input_on_a_new_lead_is_shown_on_its_field(org):
    response = logged_in(org.specialist_a).post("/sales/leads/new/", {
        "source": LeadSource.objects.get(code="website").pk, "company": "某公司", "uscc": "91440101XXXX", "phone": "1"})
    assert response.status_code == 422
    page = response.content.decode()
    assert 'data-field-error="uscc"' in page and 'data-field-error="phone"' in page
    assert not Lead.objects.exists()


def test_a_specialist_who_enters_a_lead_for_another_branch_is_sent_back_to_the_list(org):
    LeadAssignmentRule.objects.create(name="everything to B", unit=org.branch_b, sort_order=1)
    response = logged_in(org.specialist_a).post("/sales/leads/new/", {
        "source": LeadSource.objects.get(code="referral").pk, "company": "转介绍公司"})
    assert response.status_code == 302 and response["Location"] == "/sales/leads/"
    assert Lead.objects.get().assignee == org.specialist_b


def test_following_up_from_the_lead_page_stops_the_clock(org):
    lead = new_lead(org.specialist_a, "跟进公司")
    client = logged_in(org.specialist_a)
    response = client.post(f"/sales/leads/{lead.pk}/follow-up/", {"note": "电话沟通", "plan": "下周拜访"})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.status == LeadStatus.FOLLOWING
    assert "电话沟通" in client.get(f"/sales/leads/{lead.pk}/").content.decode()
    # an empty note is refused on its field
    response = client.post(f"/sales/leads/{lead.pk}/follow-up/", {"note": ""})
    assert response.status_code == 422 and 'data-field-error="note"' in response.content.decode()


def test_a_manager_reassigns_from_the_lead_page(org):
    lead = new_lead(org.specialist_a, "改派公司")
    response = logged_in(org.manager_a).post(f"/sales/leads/{lead.pk}/assign/", {"assignee": org.specialist_a2.pk})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.assignee == org.specialist_a2
    # a specialist has no such power
    response = logged_in(org.specialist_a2).post(f"/sales/leads/{lead.pk}/assign/", {"assignee": org.specialist_a2.pk})
    assert response.status_code == 403


def test_escalation_shows_on_the_lead_page(org):
    lead = new_lead(org.specialist_a, "升级公司", at=timezone.now() - timedelta(hours=25))
    lead_sla_sweep()
    page = logged_in(org.manager_a).get(f"/sales/leads/{lead.pk}/").content.decode()
    assert 'data-sla="escalated"' in page and "manager_a" in page


def test_qualifying_offers_the_matching_account_and_uses_it(org):
    existing = AccountFactory(owner=org.specialist_a, name="广州云帆物流有限公司")
    lead = new_lead(org.specialist_a, "广州云帆物流有限公司", estimated_amount="90000")
    client = logged_in(org.specialist_a)
    page = client.get(f"/sales/leads/{lead.pk}/qualify/").content.decode()
    assert 'data-testid="candidates"' in page and existing.code in page
    response = client.post(f"/sales/leads/{lead.pk}/qualify/", {
        "outcome": "opportunity", "account": str(existing.pk), "opportunity_name": "车队专网",
        "amount": "90000", "expected_close": "2027-06-30"})
    lead.refresh_from_db()
    assert response.status_code == 302 and response["Location"] == f"/sales/opportunities/{lead.opportunity_id}/"
    assert lead.account == existing and lead.opportunity.name == "车队专网"
    assert Account.objects.count() == 1


def test_creating_a_new_account_despite_candidates_needs_a_confirmation(org):
    AccountFactory(owner=org.specialist_a, name="广州云帆物流有限公司")
    lead = new_lead(org.specialist_a, "广州云帆物流有限公司")
    client = logged_in(org.specialist_a)
    response = client.post(f"/sales/leads/{lead.pk}/qualify/", {"outcome": "nurture", "account": "new"})
    assert response.status_code == 422 and 'data-field-error="account"' in response.content.decode()
    assert Account.objects.count() == 1
    response = client.post(f"/sales/leads/{lead.pk}/qualify/", {"outcome": "nurture", "account": "new",
                                                                "confirm_new": "on"})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NURTURE and Account.objects.count() == 2


def test_another_branch_gets_404_everywhere(org):
    lead = new_lead(org.specialist_a, "天河保密公司")
    for outsider in (org.specialist_b, org.manager_b):
        client = logged_in(outsider)
        assert "天河保密公司" not in client.get("/sales/leads/").content.decode()
        assert client.get(f"/sales/leads/{lead.pk}/").status_code == 404
        assert client.get(f"/sales/leads/{lead.pk}/qualify/").status_code == 404
        assert client.post(f"/sales/leads/{lead.pk}/follow-up/", {"note": "x"}).status_code == 404
        assert client.post(f"/sales/leads/{lead.pk}/assign/", {"assignee": outsider.pk}).status_code == 404
        assert client.post(f"/sales/leads/{lead.pk}/disqualify/", {"note": "x"}).status_code == 404
        assert client.post(f"/sales/leads/{lead.pk}/qualify/", {"outcome": "nurture"}).status_code == 404
        rows = xlsx_rows(client.get("/sales/leads/export/", {"format": "xlsx"}))
        assert all(r[2] != "天河保密公司" for r in rows)
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW and not LeadFollowUp.objects.exists()


def test_disqualifying_needs_a_reason(org):
    lead = new_lead(org.specialist_a, "无效线索公司")
    client = logged_in(org.specialist_a)
    assert client.post(f"/sales/leads/{lead.pk}/disqualify/", {"note": ""}).status_code == 422
    assert client.post(f"/sales/leads/{lead.pk}/disqualify/", {"note": "同行询价"}).status_code == 302
    lead.refresh_from_db()
    assert lead.status == LeadStatus.DISQUALIFIED


def test_the_rules_page_lists_the_rules_in_order(org):
    LeadAssignmentRule.objects.create(name="第二条", unit=org.branch_b, sort_order=2)
    LeadAssignmentRule.objects.create(name="第一条", unit=org.branch_a, sort_order=1, assignee=org.specialist_a)
    page = logged_in(org.specialist_b).get("/sales/leads/rules/").content.decode()
    assert page.index("第一条") < page.index("第二条") and "张三" in page


def test_the_pages_render_in_chinese(org):
    lead = new_lead(org.specialist_a, "中文页面公司", at=timezone.now() - timedelta(hours=30))
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(org.manager_a)
    for url in ("/sales/leads/", f"/sales/leads/{lead.pk}/", f"/sales/leads/{lead.pk}/qualify/", "/sales/leads/new/",
                "/sales/leads/rules/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "中文页面公司" in response.content.decode() or "leads/new" in url or "rules" in url
