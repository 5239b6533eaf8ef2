"""Opportunity stages: history rows, probabilities, a loss without reason refused."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kam.core.errors import NotVisible, ValidationFailed
from kam.sales.models import OutcomeReason, StageChange
from kam.sales.opportunities.services import opportunity_close, opportunity_move, opportunity_reopen
from kam.sales.opportunities.stages import stage_probabilities, weighted


def test_every_stage_entered_is_a_history_row(org, accounts, open_opportunity):
    opp = open_opportunity(org.specialist_a, accounts.a)
    opportunity_move(actor=org.specialist_a, opportunity=opp, stage="design")
    opportunity_move(actor=org.specialist_a, opportunity=opp, stage="tender")
    price = OutcomeReason.objects.get(code="price")
    opportunity_close(actor=org.specialist_a, opportunity=opp, outcome="won", reason=price, note="报价更优")
    moves = list(StageChange.objects.filter(opportunity=opp).values_list("from_stage", "to_stage"))
    assert moves == [("", "contact"), ("contact", "design"), ("design", "tender"), ("tender", "won")]
    opp.refresh_from_db()
    assert opp.stage == "won" and opp.outcome_reason == price and opp.closed_on is not None


def test_losing_without_a_reason_or_note_is_refused_and_nothing_changes(org, accounts, open_opportunity):
    opp = open_opportunity(org.specialist_a, accounts.a, stage="tender")
    with pytest.raises(ValidationFailed) as refused:
        opportunity_close(actor=org.specialist_a, opportunity=opp, outcome="lost", reason=None, note="  ")
    assert set(refused.value.errors) == {"reason", "note"}
    opp.refresh_from_db()
    assert opp.stage == "tender" and StageChange.objects.filter(opportunity=opp).count() == 1


def test_a_win_only_reason_cannot_explain_a_loss(org, accounts, open_opportunity):
    opp = open_opportunity(org.specialist_a, accounts.a)
    cancelled = OutcomeReason.objects.get(code="cancelled")  # applies to losses only
    with pytest.raises(ValidationFailed):
        opportunity_close(actor=org.specialist_a, opportunity=opp, outcome="won", reason=cancelled, note="x")
    opportunity_close(actor=org.specialist_a, opportunity=opp, outcome="lost", reason=cancelled, note="预算取消")
    opportunity_reopen(actor=org.specialist_a, opportunity=opp, stage="review")
    opp.refresh_from_db()
    assert opp.stage == "review" and opp.outcome_reason is None and opp.closed_on is None


def test_another_branch_cannot_move_an_opportunity(org, accounts, open_opportunity):
    opp = open_opportunity(org.specialist_a, accounts.a)
    for outsider in (org.specialist_b, org.manager_b, org.specialist_a2):
        with pytest.raises(NotVisible):
            opportunity_move(actor=outsider, opportunity=opp, stage="design")
    opportunity_move(actor=org.manager_a, opportunity=opp, stage="design")


def test_stage_probabilities_come_from_settings_and_weight_the_amount(settings):
    assert stage_probabilities()["tender"] == Decimal("0.7")
    assert weighted(Decimal("250000"), "review") == Decimal("125000.00")
    # half a fen rounds up (四舍五入), not to the even fen
    assert weighted(Decimal("0.25"), "contact") == Decimal("0.03")
    settings.KAM = {**settings.KAM, "OPPORTUNITY_STAGE_PROBABILITIES":
                    "contact:5,design:20,review:40,tender:80,won:100,lost:0"}
    assert weighted(Decimal("250000"), "tender") == Decimal("200000.00")
    settings.KAM = {**settings.KAM, "OPPORTUNITY_STAGE_PROBABILITIES": "contact:5,design:20"}
    with pytest.raises(ValueError, match="review"):
        stage_probabilities()


# --- editing, buying centre, competitors -----------------------------------------------------------


def test_editing_needs_the_version_read_and_an_owner_the_editor_may_assign(org, accounts, open_opportunity):
    from kam.core.errors import Conflict
    from kam.sales.opportunities.services import opportunity_update

    opp = open_opportunity(org.specialist_a, accounts.a)
    # given someone moved it since it was read (version 1 → 2)
    opportunity_move(actor=org.manager_a, opportunity=opp, stage="design")
    # when the stale version is sent, nothing changes
    with pytest.raises(Conflict):
        opportunity_update(actor=org.specialist_a, opportunity=opp, version=1, amount="300000")
    opp.refresh_from_db()
    assert opp.amount == Decimal("250000.00")
    # a specialist cannot hand the deal to a colleague; a bad amount is named
    with pytest.raises(ValidationFailed) as refused:
        opportunity_update(actor=org.specialist_a, opportunity=opp, version=2, owner=org.specialist_a2,
                           amount="-5")
    assert set(refused.value.errors) == {"owner", "amount"}
    # the manager can, and the version moves on
    opportunity_update(actor=org.manager_a, opportunity=opp, version=2, owner=org.specialist_a2,
                       amount="300000.5", name=" 专线扩容二期 ")
    opp.refresh_from_db()
    assert (opp.owner, opp.amount, opp.name, opp.version) == (org.specialist_a2, Decimal("300000.50"), "专线扩容二期", 3)
    # the stage is not a field that can be edited
    with pytest.raises(ValidationFailed) as refused:
        opportunity_update(actor=org.manager_a, opportunity=opp, version=3, stage="won")
    assert set(refused.value.errors) == {"stage"}


def test_buying_centre_takes_only_contacts_of_the_deal_s_account(org, accounts, open_opportunity):
    from factories import ContactFactory
    from kam.sales.models import BuyingCentreMember
    from kam.sales.opportunities.services import buying_centre_add, buying_centre_remove

    opp = open_opportunity(org.specialist_a, accounts.a)
    own = ContactFactory(actor=org.specialist_a, account=accounts.a, name="采购部刘经理")
    other = ContactFactory(actor=org.specialist_a2, account=accounts.a2, name="别家客户的人")
    with pytest.raises(ValidationFailed) as refused:
        buying_centre_add(actor=org.manager_a, opportunity=opp, contact=other, role="procurement")
    assert set(refused.value.errors) == {"contact"}
    assert not BuyingCentreMember.objects.exists()
    member = buying_centre_add(actor=org.specialist_a, opportunity=opp, contact=own, role="procurement",
                               note="负责比价")
    # the same contact in the same role twice is refused; another role is fine (a veto expert who also buys)
    with pytest.raises(ValidationFailed):
        buying_centre_add(actor=org.specialist_a, opportunity=opp, contact=own, role="procurement")
    buying_centre_add(actor=org.specialist_a, opportunity=opp, contact=own, role="expert")
    with pytest.raises(ValidationFailed) as refused:
        buying_centre_add(actor=org.specialist_a, opportunity=opp, contact=own, role="janitor")
    assert set(refused.value.errors) == {"role"}
    # another branch cannot touch it
    with pytest.raises(NotVisible):
        buying_centre_remove(actor=org.manager_b, opportunity=opp, member_id=member.pk)
    buying_centre_remove(actor=org.specialist_a, opportunity=opp, member_id=member.pk)
    assert list(BuyingCentreMember.objects.values_list("role", flat=True)) == ["expert"]


def test_rivals_come_from_the_active_list_with_quotes_not_negative(org, accounts, open_opportunity):
    from kam.sales.models import Competitor, Rival
    from kam.sales.opportunities.services import rival_add, rival_remove, rival_update

    opp = open_opportunity(org.specialist_a, accounts.a)
    cmcc = Competitor.objects.get(code="cmcc")
    retired = Competitor.objects.get(code="cbn")
    retired.is_active = False
    retired.save()
    with pytest.raises(ValidationFailed) as refused:
        rival_add(actor=org.specialist_a, opportunity=opp, competitor=retired)
    assert set(refused.value.errors) == {"competitor"}
    with pytest.raises(ValidationFailed) as refused:
        rival_add(actor=org.specialist_a, opportunity=opp, competitor=cmcc, quote="-1")
    assert set(refused.value.errors) == {"quote"}
    rival = rival_add(actor=org.specialist_a, opportunity=opp, competitor=cmcc, product="云专线", quote="230000")
    assert rival.quote == Decimal("230000.00") and rival.status == "active"
    with pytest.raises(ValidationFailed):
        rival_add(actor=org.specialist_a, opportunity=opp, competitor=cmcc)
    rival_update(actor=org.specialist_a, opportunity=opp, rival_id=rival.pk, status="leading", quote=None)
    rival.refresh_from_db()
    assert rival.status == "leading" and rival.quote is None
    with pytest.raises(ValidationFailed) as refused:
        rival_update(actor=org.specialist_a, opportunity=opp, rival_id=rival.pk, status="asleep")
    assert set(refused.value.errors) == {"status"}
    with pytest.raises(NotVisible):
        rival_remove(actor=org.specialist_b, opportunity=opp, rival_id=rival.pk)
    rival_remove(actor=org.specialist_a, opportunity=opp, rival_id=rival.pk)
    assert not Rival.objects.exists()


# --- the read side: totals, board, history ------------------------------------------------------


def test_totals_per_stage_weigh_the_amounts_with_the_configured_probabilities(org, accounts, open_opportunity,
                                                                              settings):
    from kam.sales.opportunities.selectors import opportunity_list, stage_totals

    open_opportunity(org.specialist_a, accounts.a, amount="100000")
    open_opportunity(org.specialist_a, accounts.a, amount="200000", stage="review")
    open_opportunity(org.specialist_a2, accounts.a2, amount="200000.20", stage="review")
    won = open_opportunity(org.specialist_a, accounts.a, amount="999999", stage="tender")
    opportunity_close(actor=org.specialist_a, opportunity=won, outcome="won",
                      reason=OutcomeReason.objects.get(code="price"), note="x")
    open_opportunity(org.specialist_b, accounts.b, amount="5000000", stage="tender")  # another branch
    pipeline = stage_totals(opportunity_list(user=org.manager_a))
    by_stage = {s.stage: s for s in pipeline.stages}
    assert [s.stage for s in pipeline.stages] == ["contact", "design", "review", "tender", "won", "lost"]
    assert (by_stage["review"].count, by_stage["review"].amount, by_stage["review"].weighted) == (
        2, Decimal("400000.20"), Decimal("200000.10"))
    assert by_stage["tender"].count == 0 and by_stage["won"].amount == Decimal("999999.00")
    assert pipeline.weighted == Decimal("10000.00") + Decimal("200000.10")
    assert pipeline.open_count == 3
    settings.KAM = {**settings.KAM, "OPPORTUNITY_STAGE_PROBABILITIES":
                    "contact:20,design:30,review:25,tender:70,won:100,lost:0"}
    pipeline = stage_totals(opportunity_list(user=org.manager_a))
    assert pipeline.weighted == Decimal("20000.00") + Decimal("100000.05")


def test_board_shows_recently_closed_deals_only(org, accounts, open_opportunity):
    from datetime import timedelta

    from django.utils import timezone

    from kam.sales.opportunities.selectors import board

    today = timezone.localdate()
    price = OutcomeReason.objects.get(code="price")
    recent = open_opportunity(org.specialist_a, accounts.a, name="近期输单")
    old = open_opportunity(org.specialist_a, accounts.a, name="半年前输单")
    opportunity_close(actor=org.specialist_a, opportunity=recent, outcome="lost", reason=price, note="x",
                      on=today - timedelta(days=10))
    opportunity_close(actor=org.specialist_a, opportunity=old, outcome="lost", reason=price, note="x",
                      on=today - timedelta(days=200))
    lost = {c.stage: c for c in board(user=org.specialist_a)}["lost"]
    assert [o.name for o in lost.cards] == ["近期输单"] and lost.total.count == 1
    lost = {c.stage: c for c in board(user=org.specialist_a, closed_days=365)}["lost"]
    assert [o.name for o in lost.cards] == ["近期输单", "半年前输单"]


def test_stage_history_counts_the_days_in_each_stage(org, accounts, open_opportunity):
    from datetime import datetime, timedelta

    from django.utils import timezone

    from kam.sales.opportunities.selectors import stage_history

    start = timezone.make_aware(datetime(2026, 3, 1, 9, 0))
    opp = open_opportunity(org.specialist_a, accounts.a, at=start)
    opportunity_move(actor=org.specialist_a, opportunity=opp, stage="design", at=start + timedelta(days=12))
    opportunity_close(actor=org.specialist_a, opportunity=opp, outcome="won", note="x",
                      reason=OutcomeReason.objects.get(code="price"), at=start + timedelta(days=40, hours=3))
    stays = stage_history(opp)
    assert [(s.stage, s.days) for s in stays] == [("contact", 12), ("design", 28), ("won", 0)]
    assert stays[1].by == org.specialist_a and stays[1].from_stage == "contact"
