"""In a real browser: find an account by pinyin initials, fix a contact's bad mobile, see the chain update."""

import os

import pytest

from factories import AccountFactory, ContactFactory
from kam.accounts.models import DecisionRole

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.e2e]


def test_find_by_pinyin_fix_bad_mobile_and_see_decision_chain(live_server, transactional_db, org, settings, browser_page, shot, log_in):
    # given an account with only its decision maker known, and a colleague's account elsewhere
    settings.LANGUAGE_CODE = "zh-hans"
    account = AccountFactory(owner=org.specialist_a, name="中国移动通信集团广东有限公司", short_name="广东移动")
    ContactFactory(actor=org.specialist_a, account=account, name="陈总", title="总经理",
                   decision_role=DecisionRole.DECISION_MAKER, attitude="supportive", is_key=True)
    AccountFactory(owner=org.specialist_a, name="广州天河城百货有限公司")
    page = browser_page

    # when the specialist logs in and searches by pinyin initials
    page.goto(f"{live_server.url}/login/")
    shot(page, "01-login")
    log_in(page, "spec_a")
    shot(page, "02-home")
    page.goto(f"{live_server.url}/accounts/")
    page.fill("#id_q", "zgyd")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=account-table] tbody tr').length === 1")
    shot(page, "03-search-zgyd")
    # then only the matching account is listed; open its card
    page.click("text=中国移动通信集团广东有限公司")
    page.wait_for_url(f"**/accounts/{account.pk}/")
    shot(page, "04-account-card")

    page.click("[data-testid=tab-contacts]")
    page.wait_for_selector("[data-testid=single-threaded]")
    shot(page, "05-decision-chain-single-threaded")

    # when a contact with a bad mobile number is added
    page.click("[data-testid=add-contact]")
    page.fill("#id_name", "李工")
    page.fill("#id_title", "信息中心主任")
    page.select_option("#id_decision_role", "gatekeeper")
    page.select_option("#id_attitude", "neutral")
    page.fill("#id_mobile", "1380013")
    page.click("[data-testid=save-contact]")
    # then the error stands next to the mobile field and nothing is saved
    error = page.wait_for_selector("[data-field-error=mobile]")
    assert error.is_visible()
    shot(page, "06-bad-mobile")
    assert account.contacts.count() == 1

    # when the number is fixed
    page.fill("#id_mobile", "13800138000")
    page.click("[data-testid=save-contact]")
    page.wait_for_selector("[data-testid=decision-chain]")
    # then the chain shows the new contact under its role and the single-thread warning is gone
    gatekeepers = page.locator("[data-role=gatekeeper]")
    assert "李工" in gatekeepers.inner_text()
    assert page.locator("[data-testid=single-threaded]").count() == 0
    shot(page, "07-decision-chain-updated")
    assert account.contacts.get(name="李工").mobile == "13800138000"


def test_manager_creates_an_account_and_picks_the_owner_by_search(live_server, transactional_db, org, settings, browser_page, shot, log_in):
    # given a branch manager on the new-account form
    settings.LANGUAGE_CODE = "zh-hans"
    page = browser_page
    page.goto(f"{live_server.url}/login/")
    log_in(page, "manager_a")
    page.goto(f"{live_server.url}/accounts/new/")
    page.fill("#id_name", "广州白云国际物流有限公司")
    # when the owner is searched by name and picked from the server's answer
    owner_box = page.locator(".kam-autocomplete", has=page.locator("input[name=owner]"))
    owner_box.locator(".kam-ac-input").fill("李")
    owner_box.locator(".kam-ac-item", has_text="李四").wait_for()
    shot(page, "08-owner-picker")
    page.locator(".card", has=owner_box).screenshot(path="tests/e2e/artifacts/08-owner-picker-card.png")
    assert "王五" not in owner_box.locator(".kam-ac-results").inner_text()  # branch B is not offered
    owner_box.locator(".kam-ac-item", has_text="李四").click()
    page.click("button[type=submit].btn-primary")
    page.wait_for_url("**/accounts/*/")
    shot(page, "09-created")
    # then the account belongs to the chosen specialist and her office
    from kam.accounts.models import Account

    account = Account.objects.get(name="广州白云国际物流有限公司")
    assert account.owner == org.specialist_a2 and account.unit == org.office_a2
