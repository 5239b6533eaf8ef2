"""The value-potential scheme's potential axis from the stored model scores."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from kam.insight.models import AccountScore, ModelFit
from kam.tiering import services
from kam.tiering.explain import why
from kam.tiering.models import Scheme

from ..scoring_data import add_facts, quick_accounts

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 6, 30)


@pytest.fixture
def four(org):
    """Two years of flat monthly revenue: 1,000, 500, 400 and 100 yuan a month. In the
    12-month window: the first is core value (top 10 %), the second the rest of the top half;
    no growth on the window before for anyone."""
    accounts = quick_accounts([org.specialist_a] * 4, "V")
    months = [date(2024 + (6 + m) // 12, (6 + m) % 12 + 1, 1) for m in range(24)]
    add_facts([(acc, month, amount, "") for acc, amount in zip(accounts, [1000, 500, 400, 100], strict=True)
               for month in months])
    return accounts


def _scores(calibration_end: date, values: dict) -> ModelFit:
    fit = ModelFit.objects.create(window_start=date(2023, 7, 1), calibration_end=calibration_end,
                                  count_params={"r": 1, "alpha": 1, "a": 1, "b": 1}, count_log_likelihood=-1,
                                  customers=4, repeat_customers=4, scored_accounts=len(values))
    AccountScore.objects.bulk_create([
        AccountScore(account=account, fit=fit, frequency=23, recency=100, age=104, p_alive=0.9,
                     expected_purchases=12, expected_value=Decimal(value), scored_at=timezone.now())
        for account, value in values.items()])
    return fit


def _snapshot(org):
    scheme = Scheme.objects.get(code="value-potential")
    snapshot = services.snapshot_create(actor=org.admin, scheme=scheme, as_of=AS_OF)
    return snapshot, {e.account_id: e for e in snapshot.entries.all()}


def test_the_forecast_scaled_to_the_window_decides_high_potential(org, four, settings):
    # expected value over a 24-month horizon, halved for the 12-month window
    settings.KAM = {**settings.KAM, "INSIGHT_HORIZON_MONTHS": 24}
    _scores(AS_OF, {four[1]: "14400.00", four[2]: "9599.98"})
    snapshot, entries = _snapshot(org)
    second, third = entries[four[1].pk], entries[four[2].pk]
    assert (entries[four[0].pk].tier, second.tier, third.tier, entries[four[3].pk].tier) == \
        ("core", "potential", "optimise", "optimise")  # the third is outside the top half whatever its forecast
    assert (second.inputs["forecast"], second.inputs["forecast_growth"], second.inputs["growth"]) == (7200.0, 0.2, 0.0)
    assert third.inputs["forecast"] == 4799.99
    assert entries[four[0].pk].inputs["forecast"] is None  # no score: nothing to show
    assert "the model forecasts 7,200 元 for the next 12 months (+20.0 %)" in why(snapshot, second)


def test_a_fen_less_is_not_high_potential(org, four):
    _scores(AS_OF, {four[1]: "7199.99"})
    _snapshot_, entries = _snapshot(org)
    assert entries[four[1].pk].tier == "maintain"


def test_without_scores_or_with_a_fit_after_the_day_growth_decides_as_before(org, four):
    _snapshot_, entries = _snapshot(org)
    assert entries[four[1].pk].tier == "maintain" and "forecast" not in entries[four[1].pk].inputs
    _scores(date(2026, 7, 1), {four[1]: "99999.00"})  # fitted on data after the snapshot's day
    _snapshot_, entries = _snapshot(org)
    assert entries[four[1].pk].tier == "maintain" and "forecast" not in entries[four[1].pk].inputs


def test_the_scheme_can_be_told_to_use_growth(org, four):
    _scores(AS_OF, {four[1]: "99999.00"})
    scheme = Scheme.objects.get(code="value-potential")
    assert scheme.params["potential"] == "model"
    services.scheme_update(actor=org.admin, scheme=scheme, params={**scheme.params, "potential": "growth"})
    _snapshot_, entries = _snapshot(org)
    assert entries[four[1].pk].tier == "maintain"
    with pytest.raises(services.ValidationFailed, match="potential must be one of model, growth"):
        services.scheme_update(actor=org.admin, scheme=scheme, params={**scheme.params, "potential": "hunch"})
