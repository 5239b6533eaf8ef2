"""In a real browser: move an opportunity across the board, lose one with a reason, and take
one through a deal review from submission to the general manager's decision."""

import os
from decimal import Decimal

import pytest

from factories import AccountFactory, user
from kam.activities.models import Task
from kam.core.models import Role
from kam.sales.models import DealReview, Opportunity, OutcomeReason, StageChange
from kam.sales.opportunities.services import opportunity_create

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.e2e]


def test_board_moves_a_loss_with_reason_and_a_review_to_its_decision(live_server, transactional_db, org, settings,
                                                                     browser_page, shot, log_in):
    settings.LANGUAGE_CODE = "zh-hans"
    user("gm", Role.GENERAL_MANAGER, org.hq, display_name="赵总")
    account = AccountFactory(owner=org.specialist_a, name="广州天河智造科技有限公司")
    from datetime import date

    def opportunity(name, amount, stage="contact"):
        return opportunity_create(actor=org.specialist_a, account=account, name=name, amount=Decimal(amount),
                                  expected_close=date(2027, 3, 31), stage=stage)

    moving = opportunity("专线扩容项目", "250000")
    losing = opportunity("视频会议系统项目", "80000", stage="tender")
    reviewed = opportunity("智慧园区网络项目", "1200000", stage="review")
    page = browser_page
    page.goto(f"{live_server.url}/login/")
    log_in(page, "spec_a")

    # when the specialist drags the first card from 接触 to 方案设计 (on a screen wide enough for every column)
    page.set_viewport_size({"width": 1920, "height": 1000})
    page.goto(f"{live_server.url}/sales/opportunities/board/")
    page.wait_for_selector(f"[data-testid=stage-contact] [data-testid=opportunity-{moving.pk}]")
    shot(page, "sales-01-board")
    page.drag_and_drop(f"[data-testid=opportunity-{moving.pk}]", "[data-testid=stage-design]")
    # then the board comes back with the card in its new column and the move is recorded
    page.wait_for_selector(f"[data-testid=stage-design] [data-testid=opportunity-{moving.pk}]")
    moving.refresh_from_db()
    assert moving.stage == "design"
    assert StageChange.objects.filter(opportunity=moving, from_stage="contact", to_stage="design").exists()

    # when they drop the second on 输单, the close form asks for the reason; sent without one it is refused
    page.drag_and_drop(f"[data-testid=opportunity-{losing.pk}]", "[data-testid=stage-lost]")
    page.wait_for_selector("[data-testid=close-dialog][open]")
    page.fill("[data-testid=close-dialog] textarea[name=note]", "对方低价中标")
    page.click("[data-testid=close-dialog] [data-testid=close-submit]")
    page.wait_for_selector("[data-field-error=reason]")
    losing.refresh_from_db()
    assert losing.stage == "tender"
    shot(page, "sales-02-loss-needs-a-reason")
    # and with a reason it goes through
    page.select_option("[data-testid=close-reason]", str(OutcomeReason.objects.get(code="rival_low_price").pk))
    page.fill("textarea[name=note]", "对方低价中标，我方方案评分第二")
    page.click("[data-testid=close-submit]")
    page.wait_for_selector(f"[data-testid=stage-lost] [data-testid=opportunity-{losing.pk}]")
    losing.refresh_from_db()
    assert losing.stage == "lost" and losing.outcome_reason.code == "rival_low_price"
    shot(page, "sales-03-board-after-loss")

    # when they submit the third for review from its page with the tracking sheet
    page.goto(f"{live_server.url}/sales/opportunities/{reviewed.pk}/")
    page.click("[data-testid=submit-review]")
    page.wait_for_selector("[data-testid=review-form]")
    page.fill("textarea[name=brief]", "天河区重点制造企业，合作三年")
    page.fill("textarea[name=core_needs]", "新园区网络与视频会议一体化")
    page.fill("textarea[name=main_problems]", "采购部倾向竞争对手，专家评审未覆盖")
    page.fill("textarea[name=proposed_strategy]", "高层拜访，联合厂商做方案演示")
    page.click("[data-testid=review-submit]")
    page.wait_for_selector("[data-testid=review-opinions]")
    review = DealReview.objects.get(opportunity=reviewed)
    shot(page, "sales-04-review-submitted")

    # then the manager, then the director recommend, and the general manager decides
    for username, text in (("manager_a", "建议投入售前资源"), ("director", "同意，价格底线九折")):
        page.context.clear_cookies()
        page.goto(f"{live_server.url}/login/")
        log_in(page, username)
        page.goto(f"{live_server.url}/sales/reviews/{review.pk}/")
        page.fill("[data-testid=review-recommend-form] textarea", text)
        page.click("[data-testid=review-recommend]")
        page.wait_for_selector(f"[data-testid=review-opinions] >> text={text}")
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/login/")
    log_in(page, "gm")
    page.goto(f"{live_server.url}/sales/reviews/{review.pk}/")
    page.fill("[data-testid=review-decide-form] textarea[name=decision]", "同意开发，总经理参加高层会谈")
    page.click("[data-testid=review-decide]")
    page.wait_for_selector("[data-testid=review-follow-ups] [data-testid=follow-up]")
    review.refresh_from_db()
    assert review.status == "decided" and review.decided_by.username == "gm"
    assert Task.objects.filter(source_kind="review", source_id=review.pk, owner=org.specialist_a).exists()
    assert Opportunity.objects.get(pk=reviewed.pk).stage == "review"
    shot(page, "sales-05-review-decided")


def test_a_board_column_loads_its_next_cards_as_the_phone_scrolls_it(live_server, transactional_db, org, settings,
                                                                     browser_page, shot, log_in):
    from datetime import date, timedelta

    settings.LANGUAGE_CODE = "zh-hans"
    settings.KAM = {**settings.KAM, "BOARD_COLUMN_SIZE": 8}
    # given 30 deals in 接触 on one account
    account = AccountFactory(owner=org.specialist_a, name="广州天河智造科技有限公司")
    deals = [opportunity_create(actor=org.specialist_a, account=account, name=f"项目{n:02d}", amount=Decimal(10000 + n),
                                expected_close=date(2027, 1, 1) + timedelta(days=n), stage="contact")
             for n in range(30)]
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/login/")
    log_in(page, "spec_a")
    # when the specialist opens the board on a phone
    page.goto(f"{live_server.url}/sales/opportunities/board/")
    cards = page.locator("[data-testid=stage-contact] .kam-board-card")
    page.wait_for_selector(f"[data-testid=opportunity-{deals[0].pk}]")
    assert page.locator("[data-testid=stage-contact] [data-testid=stage-count]").inner_text() == "30"
    first = cards.count()
    assert first < 30
    shot(page, "sales-04-board-column-first-cards")
    # and scrolls the column to its end, again and again
    column = page.locator("[data-testid=stage-contact] [data-testid=column-cards]")
    for _ in range(20):
        if cards.count() == 30:
            break
        column.evaluate("e => { e.scrollTop = e.scrollHeight; e.scrollIntoView(false); }")
        page.mouse.wheel(0, 2000)
        page.wait_for_timeout(300)
    # then every deal is there once, in order of expected close, and nothing more is asked for
    assert cards.count() == 30
    shown = [int(pk) for pk in cards.evaluate_all("els => els.map(e => e.dataset.pk)")]
    assert shown == [d.pk for d in deals]
    assert page.locator("[data-testid=stage-contact] [data-testid=column-more]").count() == 0
    shot(page, "sales-05-board-column-all-cards")
