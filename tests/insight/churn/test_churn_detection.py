"""Churn detection on hand-built histories: each definition at its boundary, the sweep's
idempotence, recovery, and the amounts and evidence an event keeps."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from factories import AccountFactory
from kam.accounts.models import Account
from kam.accounts.services import team_member_add
from kam.core.errors import NotVisible, PermissionDenied, ValidationFailed
from kam.insight.churn.services import churn_mark, churn_sweep
from kam.insight.models import ChurnDefinition, ChurnEvent
from kam.sales.models import Competitor

from ..churn_history import month, monthly, revenue

pytestmark = pytest.mark.django_db


def _only(code: str) -> ChurnDefinition:
    """Switch off every definition but `code`."""
    ChurnDefinition.objects.exclude(code=code).update(is_active=False)
    return ChurnDefinition.objects.get(code=code)


def _drop(drop=50, base=6, recent=3):
    d = _only("spend-drop")
    d.params = {"drop_percent": drop, "baseline_months": base, "recent_months": recent}
    d.save()
    return d


AS_OF = date(2026, 7, 15)  # recent window 2026-04…06, baseline 2025-10…2026-03


def test_spend_drop_exactly_at_the_threshold_churns_and_one_fen_more_does_not(org):
    # given a baseline of 1,000.00 a month and recent spend of exactly half (1,500.00 in 3
    # months), and a second account whose recent spend is one fen more
    _drop()
    at = AccountFactory(owner=org.specialist_a)
    above = AccountFactory(owner=org.specialist_a)
    monthly(at, month(2025, 10), [1000] * 6 + [500, 500, 500])
    monthly(above, month(2025, 10), [1000] * 6 + [500, 500, "500.01"])
    # when the sweep runs
    result = churn_sweep(as_of=AS_OF)
    # then only the first churned, with its averages, a year's loss and the months used
    event = ChurnEvent.objects.get()
    assert result["created"] == 1
    assert event.account_id == at.pk and event.detected_on == AS_OF
    assert (event.baseline_amount, event.recent_amount, event.amount_lost) == (
        Decimal("1000.00"), Decimal("500.00"), Decimal("6000.00"))
    assert event.evidence["baseline_months"] == ["2025-10", "2026-03"]
    assert event.evidence["recent_months"] == ["2026-04", "2026-06"]
    assert event.evidence["threshold"] == "500.00" and event.evidence["baseline_total"] == "6000.00"
    assert event.reason_id is None


def test_spend_drop_reads_full_months_before_the_month_of_as_of(org):
    # given spend stopping in July: July is the month of as_of and does not count
    _drop()
    a = AccountFactory(owner=org.specialist_a)
    monthly(a, month(2025, 10), [1000] * 9 + [0])
    assert churn_sweep(as_of=AS_OF)["created"] == 0
    # a month later the recent window is 05…07, with 1,000 + 1,000 + 0 = 666.67 a month: above 500
    assert churn_sweep(as_of=date(2026, 8, 1))["created"] == 0
    # two months later, 06…08 = 1,000, 0, 0 → 333.33 against a baseline (2025-12…2026-05) of 1,000
    assert churn_sweep(as_of=date(2026, 9, 1))["created"] == 1
    event = ChurnEvent.objects.get()
    assert event.recent_amount == Decimal("333.33") and event.amount_lost == Decimal("8000.00")


def test_spend_drop_needs_a_positive_baseline(org):
    _drop()
    a = AccountFactory(owner=org.specialist_a)
    monthly(a, month(2026, 4), [0, 0, 0])  # nothing before, nothing now
    assert churn_sweep(as_of=AS_OF)["created"] == 0


def test_no_revenue_exactly_n_days_churns_and_n_minus_one_does_not(org):
    # given N = 120 days and as_of 2026-07-15 (120 days after 2026-03-17): one account's last
    # revenue on 03-17 (a zero line after it is no revenue), another's on 03-18, one never billed
    d = _only("no-revenue")
    assert d.params == {"days": 120}
    exact = AccountFactory(owner=org.specialist_a)
    within = AccountFactory(owner=org.specialist_a)
    AccountFactory(owner=org.specialist_a)
    as_of = date(2026, 7, 15)
    monthly(exact, month(2025, 4), [1200] * 12)  # 2025-04-10 … 2026-03-10
    revenue(exact, {date(2026, 3, 17): 300, date(2026, 5, 1): 0})
    revenue(within, {date(2026, 3, 18): 100})
    # when the sweep runs
    churn_sweep(as_of=as_of)
    # then only the first churned; its baseline is the 12 months 2025-04…2026-03 (14,700 / 12)
    event = ChurnEvent.objects.get()
    assert event.account_id == exact.pk
    assert (event.baseline_amount, event.recent_amount, event.amount_lost) == (
        Decimal("1225.00"), Decimal("0.00"), Decimal("14700.00"))
    assert event.evidence["last_revenue_on"] == "2026-03-17" and event.evidence["days_without_revenue"] == 120
    assert event.evidence["baseline_months"] == ["2025-04", "2026-03"]
    # a day earlier the first account had 119 days without revenue: nothing
    ChurnEvent.objects.all().delete()
    assert churn_sweep(as_of=date(2026, 7, 14))["created"] == 0


def test_the_sweep_is_idempotent_and_recovery_closes(org):
    # given an account that stopped buying
    _only("no-revenue")
    a = AccountFactory(owner=org.specialist_a)
    monthly(a, month(2025, 1), [1000] * 12)  # last line 2025-12-10
    first = churn_sweep(as_of=date(2026, 6, 1))
    again = churn_sweep(as_of=date(2026, 6, 1))
    later = churn_sweep(as_of=date(2026, 6, 2))
    assert (first["created"], again["created"], later["created"]) == (1, 0, 0)
    assert ChurnEvent.objects.count() == 1
    # when revenue comes back
    revenue(a, {date(2026, 6, 5): 800})
    closed = churn_sweep(as_of=date(2026, 6, 10))
    # then the event closes that day, and nothing new opens
    event = ChurnEvent.objects.get()
    assert closed == {"created": 0, "recovered": 1, "definitions": 1}
    assert event.recovered_on == date(2026, 6, 10)
    assert churn_sweep(as_of=date(2026, 6, 10)) == {"created": 0, "recovered": 0, "definitions": 1}
    # and when it stops again for 120 days, a second event opens
    assert churn_sweep(as_of=date(2026, 10, 3))["created"] == 1
    assert ChurnEvent.objects.filter(recovered_on__isnull=True).count() == 1


def test_spend_drop_recovers_above_the_events_threshold(org):
    # given a churned account (baseline 1,000, threshold 500)
    _drop()
    a = AccountFactory(owner=org.specialist_a)
    monthly(a, month(2025, 10), [1000] * 6 + [400, 400, 400, 600, 700])
    assert churn_sweep(as_of=AS_OF)["created"] == 1
    # recent 05…07 = (400 + 400 + 600) / 3 = 466.67 ≤ 500: still open
    assert churn_sweep(as_of=date(2026, 8, 2))["recovered"] == 0
    # recent 06…08 = (400 + 600 + 700) / 3 = 566.67 > 500: recovered, though the new baseline
    # (2025-12…2026-05) would not make it churn anyway
    assert churn_sweep(as_of=date(2026, 9, 2)) == {"created": 0, "recovered": 1, "definitions": 1}


def test_a_switched_off_definition_detects_nothing(org):
    d = _drop()
    d.is_active = False
    d.save()
    a = AccountFactory(owner=org.specialist_a)
    monthly(a, month(2025, 10), [1000] * 6 + [0, 0, 0])
    assert churn_sweep(as_of=AS_OF) == {"created": 0, "recovered": 0, "definitions": 0}


def test_one_event_per_definition_and_deleted_accounts_are_skipped(org):
    # given an account that both fell and stopped, and a deleted one that stopped
    ChurnDefinition.objects.filter(code="no-revenue").update(params={"days": 30})
    a = AccountFactory(owner=org.specialist_a)
    gone = AccountFactory(owner=org.specialist_a)
    monthly(a, month(2025, 10), [1000] * 6)
    monthly(gone, month(2025, 10), [1000] * 6)
    Account.objects.filter(pk=gone.pk).update(deleted_at="2026-05-01T00:00:00Z")
    churn_sweep(as_of=AS_OF)
    assert sorted(ChurnEvent.objects.values_list("account_id", "definition__code")) == [
        (a.pk, "no-revenue"), (a.pk, "spend-drop")]


def test_a_definition_with_broken_parameters_is_skipped_not_fatal(org):
    ChurnDefinition.objects.filter(code="spend-drop").update(params={"drop_percent": 0})
    ChurnDefinition.objects.filter(code="no-revenue").update(params={"days": 30})
    a = AccountFactory(owner=org.specialist_a)
    monthly(a, month(2025, 10), [1000] * 6)
    assert churn_sweep(as_of=AS_OF) == {"created": 1, "recovered": 0, "definitions": 1, "skipped": ["spend-drop"]}


def test_marks_by_the_team_and_managers_and_refusals(org):
    rival = Competitor.objects.filter(is_active=True).first()
    a = AccountFactory(owner=org.specialist_a)
    b = AccountFactory(owner=org.specialist_a)
    monthly(a, month(2025, 6), [2400] * 12)  # 2025-06…2026-05
    # a team member from another office may mark; the baseline is the 12 months before June
    team_member_add(actor=org.specialist_a, account=a, user=org.specialist_a2, team_role="backup")
    marked = churn_mark(actor=org.specialist_a2, account=a, competitor=rival, on=date(2026, 6, 3))
    assert (marked.baseline_amount, marked.amount_lost, marked.recorded_by_id) == (
        Decimal("2400.00"), Decimal("28800.00"), org.specialist_a2.pk)
    # the branch's manager may too; the other branch's specialist does not see the account
    assert churn_mark(actor=org.manager_a, account=b, competitor=rival.pk, on=date(2026, 6, 3)).account_id == b.pk
    with pytest.raises(NotVisible):
        churn_mark(actor=org.specialist_b, account=a.pk, competitor=rival, on=date(2026, 6, 3))
    with pytest.raises(PermissionDenied) as refused:
        churn_mark(actor=org.analyst_hq, account=a, competitor=rival, on=date(2026, 6, 3))
    assert "account" in refused.value.errors
    # switched off: refused, naming the competitor field
    ChurnDefinition.objects.filter(code="competitor").update(is_active=False)
    c = AccountFactory(owner=org.specialist_a)
    with pytest.raises(ValidationFailed) as off:
        churn_mark(actor=org.specialist_a, account=c, competitor=rival, on=date(2026, 6, 3))
    assert "competitor" in off.value.errors


def test_the_sweep_leaves_competitor_marks_alone(org):
    a = AccountFactory(owner=org.specialist_a)
    monthly(a, month(2025, 6), [1000] * 14)  # still billing through July
    churn_mark(actor=org.specialist_a, account=a, competitor=Competitor.objects.first(), on=date(2026, 6, 3))
    churn_sweep(as_of=date(2026, 8, 2))
    assert ChurnEvent.objects.get().recovered_on is None


def test_an_event_is_dated_when_the_spend_fell_or_stopped_not_when_it_was_found(org):
    from kam.insight.churn.rates import churn_rates

    _only("no-revenue")
    stopped = AccountFactory(owner=org.specialist_a)
    monthly(stopped, month(2025, 1), [1000] * 12)  # last line 2025-12-10
    churn_sweep(as_of=date(2026, 6, 1))
    event = ChurnEvent.objects.get(account=stopped)
    assert (event.detected_on, event.churned_on) == (date(2026, 6, 1), date(2025, 12, 11))
    # the rates count it in December, when it stopped, and the month it was found has no spike
    rates = churn_rates(user=org.admin, start=date(2025, 12, 1), end=date(2026, 6, 30), by="month")
    churned = {p.label: p.churned for p in rates.periods}
    assert churned["2025-12"] == 1 and churned["2026-06"] == 0

    ChurnDefinition.objects.filter(code="spend-drop").update(is_active=True)
    _drop()
    fell = AccountFactory(owner=org.specialist_a)
    monthly(fell, month(2025, 10), [1000] * 6 + [100, 100, 100])
    churn_sweep(as_of=AS_OF)  # the recent window is 2026-04…06
    assert ChurnEvent.objects.get(account=fell).churned_on == date(2026, 4, 1)
