"""Opportunity stages: history rows, probabilities, a loss without reason refused."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kam.core.errors import NotVisible, ValidationFailed
from kam.sales.models import OutcomeReason, StageChange
from kam.sales.opportunities import opportunity_close, opportunity_move, opportunity_reopen
from kam.sales.stages import stage_probabilities, weighted


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
    settings.KAM = {**settings.KAM, "OPPORTUNITY_STAGE_PROBABILITIES":
                    "contact:5,design:20,review:40,tender:80,won:100,lost:0"}
    assert weighted(Decimal("250000"), "tender") == Decimal("200000.00")
    settings.KAM = {**settings.KAM, "OPPORTUNITY_STAGE_PROBABILITIES": "contact:5,design:20"}
    with pytest.raises(ValueError, match="review"):
        stage_probabilities()
