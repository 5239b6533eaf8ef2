"""In a real browser: log a visit from the account page, see it on the timeline, finish its next step at home."""

import os

import pytest

from factories import AccountFactory, ContactFactory
from kam.accounts.models import DecisionRole
from kam.activities.models import Task, TaskStatus

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.e2e]


def test_log_a_visit_on_the_account_page_and_finish_its_next_step(live_server, transactional_db, org, settings,
                                                                 browser_page, shot, log_in):
    # given an account with a decision maker and a user-level contact
    settings.LANGUAGE_CODE = "zh-hans"
    account = AccountFactory(owner=org.specialist_a, name="广州天河智造科技有限公司")
    ContactFactory(actor=org.specialist_a, account=account, name="陈总", title="总经理",
                   decision_role=DecisionRole.DECISION_MAKER)
    ContactFactory(actor=org.specialist_a, account=account, name="小李", title="IT主管", decision_role=DecisionRole.USER)
    page = browser_page
    page.goto(f"{live_server.url}/login/")
    log_in(page, "spec_a")

    # when the specialist opens the account and logs a visit without a summary
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    page.wait_for_selector("[data-testid=activities-card]")
    page.wait_for_load_state("networkidle")  # the cards loading above it move the button
    page.click("[data-testid=log-activity]")
    page.wait_for_selector("#log-activity.show")
    page.check("text=陈总")
    page.click("[data-testid=save-activity]")
    # then the summary's error shows beside the field
    page.wait_for_selector("[data-field-error=summary]")
    shot(page, "activity-01-missing-summary")

    # when they fill it in with a next step and save
    page.fill("#log-activity textarea[name=summary]", "拜访陈总，沟通专线扩容需求")
    page.fill("#log-activity input[name=next_step]", "提交扩容方案")
    page.fill("#log-activity input[name=next_step_due]", "2099-01-31")
    page.click("[data-testid=save-activity]")
    # then the timeline shows the visit with the decision-maker badge and the next step
    page.wait_for_selector("[data-testid=logged]")
    page.wait_for_selector("[data-testid=decision-maker-met]")
    assert "提交扩容方案" in page.inner_text("[data-testid=timeline]")
    shot(page, "activity-02-timeline")

    # when they go home and mark the next step done
    page.goto(f"{live_server.url}/")
    page.wait_for_selector("[data-testid=my-tasks] >> text=提交扩容方案")
    shot(page, "activity-03-home-tasks")
    page.click("[data-testid=complete-task]")
    page.wait_for_selector("[data-testid=my-tasks] >> text=没有待办")
    assert Task.objects.get().status == TaskStatus.DONE
    shot(page, "activity-04-task-done")
