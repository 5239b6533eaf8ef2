"""Each early-warning rule fires exactly at its threshold and not one unit before, on
hand-built data with explicit dates."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from factories import AccountFactory, ContactFactory
from kam.accounts.models import Account, Contact
from kam.activities.models import ServiceStandard
from kam.core.errors import ValidationFailed
from kam.insight.warnings.rules import clean_params, describe
from kam.sales.models import Competitor, OutcomeReason, Rival, RivalStatus, Stage
from kam.sales.opportunities.services import opportunity_create

from ..warning_world import contact_on, fires, months, score, survey, tiers

pytestmark = pytest.mark.django_db
AS_OF = date(2026, 7, 15)


def test_spend_drop_fires_at_the_drop_percent_and_not_one_percent_before(org):
    # recent = the 3 whole months before July (Apr–Jun), baseline = the 6 before those (Oct 2025–Mar 2026)
    at, before = AccountFactory(owner=org.specialist_a), AccountFactory(owner=org.specialist_a)
    months(at, date(2025, 10, 1), [1000] * 6 + [700] * 3)  # down exactly 30 %
    months(before, date(2025, 10, 1), [1000] * 6 + [710] * 3)  # down 29 %
    fired = fires("spend_drop", AS_OF)
    assert set(fired) == {at.pk}
    assert fired[at.pk]["baseline"] == "1000.00" and fired[at.pk]["recent"] == "700.00"
    assert fired[at.pk]["drop_percent"] == 30.0
    assert fired[at.pk]["recent_from"] == "2026-04-01" and fired[at.pk]["recent_to"] == "2026-06-30"
    # July's own revenue does not count yet; with drop_percent 29 both fire
    assert set(fires("spend_drop", AS_OF, drop_percent=29)) == {at.pk, before.pk}


def test_spend_drop_needs_baseline_spend(org):
    new = AccountFactory(owner=org.specialist_a)
    months(new, date(2026, 4, 1), [500, 500, 500])
    assert fires("spend_drop", AS_OF) == {}


def test_payment_overdue_fires_at_the_minimum_and_share_of_credit(org):
    at, below, other = (AccountFactory(owner=org.specialist_a) for _ in range(3))
    Account.objects.filter(pk=at.pk).update(overdue_amount=Decimal("1000"))
    Account.objects.filter(pk=below.pk).update(overdue_amount=Decimal("999.99"), receivables_over_90_days=Decimal("500"))
    Account.objects.filter(pk=other.pk).update(receivables_over_90_days=Decimal("5000"), credit_limit=Decimal("20000"))
    assert set(fires("payment_overdue", AS_OF)) == {at.pk, other.pk}
    # with a share of 25 % of the credit limit: 5000 of 20000 is exactly 25 %; 24.99 % would not be
    assert set(fires("payment_overdue", AS_OF, share_of_credit_percent=25)) == {at.pk, other.pk}
    Account.objects.filter(pk=other.pk).update(receivables_over_90_days=Decimal("4999.99"))
    assert set(fires("payment_overdue", AS_OF, share_of_credit_percent=25)) == {at.pk}


@pytest.fixture
def visits_only(org):
    """K1 asks for 2 visits a quarter (46 days allowed) and, here, no calls."""
    import importlib

    from django.apps import apps

    from kam.tiering.models import Scheme

    if not ServiceStandard.objects.exists():
        importlib.import_module("kam.activities.migrations.0002_service_standards").seed(apps, None)
    scheme = Scheme.objects.get(code="monthly-spend")
    ServiceStandard.objects.filter(scheme=scheme, tier="K1").update(calls=0)
    return scheme


def test_no_contact_fires_one_day_past_the_allowed_gap_plus_grace(org, visits_only):
    a, b, c = (AccountFactory(owner=org.specialist_a) for _ in range(3))
    untiered = AccountFactory(owner=org.specialist_a)
    tiers(visits_only, date(2025, 12, 31), {a: "K1", b: "K1", c: "K1"})
    contact_on(a, "visit", AS_OF - timedelta(days=47), org.specialist_a)  # 47 days > 46: overdue
    contact_on(b, "visit", AS_OF - timedelta(days=46), org.specialist_a)  # exactly the gap: not yet
    contact_on(untiered, "visit", AS_OF - timedelta(days=400), org.specialist_a)
    fired = fires("no_contact", AS_OF)
    assert set(fired) == {a.pk, c.pk}  # c was never visited
    assert fired[a.pk]["last_contact"] == (AS_OF - timedelta(days=47)).isoformat()
    assert fired[a.pk]["allowed_days"] == 46 and fired[c.pk]["last_contact"] is None
    # with 10 days' grace a is within gap + grace (47 ≤ 56); 57 days would not be
    assert set(fires("no_contact", AS_OF, grace_days=10)) == {c.pk}
    contact_on(b, "meeting", AS_OF - timedelta(days=57), org.specialist_a)
    assert set(fires("no_contact", AS_OF + timedelta(days=11), grace_days=10)) == {a.pk, b.pk, c.pk}


def test_key_contact_left_fires_after_the_handover_hours(org, settings):
    a = AccountFactory(owner=org.specialist_a)
    boss = ContactFactory(actor=org.specialist_a, account=a, name="李总", decision_role="decision_maker", is_key=True)
    Contact.objects.filter(pk=boss.pk).update(status="left", left_on=date(2026, 7, 1))
    # 24 hours: left on the 1st, 24 hours passed on the 2nd (not more than 24), fires on the 3rd
    assert fires("key_contact_left", date(2026, 7, 2)) == {}
    fired = fires("key_contact_left", date(2026, 7, 3))
    assert fired[a.pk]["contacts"] == ["李总"] and fired[a.pk]["left_on"] == "2026-07-01"
    # a successor named: quiet
    heir = ContactFactory(actor=org.specialist_a, account=a, name="王总", decision_role="decision_maker")
    Contact.objects.filter(pk=boss.pk).update(successor=heir)
    assert fires("key_contact_left", date(2026, 7, 3)) == {}
    # a contact who is not key: quiet
    Contact.objects.filter(pk=boss.pk).update(successor=None, is_key=False)
    assert fires("key_contact_left", date(2026, 7, 3)) == {}


def test_competitor_quote_on_an_open_deal_only(org):
    a, b = AccountFactory(owner=org.specialist_a), AccountFactory(owner=org.specialist_a)
    rival_co = Competitor.objects.create(code="rival-x", name="对手甲") if not Competitor.objects.exists() \
        else Competitor.objects.first()
    deal_a = opportunity_create(actor=org.specialist_a, account=a, name="专线扩容", amount=Decimal("250000"),
                                expected_close=date(2026, 12, 31))
    deal_b = opportunity_create(actor=org.specialist_a, account=b, name="云专线", amount=Decimal("90000"),
                                expected_close=date(2026, 12, 31))
    Rival.objects.create(opportunity=deal_a, competitor=rival_co, quote=Decimal("230000"))
    Rival.objects.create(opportunity=deal_b, competitor=rival_co, quote=None)  # no quote
    fired = fires("competitor_quote", AS_OF)
    assert set(fired) == {a.pk} and fired[a.pk]["quote"] == "230000.00"
    Rival.objects.filter(opportunity=deal_a).update(status=RivalStatus.DROPPED)
    assert fires("competitor_quote", AS_OF) == {}
    Rival.objects.filter(opportunity=deal_a).update(status=RivalStatus.LEADING)
    type(deal_a).objects.filter(pk=deal_a.pk).update(stage=Stage.LOST, closed_on=AS_OF,
                                                       outcome_reason=OutcomeReason.objects.first())
    assert fires("competitor_quote", AS_OF) == {}


def test_p_alive_low_and_fall_at_their_thresholds(org):
    at, below, fell, fell_less = (AccountFactory(owner=org.specialist_a) for _ in range(4))
    score(at, 0.3)  # at the threshold: not below it
    score(below, 0.29)
    score(fell, 0.5, before=0.8)  # fell 0.3: exactly the drop
    score(fell_less, 0.41, before=0.7)  # fell 0.29
    assert set(fires("p_alive_low", AS_OF)) == {below.pk}
    assert set(fires("p_alive_fall", AS_OF)) == {fell.pk}
    assert fires("p_alive_fall", AS_OF)[fell.pk] == {"p_alive": 0.5, "p_alive_before": 0.8, "drop": 0.3}


def test_satisfaction_drop_and_below(org):
    dropped, nearly, low, fine = (AccountFactory(owner=org.specialist_a) for _ in range(4))
    survey(dropped, date(2026, 1, 10), 9)
    survey(dropped, date(2026, 6, 10), 7)  # fell 2: fires
    survey(nearly, date(2026, 1, 10), 9)
    survey(nearly, date(2026, 6, 10), "7.1")  # fell 1.9
    survey(low, date(2026, 6, 10), "5.9")  # below 6
    survey(fine, date(2026, 6, 10), 6)  # at 6: not below
    survey(fine, date(2026, 8, 1), 1)  # after the day evaluated: not read
    fired = fires("satisfaction_drop", AS_OF)
    assert set(fired) == {dropped.pk, low.pk}
    assert fired[dropped.pk]["previous"] == "9.0" and fired[dropped.pk]["score"] == "7.0"


def test_deleted_accounts_are_left_out(org):
    gone = AccountFactory(owner=org.specialist_a)
    score(gone, 0.01)
    Account.objects.filter(pk=gone.pk).update(deleted_at=timezone.now())
    assert fires("p_alive_low", AS_OF) == {}


def test_params_are_checked_naming_the_field():
    assert clean_params("spend_drop", {"drop_percent": "40", "baseline_months": 6, "recent_months": "2"}) == {
        "drop_percent": 40, "baseline_months": 6, "recent_months": 2}
    with pytest.raises(ValidationFailed) as bad:
        clean_params("spend_drop", {"drop_percent": "150", "baseline_months": 6, "recent_months": 3})
    assert "params.drop_percent" in bad.value.errors
    with pytest.raises(ValidationFailed) as bad:
        clean_params("p_alive_low", {"threshold": "abc"})
    assert "params.threshold" in bad.value.errors
    with pytest.raises(ValidationFailed) as bad:
        clean_params("payment_overdue", {"min_amount": "NaN", "share_of_credit_percent": 0})
    assert "params.min_amount" in bad.value.errors


def test_evidence_reads_as_a_sentence():
    text = describe("payment_overdue", {"overdue": "58000.00", "over_90_days": "1234.5", "credit_limit": None})
    assert "58,000.00" in text and "1,234.50" in text
    text = describe("p_alive_fall", {"p_alive": 0.5, "p_alive_before": 0.8, "drop": 0.3})
    assert "80" in text and "50" in text
    assert "李总" in describe("key_contact_left", {"contacts": ["李总"], "left_on": "2026-07-01", "handover_hours": 24})
