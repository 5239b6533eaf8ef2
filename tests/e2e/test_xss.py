"""In a real browser: names that are XSS payloads — an account's, a contact's, an opportunity's,
a lead's, a specialist's — on every chart and list. Each page is visited and every chart's
points hovered (ECharts' showTip on each instance) so that every tooltip is rendered; the test
fails if a dialog opens, a script error happens, the browser logs a Content-Security-Policy
error or /csp-report/ receives a report. A second test proves that the policy does block: an
inline script and an inline event handler put into the page are refused and reported.
"""

import importlib
import logging
import os
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.utils import timezone

from factories import AccountFactory, ContactFactory
from kam.activities.models import ServiceStandard
from kam.core.models import User
from kam.imports import services as imports
from kam.sales.leads.services import lead_create
from kam.sales.models import LeadSource
from kam.sales.opportunities.services import opportunity_create
from kam.tiering import services as tiering
from kam.tiering.models import Scheme, Snapshot, SnapshotEntry, SnapshotState
from spreadsheets import csv_bytes

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.e2e]

PAYLOAD = '"><img src=x onerror=alert(2)><script>alert(1)</script>'
# For the fields of at most 50 characters (people's names).
SHORT = '"><img src=x onerror=alert(3)><svg onload=alert(4)'

# Every tooltip of every chart on the page: [testid or id, series, index, tooltip text].
HOVER_ALL = """() => {
  const out = [];
  document.querySelectorAll("[data-chart], [data-funnel]").forEach(el => {
    const chart = window.echarts && echarts.getInstanceByDom(el);
    if (!chart) return;
    (chart.getOption().series || []).forEach((series, s) => {
      const n = Math.min((series.data || []).length, 80);
      for (let i = 0; i < n; i++) {
        chart.dispatchAction({type: "showTip", seriesIndex: s, dataIndex: i});
        const tip = Array.from(el.children).slice(1).map(c => c.innerText).join(" ");
        out.push([el.dataset.testid || el.id, s, i, tip]);
      }
    });
    chart.dispatchAction({type: "hideTip"});
  });
  return out;
}"""


class Reports(logging.Handler):
    """What /csp-report/ logs (the live server runs in this process)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.seen: list[dict] = []

    def emit(self, record):
        if hasattr(record, "csp_violation"):
            self.seen.append(record.csp_violation)


@pytest.fixture
def csp_reports():
    handler = Reports()
    logger = logging.getLogger("kam.security")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


@pytest.fixture
def watched(browser_page):
    """The page, with dialogs and script errors recorded (dialogs dismissed)."""
    page = browser_page
    page.dialogs, page.script_errors = [], []

    def dialog(d):
        page.dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", dialog)
    page.on("pageerror", lambda e: page.script_errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and "Failed to load resource" not in m.text
            and page.script_errors.append(m.text))
    return page


def _revenue(actor, rows):
    job = imports.import_job_create(actor=actor, kind="revenue", filename="r.csv",
                                    data=csv_bytes([["客户编号", "日期", "金额"], *rows]))
    imports.import_job_check(job_id=job.pk)
    imports.ImportJob.objects.filter(pk=job.pk).update(state="queued", mode="valid")
    assert imports.import_job_run(job_id=job.pk).invalid == 0


def _hostile_data(org):
    """Twelve accounts with two years of revenue, the first named PAYLOAD; snapshots of the
    BCG, Pareto (an annual list and a later one: the migration matrix) and portfolio schemes;
    a contact, an opportunity and a lead with the payload as their names; the specialist too."""
    User.objects.filter(pk=org.specialist_a.pk).update(display_name=SHORT)
    accounts = [AccountFactory(owner=org.specialist_a, name=PAYLOAD if n == 0 else f"对照客户{n:02d}有限公司",
                               code=f"XS{n:02d}") for n in range(12)]
    payload_account = accounts[0]
    _revenue(org.admin, [[f"XS{n:02d}", "2025-01-15", f"{(n + 1) * 20_000}"] for n in range(12)]
             + [[f"XS{n:02d}", "2026-01-15", f"{(n + 1) * 20_000 + (n % 4 - 1) * 9_000 + 30_000}"] for n in range(12)])
    for code in ("bcg", "portfolio", "pareto-abc"):
        snapshot = tiering.snapshot_create(actor=org.admin, scheme=Scheme.objects.get(code=code), as_of=date(2026, 1, 31))
    tiering.snapshot_freeze(actor=org.director, snapshot=snapshot, year=2026)
    tiering.snapshot_create(actor=org.admin, scheme=Scheme.objects.get(code="pareto-abc"), as_of=date(2026, 2, 28))
    # a monthly-spend list from 200 days ago: the accounts have service standards (compliance)
    if not ServiceStandard.objects.exists():  # a flush by an earlier browser test removed the seeded ones
        importlib.import_module("kam.activities.migrations.0002_service_standards").seed(apps, None)
    scheme = Scheme.objects.get(code="monthly-spend")
    listed = Snapshot.objects.create(scheme=scheme, as_of=timezone.localdate() - timedelta(days=200),
                                     window_start=timezone.localdate() - timedelta(days=565), method=scheme.method,
                                     state=SnapshotState.DONE)
    for n, a in enumerate(accounts):
        SnapshotEntry.objects.create(snapshot=listed, account=a, tier=["K6", "K4", "K1"][n % 3], revenue=0)
    ContactFactory(actor=org.specialist_a, account=payload_account, name=SHORT)
    opportunity_create(actor=org.specialist_a, account=payload_account, name=PAYLOAD, amount=Decimal("250000"),
                       expected_close=date(2027, 3, 31), stage="design")
    lead_create(actor=org.admin, data={"company": PAYLOAD, "contact_name": SHORT,
                                       "source": LeadSource.objects.filter(is_active=True).first()},
                assignee=org.specialist_a)
    return payload_account


def _visit(page, url):
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)  # charts draw after DOMContentLoaded; let htmx fragments settle


def test_xss_payload_names_on_every_chart_and_list_stay_text(live_server, transactional_db, org, settings,
                                                               watched, csp_reports, shot, log_in):
    # given hostile names everywhere a name is shown
    settings.LANGUAGE_CODE = "zh-hans"
    account = _hostile_data(org)
    page = watched
    base = live_server.url
    page.goto(f"{base}/login/")
    log_in(page, "admin")

    # when the administrator visits every page with charts or lists and hovers every point
    tips = {}
    pages = ["/", "/accounts/", f"/accounts/{account.pk}/", "/tiering/", "/tiering/bcg/", "/tiering/pareto-abc/",
             "/tiering/portfolio/", "/sales/leads/", "/sales/pool/", "/sales/opportunities/",
             "/sales/opportunities/board/", "/sales/reviews/", "/sales/analytics/", "/insight/warnings/",
             "/insight/churn/", "/insight/models/", "/activities/", "/activities/tasks/", "/activities/plan/",
             "/activities/compliance/", "/activities/staffing/", "/audit/", "/admin/", "/admin/accounts/account/",
             f"/admin/accounts/account/{account.pk}/change/"]
    for url in pages:
        _visit(page, base + url)
        assert page.locator("img[src=x], svg[onload]").count() == 0, url
        if url == f"/accounts/{account.pk}/":
            # the health card comes by htmx; evaluating it draws its trend chart
            page.click("[data-testid=health-evaluate]")
            page.wait_for_selector("[data-testid=health-trend] canvas")
            shot(page, "xss-02-account-card")
            assert PAYLOAD in page.inner_text("body")
        for testid, _series, _index, text in page.evaluate(HOVER_ALL):
            tips.setdefault((url, testid), []).append(text)
        # no tooltip turned a name into an element
        assert page.locator("img[src=x], svg[onload]").count() == 0, url

    # then the payload showed as text in the BCG tooltip, and nothing ran anywhere
    assert any(PAYLOAD in t for t in tips[("/tiering/bcg/", "scatter-chart")])
    assert ("/sales/analytics/", "funnel-chart") in tips and ("/activities/compliance/", "compliance-heatmap") in tips
    assert sum(len(v) for v in tips.values()) > 50
    assert page.dialogs == [] and page.script_errors == [] and page.csp_errors == []
    time.sleep(0.5)  # a report the browser is still sending
    assert csp_reports.seen == []

    # and a screenshot of the BCG tooltip on the payload's point shows it as literal text
    _visit(page, f"{base}/tiering/bcg/")
    page.evaluate("""(payload) => {
        const el = document.querySelector("[data-testid=scatter-chart]");
        const chart = echarts.getInstanceByDom(el);
        chart.getOption().series.forEach((s, si) => s.data.forEach((p, i) => {
            if (p[4] === payload) chart.dispatchAction({type: "showTip", seriesIndex: si, dataIndex: i}); }));
    }""", PAYLOAD)
    page.locator("[data-testid=scatter-chart]").screenshot(path="tests/e2e/artifacts/xss-01-bcg-tooltip.png")
    assert PAYLOAD in page.inner_text("[data-testid=scatter-chart]")
    assert page.dialogs == [] and page.script_errors == []


def test_the_policy_blocks_injected_inline_script_and_reports_it(live_server, transactional_db, org, settings,
                                                                 watched, csp_reports, log_in):
    page = watched
    page.goto(f"{live_server.url}/login/")
    log_in(page, "admin")

    # when a script element with inline code and an element with an inline handler are put in the page
    directives = page.evaluate("""() => new Promise(resolve => {
        const seen = [];
        document.addEventListener("securitypolicyviolation", e => {
            seen.push(e.effectiveDirective);
            if (seen.length === 2) resolve(seen);
        });
        const s = document.createElement("script");
        s.textContent = "window.injected = true";
        document.body.appendChild(s);
        const d = document.createElement("div");
        d.innerHTML = '<img src="data:," onerror="window.handled = true">';
        document.body.appendChild(d);
    })""")

    # then neither ran, the browser names the directives, and /csp-report/ logged both
    assert sorted(directives) == ["script-src-attr", "script-src-elem"]
    assert page.evaluate("() => [window.injected, window.handled]") == [None, None]
    deadline = time.monotonic() + 10
    while len(csp_reports.seen) < 2 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert sorted(r["directive"] for r in csp_reports.seen) == ["script-src-attr", "script-src-elem"]
    assert {r["document"] for r in csp_reports.seen} == {f"{live_server.url}/"}
    assert page.dialogs == []
    page.csp_errors.clear()  # the two refusals were the point
