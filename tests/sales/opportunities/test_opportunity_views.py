"""Opportunity pages: the board and its totals, moving by drag, closing with a reason, the
project page's buying centre and competitors, the list and its export, the account's card,
and another branch kept out of all of them."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from factories import ContactFactory
from kam.sales.models import (
    BuyingCentreMember,
    Competitor,
    Opportunity,
    OutcomeReason,
    Rival,
    StageChange,
)
from kam.sales.opportunities.services import opportunity_close, opportunity_move

HTMX = {"HTTP_HX_REQUEST": "true"}


def column(html: str, stage: str) -> str:
    """The text of one board column, as the user reads it."""
    match = re.search(rf'data-testid="stage-{stage}".*?</section>', html, re.S)
    assert match, f"no column {stage}"
    return match.group(0)


def test_board_columns_total_count_amount_and_weighted_amount(org, accounts, open_opportunity, client, settings):
    # given deals in several stages in branch A and one in branch B
    open_opportunity(org.specialist_a, accounts.a, name="专线", amount="100000")
    open_opportunity(org.specialist_a, accounts.a, name="云桌面", amount="200000", stage="review")
    open_opportunity(org.specialist_a2, accounts.a2, name="物联网", amount="300000", stage="review")
    open_opportunity(org.specialist_b, accounts.b, name="深圳数据中心", amount="9000000", stage="review")
    # when the branch A manager opens the board
    client.force_login(org.manager_a)
    html = client.get("/sales/opportunities/board/").content.decode()
    # then each column shows its count, amount and amount weighted by the stage's probability
    review = column(html, "review")
    assert 'data-testid="stage-count">2<' in review
    assert "500,000.00" in review and "250,000.00" in review  # 50 %
    assert "深圳数据中心" not in html
    contact = column(html, "contact")
    assert "100,000.00" in contact and "10,000.00" in contact  # 10 %
    assert "260,000.00" in re.search(r'data-testid="board-summary">(.*?)</div>', html, re.S).group(1)
    # and the probabilities are the configured ones
    settings.KAM = {**settings.KAM, "OPPORTUNITY_STAGE_PROBABILITIES":
                    "contact:10,design:30,review:40,tender:70,won:100,lost:0"}
    review = column(client.get("/sales/opportunities/board/").content.decode(), "review")
    assert "200,000.00" in review and "40%" in review


def test_board_filters_by_owner_and_marks_a_past_expected_close(org, accounts, open_opportunity, client):
    late = open_opportunity(org.specialist_a, accounts.a, name="逾期项目", expected_close=date(2020, 1, 1))
    other = open_opportunity(org.specialist_a2, accounts.a2, name="李四的项目")
    client.force_login(org.manager_a)
    html = client.get(f"/sales/opportunities/board/?owner={org.specialist_a.pk}").content.decode()
    assert f'data-testid="opportunity-{late.pk}"' in html and f'data-testid="opportunity-{other.pk}"' not in html
    card = re.search(rf'data-testid="opportunity-{late.pk}".*?</article>', html, re.S).group(0)
    assert 'data-overdue="1"' in card and "text-danger" in card


def test_dragging_a_card_moves_it_and_a_stale_card_is_refused_and_reloaded(org, accounts, open_opportunity,
                                                                           client):
    opp = open_opportunity(org.specialist_a, accounts.a)
    client.force_login(org.specialist_a)
    # when the card is dropped on 方案设计 (the board posts stage and the version it shows)
    response = client.post(f"/sales/opportunities/{opp.pk}/move/", {"stage": "design", "version": 1}, **HTMX)
    # then it moved, and the board comes back with the card in its new column
    assert response.status_code == 200
    opp.refresh_from_db()
    assert (opp.stage, opp.version) == ("design", 2)
    assert f'data-testid="opportunity-{opp.pk}"' in column(response.content.decode(), "design")
    # when a second tab still showing version 1 drags it to 招投标
    response = client.post(f"/sales/opportunities/{opp.pk}/move/", {"stage": "tender", "version": 1}, **HTMX)
    # then the move is refused with a message and the card is shown where it really is
    assert response.status_code == 412
    html = response.content.decode()
    assert 'data-testid="board-error"' in html and "changed this opportunity" in html
    assert f'data-testid="opportunity-{opp.pk}"' in column(html, "design")
    opp.refresh_from_db()
    assert opp.stage == "design"


def test_dropping_on_lost_is_not_a_move(org, accounts, open_opportunity, client):
    opp = open_opportunity(org.specialist_a, accounts.a)
    client.force_login(org.specialist_a)
    response = client.post(f"/sales/opportunities/{opp.pk}/move/", {"stage": "lost", "version": 1}, **HTMX)
    assert response.status_code == 422
    opp.refresh_from_db()
    assert opp.stage == "contact" and StageChange.objects.filter(opportunity=opp).count() == 1


def test_losing_without_a_reason_is_refused_with_nothing_changed(org, accounts, open_opportunity, client):
    opp = open_opportunity(org.specialist_a, accounts.a, stage="tender")
    client.force_login(org.specialist_a)
    # when lost is submitted without reason or note
    response = client.post(f"/sales/opportunities/{opp.pk}/close/", {"outcome": "lost", "version": 1, "note": ""})
    # then the form comes back naming both, and the deal is still in 招投标
    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-field-error="reason"' in html and 'data-field-error="note"' in html
    opp.refresh_from_db()
    assert (opp.stage, opp.closed_on, opp.version) == ("tender", None, 1)
    # when a reason that applies to losses and a note are given
    reason = OutcomeReason.objects.get(code="rival_low_price")
    response = client.post(f"/sales/opportunities/{opp.pk}/close/", {
        "outcome": "lost", "version": 1, "reason": reason.pk, "note": "对手报价低 15%",
        "next": "/sales/opportunities/board/?closed_days=30"})
    # then it is lost, back on the board it came from, with the reason on the project page
    assert response.status_code == 302 and response["Location"] == "/sales/opportunities/board/?closed_days=30"
    opp.refresh_from_db()
    assert (opp.stage, opp.outcome_reason, opp.outcome_note) == ("lost", reason, "对手报价低 15%")
    html = client.get(f"/sales/opportunities/{opp.pk}/").content.decode()
    assert "竞争对手低价" in html and "对手报价低 15%" in html and 'data-testid="reopen"' in html


def test_close_form_never_sends_the_user_off_site(org, accounts, open_opportunity, client):
    opp = open_opportunity(org.specialist_a, accounts.a)
    client.force_login(org.specialist_a)
    reason = OutcomeReason.objects.get(code="price")
    response = client.post(f"/sales/opportunities/{opp.pk}/close/", {
        "outcome": "won", "version": 1, "reason": reason.pk, "note": "价格优势", "next": "https://evil.example/"})
    assert response["Location"] == f"/sales/opportunities/{opp.pk}/"


def test_project_page_shows_history_and_takes_buying_centre_and_competitors(org, accounts, open_opportunity,
                                                                            client):
    opp = open_opportunity(org.specialist_a, accounts.a)
    opportunity_move(actor=org.specialist_a, opportunity=opp, stage="review")
    own = ContactFactory(actor=org.specialist_a, account=accounts.a, name="信息中心王主任")
    stranger = ContactFactory(actor=org.specialist_a2, account=accounts.a2, name="别家的采购")
    client.force_login(org.manager_a)
    html = client.get(f"/sales/opportunities/{opp.pk}/").content.decode()
    assert 'data-testid="stage-history"' in html and "Solution review" in html
    assert "信息中心王主任" in html and "别家的采购" not in html  # only the account's contacts are offered
    # a contact of another account is refused by name, nothing is written
    response = client.post(f"/sales/opportunities/{opp.pk}/buying-centre/",
                           {"contact": stranger.pk, "role": "procurement"})
    assert response.status_code == 422 and 'data-field-error="contact"' in response.content.decode()
    assert not BuyingCentreMember.objects.exists()
    response = client.post(f"/sales/opportunities/{opp.pk}/buying-centre/",
                           {"contact": own.pk, "role": "expert", "note": "有一票否决权"})
    assert response.status_code == 302
    assert BuyingCentreMember.objects.get().role == "expert"
    # a competitor with a negative quote is refused; a proper one is added and edited
    cmcc = Competitor.objects.get(code="cmcc")
    response = client.post(f"/sales/opportunities/{opp.pk}/rivals/", {"competitor": cmcc.pk, "quote": "-1",
                                                                      "status": "active"})
    assert response.status_code == 422 and not Rival.objects.exists()
    client.post(f"/sales/opportunities/{opp.pk}/rivals/", {"competitor": cmcc.pk, "product": "云专线",
                                                           "quote": "180000", "status": "active"})
    rival = Rival.objects.get()
    response = client.post(f"/sales/opportunities/{opp.pk}/rivals/{rival.pk}/",
                           {"product": "云专线", "quote": "175000", "status": "leading"})
    assert response.status_code == 302
    rival.refresh_from_db()
    assert (rival.quote, rival.status) == (Decimal("175000.00"), "leading")
    html = client.get(f"/sales/opportunities/{opp.pk}/").content.decode()
    assert "有一票否决权" in html and "175,000.00" in html and "Leading" in html
    # with our quote known, the page says how far theirs is from it
    client.post(f"/sales/opportunities/{opp.pk}/edit/", {"name": opp.name, "amount": "250000", "our_quote": "190000",
                                                         "expected_close": "2027-03-31", "version": 2})
    html = client.get(f"/sales/opportunities/{opp.pk}/").content.decode()
    assert re.search(r'data-testid="against-ours">\s*-15,000.00', html)


def test_new_opportunity_from_the_account_page_and_edit_with_the_version(org, accounts, client):
    client.force_login(org.specialist_a)
    html = client.get(f"/sales/opportunities/new/?account={accounts.a.pk}").content.decode()
    assert accounts.a.name in html  # the account is chosen already
    response = client.post("/sales/opportunities/new/", {
        "account": accounts.a.pk, "name": "视频会议系统", "stage": "contact", "amount": "88000",
        "expected_close": "2027-06-30"})
    assert response.status_code == 302, re.findall(r'invalid-feedback[^>]*>([^<]*)', response.content.decode())
    opp = Opportunity.objects.get(name="视频会议系统")
    assert response.status_code == 302 and (opp.owner, opp.amount) == (org.specialist_a, Decimal("88000.00"))
    # someone else moves it; the edit form read before that is refused
    opportunity_move(actor=org.manager_a, opportunity=opp, stage="design")
    response = client.post(f"/sales/opportunities/{opp.pk}/edit/", {
        "name": "视频会议系统", "amount": "99000", "expected_close": "2027-06-30", "version": 1})
    assert response.status_code == 412
    opp.refresh_from_db()
    assert opp.amount == Decimal("88000.00")
    response = client.post(f"/sales/opportunities/{opp.pk}/edit/", {
        "name": "视频会议系统", "amount": "99000", "expected_close": "2027-06-30", "version": 2})
    opp.refresh_from_db()
    assert response.status_code == 302 and opp.amount == Decimal("99000.00")
    # an account of another branch cannot be used
    response = client.post("/sales/opportunities/new/", {
        "account": accounts.b.pk, "name": "越界", "stage": "contact", "amount": "1", "expected_close": "2027-06-30"})
    assert response.status_code in (404, 422) and not Opportunity.objects.filter(name="越界").exists()


def test_list_filters_totals_and_export_the_filtered_rows(org, accounts, open_opportunity, client,
                                                          django_assert_max_num_queries):
    for i in range(30):
        open_opportunity(org.specialist_a, accounts.a, name=f"项目{i:02d}", amount=str(10000 * (i + 1)),
                         stage="review" if i % 2 else "contact")
    open_opportunity(org.specialist_b, accounts.b, name="深圳项目")
    client.force_login(org.manager_a)
    with django_assert_max_num_queries(14):
        response = client.get("/sales/opportunities/?stage=review&amount_min=100000")
    html = response.content.decode()
    assert "11 opportunities" in html  # review: odd i, amount ≥ 100000 → i = 9, 11, …, 29
    assert "深圳项目" not in html
    response = client.get("/sales/opportunities/export/?stage=review&amount_min=100000&format=xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content) if response.streaming
                                     else response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 12 and rows[0][2] == "project"
    assert {r[2] for r in rows[1:]} == {f"项目{i:02d}" for i in range(9, 30, 2)}
    assert {r[3] for r in rows[1:]} == {"Solution review"}


def test_the_account_card_lists_its_opportunities(org, accounts, open_opportunity, client):
    opp = open_opportunity(org.specialist_a, accounts.a, name="数据专线", amount="123456")
    open_opportunity(org.specialist_a2, accounts.a2, name="别家项目")
    client.force_login(org.specialist_a)
    page = client.get(f"/accounts/{accounts.a.pk}/").content.decode()
    assert f"/sales/accounts/{accounts.a.pk}/opportunities/" in page
    html = client.get(f"/sales/accounts/{accounts.a.pk}/opportunities/").content.decode()
    assert f'data-testid="account-opportunity-{opp.pk}"' in html and "123,456.00" in html and "Contact" in html
    assert "别家项目" not in html
    assert f"/sales/opportunities/new/?account={accounts.a.pk}" in html


@pytest.mark.parametrize("outsider", ["specialist_b", "manager_b", "specialist_a2"])
def test_another_branch_cannot_see_move_close_or_export(org, accounts, open_opportunity, client, outsider):
    opp = open_opportunity(org.specialist_a, accounts.a, name="天河机密项目", stage="tender")
    client.force_login(getattr(org, outsider))
    pk = opp.pk
    assert client.get(f"/sales/opportunities/{pk}/").status_code == 404
    assert client.get(f"/sales/opportunities/{pk}/edit/").status_code == 404
    assert client.post(f"/sales/opportunities/{pk}/move/", {"stage": "review", "version": 1}, **HTMX).status_code == 404
    reason = OutcomeReason.objects.get(code="price")
    assert client.post(f"/sales/opportunities/{pk}/close/", {"outcome": "lost", "reason": reason.pk,
                                                             "note": "x"}).status_code == 404
    assert client.post(f"/sales/opportunities/{pk}/rivals/", {"competitor": 1, "status": "active"}).status_code == 404
    assert client.get(f"/sales/accounts/{accounts.a.pk}/opportunities/").status_code == 404
    assert "天河机密项目" not in client.get("/sales/opportunities/board/").content.decode()
    assert "天河机密项目" not in client.get("/sales/opportunities/").content.decode()
    export = client.get("/sales/opportunities/export/?format=csv")
    assert "天河机密项目" not in b"".join(export.streaming_content).decode("utf-8-sig")
    opp.refresh_from_db()
    assert (opp.stage, opp.version) == ("tender", 1)


def test_board_closed_columns_reach_back_as_far_as_asked(org, accounts, open_opportunity, client):
    price = OutcomeReason.objects.get(code="price")
    old = open_opportunity(org.specialist_a, accounts.a, name="去年赢单")
    opportunity_close(actor=org.specialist_a, opportunity=old, outcome="won", reason=price, note="x",
                      on=timezone.localdate() - timedelta(days=120))
    client.force_login(org.specialist_a)
    assert "去年赢单" not in column(client.get("/sales/opportunities/board/").content.decode(), "won")
    html = client.get("/sales/opportunities/board/?closed_days=180").content.decode()
    assert "去年赢单" in column(html, "won")
    # a closed deal's card is not draggable
    card = re.search(rf'data-testid="opportunity-{old.pk}".*?>', html, re.S).group(0)
    assert 'draggable="true"' not in card


def test_reopen_puts_a_lost_deal_back_on_the_board(org, accounts, open_opportunity, client):
    opp = open_opportunity(org.specialist_a, accounts.a)
    opportunity_close(actor=org.specialist_a, opportunity=opp, outcome="lost", note="预算冻结",
                      reason=OutcomeReason.objects.get(code="cancelled"))
    client.force_login(org.specialist_a)
    response = client.post(f"/sales/opportunities/{opp.pk}/reopen/", {"stage": "tender"})
    assert response.status_code == 302
    opp.refresh_from_db()
    assert (opp.stage, opp.outcome_reason) == ("tender", None)


def test_the_board_reads_a_handful_of_queries_however_many_cards(org, accounts, open_opportunity, client,
                                                                 django_assert_max_num_queries):
    for i in range(40):
        open_opportunity(org.specialist_a, accounts.a, name=f"项目{i}", stage=("contact", "design", "review",
                                                                                "tender")[i % 4])
    client.force_login(org.manager_a)
    client.get("/sales/opportunities/board/")  # the first page of a session also reads what every page reads once
    with django_assert_max_num_queries(15):
        html = client.get("/sales/opportunities/board/").content.decode()
    assert html.count('class="card card-sm mb-2 kam-board-card') == 40


def test_each_board_column_pages_as_the_user_scrolls_without_skipping_or_repeating(
        org, accounts, open_opportunity, client, settings):
    settings.KAM = {**settings.KAM, "BOARD_COLUMN_SIZE": 4}
    # given eleven deals in design, some with the same expected close, one in review and one in branch B
    deals = [open_opportunity(org.specialist_a, accounts.a, name=f"设计项目{i}", stage="design",
                              expected_close=date(2027, 1, 1) + timedelta(days=i // 3)) for i in range(11)]
    open_opportunity(org.specialist_a, accounts.a, name="评审项目", stage="review")
    open_opportunity(org.specialist_b, accounts.b, name="深圳项目", stage="design")
    client.force_login(org.manager_a)
    html = client.get("/sales/opportunities/board/").content.decode()
    design = column(html, "design")
    # when the board opens, then each column shows its first four cards, its full count and a marker for more
    assert 'data-testid="stage-count">11<' in design and design.count("kam-board-card") == 4
    assert 'data-testid="column-more"' in design and 'hx-trigger="click, intersect once"' in design
    assert 'data-testid="column-more"' not in column(html, "review")
    # and scrolling to the marker fetches the next cards, then the next, until the column ends
    seen = re.findall(r'data-testid="opportunity-(\d+)"', design)
    more = re.search(r'hx-get="([^"]+)"', design).group(1).replace("&amp;", "&")
    pages = 1
    while more:
        part = client.get(more, **HTMX)
        assert part.status_code == 200
        body = part.content.decode()
        seen += re.findall(r'data-testid="opportunity-(\d+)"', body)
        found = re.search(r'hx-get="([^"]+)"', body)
        more = found.group(1).replace("&amp;", "&") if found else ""
        pages += 1
    # in the column's order, every deal of branch A once, none of branch B
    ordered = sorted(deals, key=lambda d: (d.expected_close, d.pk))
    assert [int(pk) for pk in seen] == [d.pk for d in ordered] and pages == 3


def test_a_board_column_keeps_its_filters_and_place_when_deals_are_added_meanwhile(
        org, accounts, open_opportunity, client, settings):
    settings.KAM = {**settings.KAM, "BOARD_COLUMN_SIZE": 2}
    mine = [open_opportunity(org.specialist_a, accounts.a, name=f"我的{i}", stage="tender",
                             expected_close=date(2027, 3, 1) + timedelta(days=i)) for i in range(4)]
    open_opportunity(org.specialist_a2, accounts.a2, name="李四投标", stage="tender", expected_close=date(2027, 3, 2))
    client.force_login(org.manager_a)
    html = client.get(f"/sales/opportunities/board/?owner={org.specialist_a.pk}").content.decode()
    more = re.search(r'hx-get="([^"]+)"', column(html, "tender")).group(1).replace("&amp;", "&")
    assert f"owner={org.specialist_a.pk}" in more
    # given a deal added before the marker's cards (an earlier close) while the user reads the first ones
    open_opportunity(org.specialist_a, accounts.a, name="新加的", stage="tender", expected_close=date(2027, 2, 1))
    body = client.get(more, **HTMX).content.decode()
    # then the next cards are the ones after the last shown, the owner's only
    assert re.findall(r'data-testid="opportunity-(\d+)"', body) == [str(mine[2].pk), str(mine[3].pk)]
    assert "李四投标" not in body and "新加的" not in body


def test_a_board_column_refuses_a_forged_cursor_and_an_unknown_stage(org, accounts, open_opportunity, client):
    client.force_login(org.specialist_a)
    bad = client.get("/sales/opportunities/board/design/?cursor=forged", **HTMX)
    assert bad.status_code == 400 and "cursor" in bad.content.decode()
    assert client.get("/sales/opportunities/board/nonsense/?cursor=x", **HTMX).status_code == 404
