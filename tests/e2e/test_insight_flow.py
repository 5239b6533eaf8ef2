"""In a real browser: two satisfaction surveys and an overdue bill raise warnings on the account
page, each with one task; a retention action closes one and completes its task; the account is marked as gone to a
competitor and shows on the churn page; the warnings page sums the open ones per person."""

import os
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from factories import AccountFactory
from kam.activities.models import Task, TaskSource, TaskStatus
from kam.insight.models import ChurnEvent, SatisfactionSurvey, Warning, WarningState
from kam.revenue.importers import monthly_refresh
from kam.revenue.models import RevenueFact
from kam.sales.models import Competitor
from kam.tiering.services import month_start

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.e2e]


def test_warnings_retention_and_churn_on_the_account_page(live_server, transactional_db, org, settings,
                                                           browser_page, shot, log_in):
    settings.LANGUAGE_CODE = "zh-hans"
    today = timezone.localdate()
    account = AccountFactory(owner=org.specialist_a, name="广州珠江精密模具有限公司", overdue_amount=Decimal("58000"),
                             credit_limit=Decimal("200000"))
    # a year of monthly bills, so that the competitor mark has a baseline to lose
    months = [month_start(today, back) for back in range(1, 13)]
    for month in months:
        RevenueFact.objects.create(account=account, date=month + timedelta(days=9), month=month,
                                   amount=Decimal("12000.00"))
    monthly_refresh({(account.pk, month) for month in months})
    page = browser_page
    page.goto(f"{live_server.url}/login/")
    log_in(page, "spec_a")

    # when the specialist records a good survey last quarter and a poor one today, then evaluates
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    page.wait_for_selector("[data-testid=survey-form]")
    for score, day in (("9", today - timedelta(days=90)), ("4.5", today)):
        page.fill("[data-testid=survey-form] [name=score]", score)
        page.fill("[data-testid=survey-form] [name=surveyed_on]", day.isoformat())
        page.click("[data-testid=survey-form] button[type=submit]")
        page.wait_for_selector(f"[data-testid=surveys] >> text={score}")
    assert SatisfactionSurvey.objects.filter(account=account).count() == 2
    page.click("[data-testid=health-evaluate]")
    page.wait_for_selector("[data-testid=account-warnings] tr[data-testid^=warning-]")

    # then the overdue bill and the fallen satisfaction are open warnings, each with one task
    opened = {w.rule.code: w for w in Warning.objects.filter(account=account, state=WarningState.OPEN)}
    assert {"payment_overdue", "satisfaction_drop"} <= set(opened)
    for warning in opened.values():
        assert Task.objects.filter(source_kind=TaskSource.WARNING, source_id=warning.pk,
                                   owner=org.specialist_a, status=TaskStatus.OPEN).count() == 1
    shot(page, "insight-01-account-warnings")

    # when they record a retention action and its outcome on the overdue warning
    overdue = opened["payment_overdue"]
    row = f"[data-testid=warning-{overdue.pk}]"
    page.click(f"[data-testid=retain-{overdue.pk}]")
    page.fill(f"{row} textarea[name=action]", "财务总监面谈，约定分两期结清欠费")
    page.select_option(f"{row} select[name=outcome]", "retained")
    page.click(f"{row} button[type=submit]")
    page.wait_for_selector(f"{row} .badge.bg-secondary-lt")
    # then the warning is closed by the action and its task is done
    overdue.refresh_from_db()
    assert overdue.state == WarningState.RETAINED
    assert Task.objects.get(source_kind=TaskSource.WARNING, source_id=overdue.pk).status == TaskStatus.DONE

    # when they mark the account as moved to a competitor
    page.click("[data-testid=churn-mark-open]")
    page.wait_for_selector("#churn-mark.show")  # the collapse has finished opening: a click lands on the form
    page.select_option("[data-testid=churn-mark-form] [name=competitor]",
                       str(Competitor.objects.get(code="cmcc").pk))
    page.fill("[data-testid=churn-mark-form] [name=on]", today.isoformat())
    with page.expect_response(lambda r: r.url.endswith(f"/accounts/{account.pk}/churn/mark/")) as answer:
        page.click("[data-testid=churn-mark-form] button[type=submit]")
    assert answer.value.status == 200, answer.value.text()
    page.wait_for_selector("[data-testid=churn-marked]")
    event = ChurnEvent.objects.get(account=account)
    assert event.competitor.code == "cmcc" and event.amount_lost == Decimal("144000.00")
    shot(page, "insight-02-account-churn")

    # then the churn page lists it and draws its charts
    page.goto(f"{live_server.url}/insight/churn/")
    page.wait_for_selector(f"[data-testid=churn-event-{event.pk}]")
    page.wait_for_selector("[data-testid=churn-periods-chart] canvas")
    shot(page, "insight-03-churn")

    # and the warnings page counts the open one for the specialist
    page.goto(f"{live_server.url}/insight/warnings/")
    page.wait_for_selector("[data-testid=per-person]")
    assert str(org.specialist_a) in page.inner_text("[data-testid=per-person]")
    page.wait_for_selector(f"[data-testid=warning-{opened['satisfaction_drop'].pk}]")
    shot(page, "insight-04-warnings")
