"""Customer states follow events: a won deal orders, the first revenue after it activates, a
churn event churns and its recovery activates again; each move in the history with its
cause; a change by hand needs a reason."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client

from factories import AccountFactory
from kam.accounts.models import Account, LifecycleStatus
from kam.core.services import api_token_issue
from kam.insight.churn.services import churn_mark, churn_sweep
from kam.insight.models import ChurnDefinition
from kam.sales.models import Competitor, OutcomeReason
from kam.sales.opportunities.services import opportunity_close, opportunity_create
from spreadsheets import csv_bytes
from tests.insight.churn_history import month, monthly, revenue

pytestmark = pytest.mark.django_db
S = LifecycleStatus


def _state(account) -> str:
    return Account.objects.get(pk=account.pk).lifecycle_status


def _last_reason(account) -> str:
    return Account.history.filter(id=account.pk).order_by("-history_date", "-history_id").first().history_change_reason


def _win(org, account):
    opportunity = opportunity_create(actor=org.specialist_a, account=account, name="专线扩容项目",
                                     amount=Decimal("250000"), expected_close=date(2027, 3, 31))
    reason = OutcomeReason.objects.filter(applies_to__in=["won", "both"], is_active=True).first()
    return opportunity_close(actor=org.specialist_a, opportunity=opportunity, outcome="won", reason=reason,
                             note="方案与价格都更优")


def test_a_won_opportunity_orders_and_the_first_revenue_after_it_activates(org, run_import):
    account = AccountFactory(owner=org.specialist_a, code="LC1", lifecycle_status=S.OPPORTUNITY)
    _win(org, account)
    assert _state(account) == S.ORDERED
    assert _last_reason(account) == "Opportunity won: 专线扩容项目"
    # revenue dated before the order does not make it a user
    old = [["客户编号", "日期", "金额"], ["LC1", "2020-01-05", "100"]]
    assert run_import(org.admin, "revenue", "old.csv", csv_bytes(old)).invalid == 0
    assert _state(account) == S.ORDERED
    # revenue from the order on does
    today = date.today().isoformat()
    new = [["客户编号", "日期", "金额"], ["LC1", today, "5000"]]
    assert run_import(org.admin, "revenue", "new.csv", csv_bytes(new)).invalid == 0
    assert _state(account) == S.ACTIVE and _last_reason(account) == "First revenue after the order"
    # an account that never ordered keeps its state when revenue arrives
    other = AccountFactory(owner=org.specialist_a, code="LC2", lifecycle_status=S.PROSPECT)
    run_import(org.admin, "revenue", "p.csv", csv_bytes([["客户编号", "日期", "金额"], ["LC2", today, "10"]]))
    assert _state(other) == S.PROSPECT


def test_a_churn_event_churns_and_recovery_activates_again(org):
    ChurnDefinition.objects.exclude(code="no-revenue").update(is_active=False)
    account = AccountFactory(owner=org.specialist_a, lifecycle_status=S.ACTIVE)
    monthly(account, month(2025, 1), [1000] * 12)
    churn_sweep(as_of=date(2026, 6, 1))
    assert _state(account) == S.CHURNED and _last_reason(account).startswith("Churn detected: ")
    revenue(account, {date(2026, 6, 5): 800})
    churn_sweep(as_of=date(2026, 6, 10))
    assert _state(account) == S.ACTIVE and _last_reason(account).startswith("Recovered: ")
    moves = list(Account.history.filter(id=account.pk).order_by("history_date", "history_id")
                 .values_list("lifecycle_status", flat=True))
    assert moves[-2:] == [S.CHURNED, S.ACTIVE]


def test_an_account_with_another_open_event_stays_churned_when_one_recovers(org):
    account = AccountFactory(owner=org.specialist_a, lifecycle_status=S.ACTIVE)
    rival = Competitor.objects.create(code="rival", name="某竞争对手")
    churn_mark(actor=org.specialist_a, account=account, competitor=rival, on=date(2026, 5, 1))
    assert _state(account) == S.CHURNED and _last_reason(account) == "Moved to a competitor: 某竞争对手"
    ChurnDefinition.objects.exclude(code__in=["no-revenue"]).filter(rule__in=["spend_drop"]).update(is_active=False)
    monthly(account, month(2025, 1), [1000] * 12)
    churn_sweep(as_of=date(2026, 6, 1))  # no revenue: a second event
    revenue(account, {date(2026, 6, 5): 800})
    churn_sweep(as_of=date(2026, 6, 10))  # the no-revenue event recovers; the competitor one stays open
    assert _state(account) == S.CHURNED


def test_a_state_changed_by_hand_needs_a_reason_on_the_form_and_in_the_api(org):
    account = AccountFactory(owner=org.specialist_a, lifecycle_status=S.PROSPECT)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(org.specialist_a)
    form = client.get(f"/accounts/{account.pk}/edit/").context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None and k in form.fields}
    data.update(version=account.version, lifecycle_status=S.OPPORTUNITY, industry=account.industry_id or "",
                region=account.region_id or "", parent="", owner=org.specialist_a.pk)
    refused = client.post(f"/accounts/{account.pk}/edit/", data)
    assert refused.status_code == 200 and "Say why the customer state changes by hand." in refused.content.decode()
    assert _state(account) == S.PROSPECT
    saved = client.post(f"/accounts/{account.pk}/edit/", {**data, "lifecycle_reason": "客户已发来需求书"})
    assert saved.status_code == 302 and _state(account) == S.OPPORTUNITY
    assert _last_reason(account) == "Customer state set by hand: 客户已发来需求书"

    api = Client(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=org.specialist_a)}")
    bad = api.patch(f"/api/accounts/{account.pk}", {"lifecycle_status": "ordered"}, content_type="application/json")
    assert bad.status_code == 422 and "lifecycle_reason" in bad.json()["errors"]
    good = api.patch(f"/api/accounts/{account.pk}", {"lifecycle_status": "ordered", "lifecycle_reason": "合同已签"},
                     content_type="application/json")
    assert good.status_code == 200 and _state(account) == S.ORDERED
