"""In a real browser: the Pareto chart of a snapshot, a what-if, and the migration matrix."""

import os
import random
from datetime import date

import pytest

from factories import AccountFactory
from kam.imports import services as imports
from kam.tiering import services
from kam.tiering.models import Scheme
from spreadsheets import csv_bytes

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.e2e]


def _revenue(actor, rows):
    job = imports.import_job_create(actor=actor, kind="revenue", filename="r.csv",
                                    data=csv_bytes([["客户编号", "日期", "金额"], *rows]))
    imports.import_job_check(job_id=job.pk)
    imports.ImportJob.objects.filter(pk=job.pk).update(state="queued", mode="valid")
    assert imports.import_job_run(job_id=job.pk).invalid == 0


def test_pareto_chart_what_if_and_migration_matrix(live_server, transactional_db, org, settings, browser_page, shot, log_in):
    # given 60 accounts with a skewed revenue distribution, an annual list, and a later snapshot
    settings.LANGUAGE_CODE = "zh-hans"
    rng = random.Random(7)
    owners = [org.specialist_a, org.specialist_a2, org.specialist_b]
    for n in range(60):
        AccountFactory(owner=owners[n % 3], name=f"帕累托测试{n:02d}号有限公司", code=f"PT{n:02d}")
    _revenue(org.admin, [[f"PT{n:02d}", "2026-01-15", f"{int(1_000_000 / (n + 1) ** 1.2)}"] for n in range(60)])
    scheme = Scheme.objects.get(code="pareto-abc")
    annual = services.snapshot_create(actor=org.admin, scheme=scheme, as_of=date(2026, 1, 31))
    services.snapshot_freeze(actor=org.director, snapshot=annual, year=2026)
    _revenue(org.admin, [[f"PT{n:02d}", "2026-02-15", f"{rng.randint(1_000, 400_000)}"] for n in range(20, 60)])
    services.snapshot_create(actor=org.admin, scheme=scheme, as_of=date(2026, 2, 28))
    page = browser_page

    # when the director opens the scheme
    page.goto(f"{live_server.url}/login/")
    log_in(page, "director")
    page.goto(f"{live_server.url}/tiering/pareto-abc/")

    # then the Pareto chart and the migration matrix against the annual list are drawn
    page.wait_for_selector("[data-testid=pareto-chart] canvas")
    page.wait_for_selector("[data-testid=migration-matrix] canvas")
    page.wait_for_timeout(1200)  # let the charts finish their entry animation
    assert "2026" in page.inner_text("#moves")
    shot(page, "20-tiering-pareto")
    page.locator("#moves").screenshot(path="tests/e2e/artifacts/21-tiering-migration.png")

    # when they try an 80 % → 60 % cut
    page.fill("[data-param='cuts.0']", "0.60")
    page.click("[data-testid=what-if]")
    page.wait_for_selector("[data-testid=what-if-result]")
    page.wait_for_selector("[data-testid=what-if-matrix] canvas")
    page.wait_for_timeout(1200)
    result = page.inner_text("[data-testid=what-if-result]")
    # then fewer accounts are A, and some owners lose top-tier accounts
    assert "−" in page.inner_text("[data-testid=owners]")
    assert result
    page.locator("[data-testid=what-if-result]").screenshot(path="tests/e2e/artifacts/22-tiering-what-if.png")
    assert Scheme.objects.get(pk=scheme.pk).params["cuts"] == ["0.80", "0.95"]


def test_portfolio_grid_cell_opens_its_accounts(live_server, transactional_db, org, settings, browser_page, shot, log_in):
    # given 30 accounts with revenue and a portfolio snapshot (no contacts yet: relationship poor)
    settings.LANGUAGE_CODE = "zh-hans"
    for n in range(30):
        AccountFactory(owner=org.specialist_a, name=f"组合测试{n:02d}号有限公司", code=f"PF{n:02d}")
    _revenue(org.admin, [[f"PF{n:02d}", "2026-01-15", f"{(30 - n) * 10_000}"] for n in range(30)])
    scheme = Scheme.objects.get(code="portfolio")
    snapshot = services.snapshot_create(actor=org.admin, scheme=scheme, as_of=date(2026, 1, 31))
    high_poor = snapshot.params["grid"]["high"]["poor"]
    page = browser_page
    page.goto(f"{live_server.url}/login/")
    log_in(page, "director")

    # when the director opens the scheme and clicks the high-attractiveness, poor-relationship cell
    page.goto(f"{live_server.url}/tiering/portfolio/")
    page.wait_for_selector("[data-testid=portfolio-grid] canvas")
    page.wait_for_timeout(1200)
    shot(page, "23-tiering-portfolio")
    page.locator("[data-testid=portfolio-grid]").screenshot(path="tests/e2e/artifacts/24-tiering-portfolio-grid.png")
    x, y = page.evaluate("""() => {
        const el = document.querySelector("[data-testid=portfolio-grid]");
        return echarts.getInstanceByDom(el).convertToPixel({seriesIndex: 0}, [0, 2]); }""")
    box = page.locator("[data-testid=portfolio-grid]").bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)

    # then the list shows that strategy's accounts: the top 20 % by revenue
    page.wait_for_url(f"**tier={high_poor}*")
    listed = page.inner_text("[data-testid=tier-entries]")
    assert "组合测试00号有限公司" in listed and "组合测试05号有限公司" in listed
    assert "组合测试06号有限公司" not in listed
