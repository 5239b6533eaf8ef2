"""In a real browser: an administrator finds who looked at an account card on the audit page,
on a desktop and on a 390 px phone; no script errors on the page."""

import os

import pytest

from factories import AccountFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.e2e]


def test_an_administrator_searches_the_audit_log(live_server, transactional_db, org, settings, browser_page, shot,
                                                 log_in):
    settings.LANGUAGE_CODE = "zh-hans"
    account = AccountFactory(owner=org.specialist_a, name="广州珠江审计演示有限公司")
    page = browser_page
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # given a specialist who opened an account card
    page.goto(f"{live_server.url}/login/")
    log_in(page, "spec_a")
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    # leave the card before its own requests finish: one answered after the cookies are cleared
    # would set a new CSRF cookie behind the login form's back
    page.wait_for_load_state("networkidle")
    page.goto("about:blank")
    page.context.clear_cookies()

    # when the administrator searches the audit log for that account
    page.goto(f"{live_server.url}/login/")
    log_in(page, "admin")
    page.click("[data-testid=nav-audit]")
    page.wait_for_selector("[data-testid=audit-table]")
    page.fill("#id_q", "珠江审计")
    page.click("button[type=submit]:has-text('搜索')")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=audit-table] tbody tr').length === 1")
    # then the one card view is listed with who and where
    row = page.inner_text("[data-testid=audit-table] tbody tr")
    assert "spec_a" in row and "广州珠江审计演示有限公司" in row and "127.0.0.1" in row
    shot(page, "audit-01-search")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_selector("[data-testid=audit-table]")
    width = page.evaluate("document.documentElement.scrollWidth")
    shot(page, "audit-02-phone")
    assert width <= 390, f"the page is {width} px wide at 390 px"
    assert not errors, errors
