"""Deal-review pages through the Django test client: submitting, the opinions in order, the
forms shown only to whom may act, the tracking sheet as .xlsx, meetings, the list and scoping."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from kam.activities.models import Task, TaskSource
from kam.sales.models import DealReview, ReviewMeeting, ReviewStatus
from kam.sales.reviews import services as reviews
from tests.sales.reviewing import SHEET, make_gm, submit, through_director


def logged_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.fixture
def gm(org):
    return make_gm(org)


@pytest.fixture
def opportunity(org, accounts, open_opportunity):
    return open_opportunity(org.specialist_a, accounts.a, name="园区专线扩容", amount=Decimal("250000"))


@pytest.fixture
def item(org, opportunity):
    return submit(org.specialist_a, opportunity)


def _workbook(response):
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    return load_workbook(BytesIO(b"".join(response.streaming_content) if response.streaming else response.content))


def test_the_owner_submits_an_opportunity_from_its_review_form(org, opportunity):
    client = logged_in(org.specialist_a)
    page = client.get(f"/sales/reviews/new/{opportunity.pk}/").content.decode()
    assert 'data-testid="review-submit"' in page and 'value="园区专线扩容"' in page
    response = client.post(f"/sales/reviews/new/{opportunity.pk}/", {**SHEET, "project": "园区专线扩容",
                                                                      "amount": "250000"})
    review = DealReview.objects.get(opportunity=opportunity)
    assert response.status_code == 302 and response["Location"] == f"/sales/reviews/{review.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert SHEET["main_problems"] in page and SHEET["proposed_strategy"] in page
    assert 'data-testid="review-status"' in page and "Submitted" in page
    # the specialist may not recommend or decide: no such forms for them
    assert 'data-testid="review-recommend"' not in page and 'data-testid="review-decide"' not in page
    # the form of an opportunity already under review links to the review instead
    again = client.get(f"/sales/reviews/new/{opportunity.pk}/").content.decode()
    assert 'data-testid="review-existing"' in again and 'data-testid="review-submit"' not in again


def test_below_the_minimum_the_form_says_so_and_nothing_is_written(org, accounts, open_opportunity):
    small = open_opportunity(org.specialist_a, accounts.a, amount=Decimal("8000"))
    response = logged_in(org.specialist_a).post(f"/sales/reviews/new/{small.pk}/",
                                                {**SHEET, "project": small.name, "amount": "8000"})
    assert response.status_code == 422
    page = response.content.decode()
    assert 'data-field-error="amount"' in page and "at least 10,000 yuan" in page
    assert not DealReview.objects.exists()


def test_the_review_goes_manager_director_general_manager_through_the_pages(org, gm, item):
    url = f"/sales/reviews/{item.pk}/"
    # the director sees no form before the manager has recommended, and a post is refused
    director = logged_in(org.director)
    assert 'data-testid="review-recommend"' not in director.get(url).content.decode()
    refused = director.post(f"{url}recommend/", {"recommendation": "同意"})
    assert refused.status_code == 422 and "The manager has not recommended yet." in refused.content.decode()
    # the manager recommends
    manager = logged_in(org.manager_a)
    assert 'data-testid="review-recommend"' in manager.get(url).content.decode()
    assert manager.post(f"{url}recommend/", {"recommendation": "建议跟进，申请价格支持"}).status_code == 302
    assert 'data-testid="review-recommend"' not in manager.get(url).content.decode()
    # a decision is not yet possible; then the director recommends
    gm_client = logged_in(gm)
    assert 'data-testid="review-decide"' not in gm_client.get(url).content.decode()
    assert director.post(f"{url}recommend/", {"recommendation": "同意，总部技术支持"}).status_code == 302
    # only the general manager gets the decision form, and a director's post is refused
    assert 'data-testid="review-decide"' not in director.get(url).content.decode()
    assert director.post(f"{url}decide/", {"decision": "立项"}).status_code == 403
    page = gm_client.get(url).content.decode()
    assert 'data-testid="review-decide"' in page
    response = gm_client.post(f"{url}decide/", {"decision": "立项，总部给予价格支持", "follow_ups": "安排高层拜访\n提交技术方案"})
    assert response.status_code == 302
    # the page shows the three opinions in order with who gave them, and the follow-up tasks
    page = gm_client.get(url).content.decode()
    manager_at, director_at, decision_at = (page.index(f'data-testid="opinion-{key}"')
                                            for key in ("manager", "director", "decision"))
    assert manager_at < director_at < decision_at
    assert "建议跟进，申请价格支持" in page and "同意，总部技术支持" in page and "立项，总部给予价格支持" in page
    assert "manager_a" in page and "director" in page and "赵总" in page
    assert page.count('data-testid="follow-up"') == 2 and "安排高层拜访" in page
    assert Task.objects.filter(source_kind=TaskSource.REVIEW, source_id=item.pk, owner=org.specialist_a).count() == 2
    item.refresh_from_db()
    assert item.status == ReviewStatus.DECIDED


def test_a_blank_opinion_is_a_field_error(org, item):
    response = logged_in(org.manager_a).post(f"/sales/reviews/{item.pk}/recommend/", {"recommendation": " "})
    assert response.status_code == 422 and 'data-field-error="recommendation"' in response.content.decode()


def test_withdrawing_from_the_page(org, item):
    client = logged_in(org.specialist_a)
    assert 'data-testid="review-withdraw"' in client.get(f"/sales/reviews/{item.pk}/").content.decode()
    assert client.post(f"/sales/reviews/{item.pk}/withdraw/").status_code == 302
    item.refresh_from_db()
    assert item.status == ReviewStatus.WITHDRAWN


def test_the_tracking_sheet_is_the_form_in_excel(org, gm, item):
    through_director(org, item)
    reviews.review_decide(actor=gm, review=item, decision="立项，总部给予价格支持", follow_ups=["安排高层拜访"])
    workbook = _workbook(logged_in(org.specialist_a).get(f"/sales/reviews/{item.pk}/sheet/"))
    sheet = workbook.active
    # title and header line
    assert sheet["A1"].value == "Key-account development tracking sheet" and "A1:F1" in sheet.merged_cells
    assert (sheet["A2"].value, sheet["B2"].value) == ("Unit", "天河经营部")
    assert (sheet["C2"].value, sheet["D2"].value) == ("Account manager", "张三")
    assert sheet["E2"].value == "Date" and sheet["F2"].value == timezone.localdate(item.submitted_at).isoformat()
    assert (sheet["A3"].value, sheet["B3"].value) == ("Account", "广州天河智造科技有限公司")
    # one row per part, the label on the left, the text across B:F
    expected = [
        ("A4", "Account brief", SHEET["brief"]),
        ("A5", "Core needs", SHEET["core_needs"]),
        ("A6", "Project and amount", "园区专线扩容\n250,000.00 yuan"),
        ("A7", "Main problems", SHEET["main_problems"]),
        ("A8", "Proposed strategy", SHEET["proposed_strategy"]),
    ]
    for label_cell, label, text in expected:
        row = label_cell[1:]
        assert sheet[label_cell].value == label
        assert sheet[f"B{row}"].value == text
        assert f"B{row}:F{row}" in sheet.merged_cells
        assert sheet[f"B{row}"].alignment.wrap_text
    assert sheet["A9"].value == "Manager's opinion" and sheet["B9"].value.startswith("建议跟进，申请价格支持")
    assert "manager_a" in sheet["B9"].value
    assert sheet["A10"].value == "Director's opinion" and sheet["B10"].value.startswith("同意，总部技术支持")
    assert sheet["A11"].value == "Decision" and "赵总" in sheet["B11"].value
    assert sheet["A12"].value == "Follow-up" and "安排高层拜访" in sheet["B12"].value and "Open" in sheet["B12"].value
    # a bordered form printed on A4 portrait, fitted to the width
    assert sheet["A4"].border.left.style == "thin" and sheet["F12"].border.right.style == "thin"
    assert int(sheet.page_setup.paperSize) == 9  # A4
    assert sheet.page_setup.orientation == "portrait"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToWidth == 1


def test_text_that_excel_would_run_arrives_as_text(org, accounts, open_opportunity):
    review = submit(org.specialist_a, open_opportunity(org.specialist_a, accounts.a),
                    brief='=HYPERLINK("http://evil.example","x")')
    sheet = _workbook(logged_in(org.specialist_a).get(f"/sales/reviews/{review.pk}/sheet/")).active
    assert sheet["B4"].value == '=HYPERLINK("http://evil.example","x")' and sheet["B4"].data_type == "s"
    assert sheet["B4"].quotePrefix  # and stays text when edited in Excel


def test_a_meeting_collects_items_and_exports_a_summary_and_one_sheet_each(org, accounts, open_opportunity):
    first = submit(org.specialist_a, open_opportunity(org.specialist_a, accounts.a, name="专线一期"))
    second = submit(org.specialist_a2, open_opportunity(org.specialist_a2, accounts.a2, name="云服务"))
    manager = logged_in(org.manager_a)
    held_on = (timezone.localdate() + timedelta(days=3)).isoformat()
    page = manager.get("/sales/reviews/meetings/").content.decode()
    assert 'data-testid="meeting-create"' in page
    response = manager.post("/sales/reviews/meetings/", {"title": "三月研讨会", "held_on": held_on,
                                                         "unit": org.branch_a.pk})
    meeting = ReviewMeeting.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/sales/reviews/meetings/{meeting.pk}/"
    for review in (first, second):
        assert manager.post(f"/sales/reviews/meetings/{meeting.pk}/add/", {"review": review.pk}).status_code == 302
    page = manager.get(f"/sales/reviews/meetings/{meeting.pk}/").content.decode()
    assert page.count('data-testid="meeting-item"') == 2
    workbook = _workbook(manager.get(f"/sales/reviews/meetings/{meeting.pk}/export/"))
    assert len(workbook.sheetnames) == 3
    summary = workbook[workbook.sheetnames[0]]
    assert "三月研讨会" in summary["A1"].value
    assert [summary.cell(row, 3).value for row in (3, 4)] == ["专线一期", "云服务"]
    assert workbook[workbook.sheetnames[1]]["B6"].value.startswith("专线一期")
    assert workbook[workbook.sheetnames[2]]["B3"].value == "广州越秀商贸有限公司"
    # an item is taken off the meeting again from its page
    manager.post(f"/sales/reviews/{second.pk}/schedule/", {"meeting": "", "next": f"/sales/reviews/meetings/{meeting.pk}/"})
    second.refresh_from_db()
    assert second.meeting is None


def test_a_specialist_holds_no_meetings(org):
    client = logged_in(org.specialist_a)
    assert 'data-testid="meeting-create"' not in client.get("/sales/reviews/meetings/").content.decode()
    response = client.post("/sales/reviews/meetings/", {"title": "x", "held_on": "2026-03-01", "unit": org.office_a1.pk})
    assert response.status_code == 403 and not ReviewMeeting.objects.exists()


def test_the_list_filters_and_exports(org, gm, accounts, open_opportunity, django_assert_max_num_queries):
    decided = submit(org.specialist_a, open_opportunity(org.specialist_a, accounts.a, name="已决项目"))
    waiting = submit(org.specialist_a, open_opportunity(org.specialist_a, accounts.a, name="待议项目"))
    through_director(org, decided)
    reviews.review_decide(actor=gm, review=decided, decision="立项", at=timezone.now() - timedelta(days=30))
    client = logged_in(org.director)
    with django_assert_max_num_queries(12):
        page = client.get("/sales/reviews/").content.decode()
    assert page.count('data-testid="review-row"') == 2
    overdue = client.get("/sales/reviews/?follow_up=overdue").content.decode()
    assert overdue.count('data-testid="review-row"') == 1 and "已决项目" in overdue and "待议项目" not in overdue
    submitted = client.get("/sales/reviews/?status=submitted", HTTP_HX_REQUEST="true").content.decode()
    assert "待议项目" in submitted and "已决项目" not in submitted and "<html" not in submitted
    rows = list(_workbook(client.get("/sales/reviews/export/?status=decided&format=xlsx")).active.values)
    assert len(rows) == 2 and "已决项目" in rows[1]
    assert waiting.pk


def test_branch_b_gets_404_for_branch_a_reviews(org, item, opportunity):
    for outsider in (org.manager_b, org.specialist_b):
        client = logged_in(outsider)
        assert client.get(f"/sales/reviews/{item.pk}/").status_code == 404
        assert client.get(f"/sales/reviews/{item.pk}/sheet/").status_code == 404
        assert client.get(f"/sales/reviews/new/{opportunity.pk}/").status_code == 404
        assert client.post(f"/sales/reviews/{item.pk}/recommend/", {"recommendation": "x"}).status_code == 404
        assert client.post(f"/sales/reviews/{item.pk}/withdraw/").status_code == 404
        assert "园区专线扩容" not in client.get("/sales/reviews/").content.decode()
    item.refresh_from_db()
    assert item.status == ReviewStatus.SUBMITTED


def test_pages_need_a_login(item):
    assert Client().get(f"/sales/reviews/{item.pk}/").status_code == 302


def test_a_closed_opportunity_offers_no_review_form(org, opportunity):
    from kam.sales.models import OutcomeReason
    from kam.sales.opportunities.services import opportunity_close

    opportunity_close(actor=org.specialist_a, opportunity=opportunity, outcome="lost",
                      reason=OutcomeReason.objects.get(code="price"), note="价格")
    page = logged_in(org.specialist_a).get(f"/sales/reviews/new/{opportunity.pk}/").content.decode()
    assert "Only an open opportunity can be submitted for review." in page
    assert 'data-testid="review-submit"' not in page


def test_a_meeting_without_waiting_items_says_so(org):
    meeting = reviews.meeting_create(actor=org.manager_a, title="空的研讨会", held_on=timezone.localdate())
    page = logged_in(org.manager_a).get(f"/sales/reviews/meetings/{meeting.pk}/").content.decode()
    assert 'data-testid="meeting-no-candidates"' in page and 'data-testid="meeting-add"' not in page


def test_the_general_manager_sends_an_item_to_a_senior_review_from_its_page_and_the_api(org, gm, item):
    from kam.core.services import api_token_issue

    assert 'data-testid="review-senior-form"' not in logged_in(org.director).get(f"/sales/reviews/{item.pk}/").content.decode()
    client = logged_in(gm)
    assert 'data-testid="review-senior-form"' in client.get(f"/sales/reviews/{item.pk}/").content.decode()
    refused = client.post(f"/sales/reviews/{item.pk}/senior/", {"reason": ""})
    assert refused.status_code == 422 and DealReview.objects.get(pk=item.pk).escalated_at is None
    assert client.post(f"/sales/reviews/{item.pk}/senior/", {"reason": "客户要求高层对接"}).status_code == 302
    page = client.get(f"/sales/reviews/{item.pk}/").content.decode()
    assert 'data-testid="escalated"' in page and "客户要求高层对接" in page
    assert 'data-testid="review-senior-form"' not in page  # sent once

    api = Client(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=gm)}")
    again = api.post(f"/api/reviews/{item.pk}/senior", {"reason": "再次"}, content_type="application/json")
    assert again.status_code == 422
    body = api.get(f"/api/reviews/{item.pk}").json()
    assert body["escalation"]["text"] == "客户要求高层对接" and body["escalation"]["by"]["id"] == gm.pk
    outsider = Client(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=org.specialist_b)}")
    assert outsider.post(f"/api/reviews/{item.pk}/senior", {"reason": "x"},
                         content_type="application/json").status_code == 404
