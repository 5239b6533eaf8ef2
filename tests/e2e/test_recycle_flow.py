"""In a real browser: a specialist deletes an account from its card, finds it in the recycle bin
(on a desktop and on a 390 px phone) and restores it; no script errors on the page."""

import os
from datetime import date
from decimal import Decimal

import pytest

from factories import AccountFactory, ContactFactory
from kam.accounts.models import Account, Contact
from kam.sales.models import Opportunity
from kam.sales.opportunities.services import opportunity_create

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.e2e]


def test_delete_find_in_the_bin_and_restore(live_server, transactional_db, org, settings, browser_page, shot, log_in):
    settings.LANGUAGE_CODE = "zh-hans"
    account = AccountFactory(owner=org.specialist_a, name="广州珠江回收演示有限公司")
    contact = ContactFactory(actor=org.specialist_a, account=account, name="梁总")
    deal = opportunity_create(actor=org.specialist_a, account=account, name="珠江回收专线", amount=Decimal("90000"),
                              expected_close=date(2027, 6, 30))
    page = browser_page
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/login/")
    log_in(page, "spec_a")

    # when the specialist deletes the account from its card and confirms
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    page.click(f"a[href='/accounts/{account.pk}/delete/']")
    shot(page, "recycle-01-confirm")
    page.click("[data-testid=confirm-delete]")
    page.wait_for_url(f"{live_server.url}/accounts/")
    assert "广州珠江回收演示有限公司" not in page.inner_text("[data-testid=account-table]")

    # then the bin lists it with its contact and opportunity counted, on a desktop and a phone
    page.goto(f"{live_server.url}/accounts/recycle-bin/")
    row = page.inner_text(f"[data-testid=bin-account-{account.pk}]")
    assert "广州珠江回收演示有限公司" in row and "张三" in row and "15" in row
    shot(page, "recycle-02-bin")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    width = page.evaluate("document.documentElement.scrollWidth")
    shot(page, "recycle-03-phone")
    assert width <= 390, f"the page is {width} px wide at 390 px"

    # and restoring brings the account back with its contact and opportunity
    page.click(f"[data-testid=bin-account-{account.pk}] button")
    page.wait_for_url(f"{live_server.url}/accounts/{account.pk}/")
    assert Account.objects.alive().filter(pk=account.pk).exists()
    assert Contact.objects.alive().filter(pk=contact.pk).exists()
    assert Opportunity.objects.alive().filter(pk=deal.pk).exists()
    shot(page, "recycle-04-restored")
    assert not errors, errors
