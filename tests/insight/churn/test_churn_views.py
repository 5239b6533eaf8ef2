"""The churn page, its exports, the reason edited in place, the definitions page and the
account card: what each user sees, refusals and bad input."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from factories import PASSWORD, AccountFactory
from kam.insight.models import ChurnDefinition, ChurnEvent, ChurnReason
from kam.sales.models import Competitor

from ..churn_history import month, monthly

pytestmark = pytest.mark.django_db
RANGE = {"start": "2026-07", "end": "2026-07", "by": "month"}


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def event(account, code="no-revenue", on=date(2026, 7, 10), lost="12000", reason=None):
    return ChurnEvent.objects.create(account=account, definition=ChurnDefinition.objects.get(code=code), detected_on=on,
                                     baseline_amount=Decimal(lost) / 12, recent_amount=0, amount_lost=Decimal(lost),
                                     reason=ChurnReason.objects.get(code=reason) if reason else None)


@pytest.fixture
def two(org):
    a = AccountFactory(owner=org.specialist_a, name="广州流失测试有限公司")
    b = AccountFactory(owner=org.specialist_b, name="深圳流失测试有限公司")
    monthly(a, month(2025, 7), [1000] * 12)
    monthly(b, month(2025, 7), [3000] * 12)
    return event(a, reason="rival_voice"), event(b, lost="36000")


def test_the_page_shows_rates_breakdowns_and_events_of_the_users_scope(client, org, two):
    ea, eb = two
    page = login(client, org.specialist_a).get(reverse("insight:churn"), RANGE)
    assert page.status_code == 200
    html = page.content.decode()
    assert "广州流失测试有限公司" in html and "深圳流失测试有限公司" not in html
    assert f'data-testid="churn-event-{ea.pk}"' in html and f'churn-event-{eb.pk}"' not in html
    assert "100.00 %" in html  # one of one active account churned, 12,000 of 12,000
    charts = page.context["charts"]
    assert charts["periods"]["x"] == ["2026-07"] and charts["periods"]["series"][0]["data"] == [100.0]
    assert charts["reasons"] == [{"name": "使用对手长话业务", "value": 12000.0}]
    # HQ sees both: 2 of 2 by count; 48,000 of 48,000 by amount
    hq = login(client, org.admin).get(reverse("insight:churn"), RANGE)
    assert hq.context["result"].periods[0].churned == 2
    assert "深圳流失测试有限公司" in hq.content.decode()
    # the figures come from the read model and say when they were true
    assert hq.context["result"].as_of is not None
    assert 'data-testid="as-of"' in hq.content.decode() and "As of " in hq.content.decode()


def test_bad_filters_are_named_and_fall_back(client, org, two):
    page = login(client, org.specialist_a).get(reverse("insight:churn"), {"start": "2026-13", "end": "x", "by": "week"})
    assert page.status_code == 200
    errors = page.context["form"].errors
    assert set(errors) == {"start", "end", "by"}
    reversed_range = client.get(reverse("insight:churn"), {"start": "2026-07", "end": "2026-01"})
    assert "end" in reversed_range.context["form"].errors
    # an id out of range or a unit outside reach
    assert client.get(reverse("insight:churn"), {"definition": "99999999999999999999"}).status_code == 200
    assert client.get(reverse("insight:churn"), {"unit": org.branch_b.code}).status_code == 404


def test_exports_hold_only_the_scope(client, org, two):
    ea, eb = two
    login(client, org.specialist_b)
    csv = client.get(reverse("insight:churn_export"), {**RANGE, "format": "csv"})
    text = b"".join(csv.streaming_content).decode("utf-8-sig")
    assert "深圳流失测试有限公司" in text and "广州流失测试有限公司" not in text
    assert "36000.00" in text
    xlsx = client.get(reverse("insight:churn_tables"), RANGE)
    book = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content)))
    assert "Churn rate per period" in book.sheetnames and "By industry" in book.sheetnames
    rows = list(book["Churn rate per period"].values)
    assert rows[1][:4] == ("2026-07", 1, 36000, 1)
    assert client.get(reverse("insight:churn_export"), {"format": "pdf"}).status_code == 404


def test_reason_edited_in_place_and_refused_outside_scope(client, org, two):
    ea, eb = two
    login(client, org.specialist_a)
    url = reverse("insight:churn_event_edit", args=[ea.pk])
    assert client.get(url).status_code == 200
    data = ChurnReason.objects.get(code="rival_data")
    saved = client.post(url, {"reason": data.pk, "note": "转到对手数据专线"})
    assert saved.status_code == 200 and "使用对手数据业务" in saved.content.decode()
    ea.refresh_from_db()
    assert (ea.reason_id, ea.note) == (data.pk, "转到对手数据专线")
    # bad input names the field; nothing changes
    bad = client.post(url, {"reason": "abc"})
    assert bad.status_code == 422 and "reason" in bad.context["form"].errors
    ea.refresh_from_db()
    assert ea.reason_id == data.pk
    # another branch's event does not exist for this user
    assert client.get(reverse("insight:churn_event_edit", args=[eb.pk])).status_code == 404
    assert client.post(reverse("insight:churn_event_edit", args=[eb.pk]), {"reason": data.pk}).status_code == 404
    eb.refresh_from_db()
    assert eb.reason_id is None


def test_definitions_are_hqs_to_change(client, org):
    d = ChurnDefinition.objects.get(code="spend-drop")
    url = reverse("insight:churn_definition", args=[d.pk])
    login(client, org.manager_a)
    assert client.get(reverse("insight:churn_definitions")).status_code == 404
    assert client.post(url, {}).status_code == 404
    login(client, org.director)
    assert client.get(reverse("insight:churn_definitions")).status_code == 200
    p = f"d{d.pk}-"
    bad = client.post(url, {p + "name": "下降", p + "is_active": "on", p + "drop_percent": "101",
                            p + "baseline_months": "6", p + "recent_months": "3"})
    assert bad.status_code == 422 and 'data-testid="error-drop_percent"' in bad.content.decode()
    d.refresh_from_db()
    assert d.params["drop_percent"] == 50
    ok = client.post(url, {p + "name": "月均消费下降三成", p + "drop_percent": "30", p + "baseline_months": "12",
                           p + "recent_months": "2"}, HTTP_HX_REQUEST="true")
    assert ok.status_code == 200 and "definition-saved" in ok.content.decode()
    d.refresh_from_db()
    assert (d.name, d.is_active, d.params) == ("月均消费下降三成", False,
                                               {"drop_percent": 30, "baseline_months": 12, "recent_months": 2})
    # without htmx the page comes back
    again = client.post(url, {p + "name": "月均消费下降", p + "is_active": "on", p + "drop_percent": "50",
                              p + "baseline_months": "6", p + "recent_months": "3"})
    assert again.status_code == 302 and again["Location"].startswith(reverse("insight:churn_definitions"))


def test_account_card_and_the_competitor_mark(client, org, two):
    ea, eb = two
    rival = Competitor.objects.filter(is_active=True).first()
    login(client, org.specialist_a)
    card = client.get(reverse("insight:account_churn", args=[ea.account_id]))
    assert card.status_code == 200 and f"account-churn-event-{ea.pk}" in card.content.decode()
    assert client.get(reverse("insight:account_churn", args=[eb.account_id])).status_code == 404
    mark = reverse("insight:account_churn_mark", args=[ea.account_id])
    future = client.post(mark, {"competitor": rival.pk, "on": "2999-01-01"})
    assert future.status_code == 422 and "on" in future.context["form"].errors
    missing = client.post(mark, {"on": "2026-07-01"})
    assert missing.status_code == 422 and "competitor" in missing.context["form"].errors
    done = client.post(mark, {"competitor": rival.pk, "on": "2026-07-20", "note": "已转网"})
    assert done.status_code == 200 and "churn-marked" in done.content.decode()
    marked = ChurnEvent.objects.get(definition__code="competitor")
    # baseline: 2025-07…2026-06, 1,000 a month
    assert (marked.account_id, marked.competitor_id, marked.detected_on, marked.amount_lost) == (
        ea.account_id, rival.pk, date(2026, 7, 20), Decimal("12000.00"))
    assert client.post(mark, {"competitor": rival.pk, "on": "2026-07-21"}).status_code == 409
    assert client.post(reverse("insight:account_churn_mark", args=[eb.account_id]),
                       {"competitor": rival.pk, "on": "2026-07-20"}).status_code == 404


def test_an_analyst_sees_but_may_not_mark(client, org, two):
    ea, _eb = two
    rival = Competitor.objects.filter(is_active=True).first()
    login(client, org.analyst_hq)
    card = client.get(reverse("insight:account_churn", args=[ea.account_id]))
    assert card.status_code == 200 and "churn-mark-form" not in card.content.decode()
    refused = client.post(reverse("insight:account_churn_mark", args=[ea.account_id]),
                          {"competitor": rival.pk, "on": "2026-07-20"})
    assert refused.status_code == 403
    assert not ChurnEvent.objects.filter(definition__code="competitor").exists()


def test_the_admin_checks_a_definitions_parameters(client, org):
    d = ChurnDefinition.objects.get(code="spend-drop")
    login(client, org.admin)
    org.admin.is_staff = org.admin.is_superuser = True
    org.admin.save()
    url = reverse("admin:insight_churndefinition_change", args=[d.pk])
    assert client.get(url).status_code == 200
    bad = client.post(url, {"name": d.name, "is_active": "on", "sort_order": 0,
                            "params": '{"drop_percent": 0, "baseline_months": 6, "recent_months": 3}'})
    assert bad.status_code == 200 and "params.drop_percent" in bad.content.decode()
    d.refresh_from_db()
    assert d.params["drop_percent"] == 50
    ok = client.post(url, {"name": d.name, "is_active": "on", "sort_order": 0,
                           "params": '{"drop_percent": 40, "baseline_months": 6, "recent_months": 3}'})
    assert ok.status_code == 302
    d.refresh_from_db()
    assert d.params["drop_percent"] == 40
    for model in ("churnreason", "churnevent", "modelfit", "accountscore", "warningrule", "warning", "healthscore",
                  "satisfactionsurvey", "retentionaction"):
        assert client.get(reverse(f"admin:insight_{model}_changelist")).status_code == 200


def test_the_events_list_pages_in_a_handful_of_queries(client, org, django_assert_max_num_queries):
    accounts = [AccountFactory(owner=org.specialist_a) for _ in range(6)]
    for n, account in enumerate(accounts):
        event(account, on=date(2026, 7, 1 + n), reason="price" if n % 2 else None)
    login(client, org.specialist_a)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("insight:churn"), {**RANGE, "page": "1"}, HTTP_HX_REQUEST="true")
    assert page.status_code == 200 and page.content.decode().count('data-testid="churn-event-') == 6


def test_an_account_without_churn_gets_a_small_card(client, org):
    quiet = AccountFactory(owner=org.specialist_a)
    login(client, org.specialist_a)
    card = client.get(reverse("insight:account_churn", args=[quiet.pk]))
    html = card.content.decode()
    assert card.status_code == 200 and "No churn recorded for this account." in html
    assert "<table" not in html and "churn-mark-form" in html
