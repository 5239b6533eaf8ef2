"""In a real browser: a visit logged on the account page shows on the compliance page; the
compliance, staffing and visit-plan pages with a realistic portfolio."""

import importlib
import os
import random
from datetime import datetime, time, timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from factories import AccountFactory
from kam.activities.models import Activity, ServiceStandard
from kam.tiering.models import Scheme, Snapshot, SnapshotEntry, SnapshotState

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.e2e]

TIERS = ["K6", "K5", "K4", "K3", "K2", "K1", "K1", "K1", "CA", "CA", "CB", "CC"]


def portfolio(org):
    """Forty accounts over two specialists of branch A and one of B, tiered 200 days ago,
    with visits and calls scattered over the last four months."""
    rng = random.Random(5)
    scheme = Scheme.objects.get(code="monthly-spend")
    if not ServiceStandard.objects.exists():  # a flush by an earlier browser test removed the seeded standards
        importlib.import_module("kam.activities.migrations.0002_service_standards").seed(apps, None)
    snap = Snapshot.objects.create(scheme=scheme, as_of=timezone.localdate() - timedelta(days=200),
                                   window_start=timezone.localdate() - timedelta(days=565), method=scheme.method,
                                   state=SnapshotState.DONE)
    owners = [org.specialist_a] * 20 + [org.specialist_a2] * 12 + [org.specialist_b] * 8
    accounts = []
    for n, owner in enumerate(owners):
        account = AccountFactory(owner=owner, name=f"{['广州', '佛山', '深圳'][n % 3]}{['智造', '物流', '医药', '电子'][n % 4]}"
                                                    f"{'一二三四五六七八九十'[n % 10]}号有限公司")
        SnapshotEntry.objects.create(snapshot=snap, account=account, tier=TIERS[n % len(TIERS)], revenue=0)
        for _ in range(rng.randint(0, 6)):
            day = timezone.localdate() - timedelta(days=rng.randint(1, 120))
            Activity.objects.create(account=account, kind=rng.choice(["visit", "call", "call", "meeting"]),
                                    occurred_at=timezone.make_aware(datetime.combine(day, time(10))),
                                    summary="例行沟通", created_by=owner)
        accounts.append(account)
    return accounts


def test_a_logged_visit_shows_on_the_compliance_page(live_server, transactional_db, org, settings, browser_page, shot, log_in):
    # given a specialist's crystal account never visited, among a realistic portfolio
    settings.LANGUAGE_CODE = "zh-hans"
    portfolio(org)
    scheme = Scheme.objects.get(code="monthly-spend")
    target = AccountFactory(owner=org.specialist_a, name="广州天河水晶客户有限公司")
    SnapshotEntry.objects.create(snapshot=Snapshot.objects.get(scheme=scheme), account=target, tier="K1", revenue=0)
    page = browser_page
    page.goto(f"{live_server.url}/login/")
    log_in(page, "spec_a")

    # when they open the compliance page from the menu
    page.click("[data-testid=nav-activities]")
    page.click("[data-testid=nav-compliance]")
    page.wait_for_url("**/activities/compliance/")
    page.wait_for_selector("[data-testid=compliance-heatmap] canvas")
    row = page.locator("[data-testid=overdue-table] tr", has_text="广州天河水晶客户有限公司")
    # then the account is overdue for visits, with none recently
    assert "近期无" in row.locator("td").nth(3).inner_text()
    person = page.locator("[data-testid=person-row]", has_text="张三")
    visits_before = int(person.locator("td").nth(3).inner_text())
    shot(page, "compliance-01-before")

    # when they log a visit on the account page
    page.goto(f"{live_server.url}/accounts/{target.pk}/")
    page.wait_for_selector("[data-testid=activities-card]")
    page.wait_for_load_state("networkidle")  # the cards loading above it move the button
    page.click("[data-testid=log-activity]")
    page.wait_for_selector("#log-activity.show")
    page.select_option("#log-activity select[name=kind]", "visit")
    page.fill("#log-activity textarea[name=summary]", "拜访信息部，确认二季度扩容计划")
    page.click("[data-testid=save-activity]")
    page.wait_for_selector("[data-testid=logged]")

    # then on the compliance page the visit counts and the account's last visit is today
    page.goto(f"{live_server.url}/activities/compliance/")
    page.wait_for_selector("[data-testid=compliance-heatmap] canvas")
    person = page.locator("[data-testid=person-row]", has_text="张三")
    assert int(person.locator("td").nth(3).inner_text()) == visits_before + 1
    row = page.locator("[data-testid=overdue-table] tr", has_text="广州天河水晶客户有限公司")
    assert f"{timezone.localdate():%Y-%m-%d}" in row.locator("td").nth(3).inner_text()  # still owes a call
    shot(page, "compliance-02-after")


def test_staffing_and_visit_plan_pages_with_a_portfolio(live_server, transactional_db, org, settings, browser_page,
                                                        shot, log_in):
    settings.LANGUAGE_CODE = "zh-hans"
    portfolio(org)
    page = browser_page
    page.goto(f"{live_server.url}/login/")
    log_in(page, "manager_a")
    page.goto(f"{live_server.url}/activities/compliance/")
    page.wait_for_selector("[data-testid=compliance-heatmap] canvas")
    page.wait_for_timeout(1200)  # let the heat-map finish its entry animation
    shot(page, "compliance-03-manager")
    page.goto(f"{live_server.url}/activities/staffing/")
    page.wait_for_load_state("networkidle")
    shot(page, "staffing-01")
    page.goto(f"{live_server.url}/activities/plan/")
    page.select_option("#plan-user", str(org.specialist_a.pk))
    page.click("[data-testid=make-plan]")
    page.wait_for_selector("[data-testid=plan-summary]")
    shot(page, "visit-plan-01")
