"""Fitting on the revenue facts and scoring the accounts: the transactions read from the
database, the stored fit, the scores and their replacement, the nightly job's refusals."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import numpy as np
import pytest

from kam.accounts.models import Account
from kam.insight.forecast import services as scoring
from kam.insight.forecast.maths import bgnbd, gammagamma
from kam.insight.forecast.maths.transactions import Transactions, summarise
from kam.insight.models import AccountScore, ModelFit

from ..scoring_data import add_facts, quick_accounts, random_history

pytestmark = pytest.mark.django_db

END = date(2026, 6, 30)


@pytest.fixture
def three(org, account_factory):
    return [account_factory(owner=org.specialist_a, code=f"S{n}") for n in range(1, 4)]


@pytest.fixture
def base(org, account_factory):
    """40 accounts in branch A and 20 in branch B with two and a half years of purchases."""
    owners = [org.specialist_a] * 40 + [org.specialist_b] * 20
    accounts = quick_accounts(owners, "B")
    add_facts(random_history(accounts, start=date(2024, 1, 1), end=END))
    return accounts


def test_the_window_is_the_history_months_up_to_the_calibration_end():
    assert scoring.history_window(date(2026, 6, 30), 36) == (date(2023, 7, 1), date(2026, 6, 30))
    assert scoring.history_window(date(2026, 11, 26), 36) == (date(2023, 11, 27), date(2026, 11, 26))
    # 31 May less three months is the last day of February
    assert scoring.months_before(date(2026, 5, 31), 3) == date(2026, 2, 28)
    assert scoring.months_before(date(2024, 5, 31), 3) == date(2024, 2, 29)


def test_lines_of_a_day_are_one_purchase_and_a_refunded_day_is_none(three):
    a, b, c = three
    add_facts([
        (a, date(2026, 1, 5), "100.00", "宽带"), (a, date(2026, 1, 5), "50.00", "专线"),  # one purchase of 150
        (a, date(2026, 1, 19), "30.00", "宽带"),
        (a, date(2026, 2, 2), "80.00", "宽带"), (a, date(2026, 2, 2), "-20.00", "退款"),  # 60
        (b, date(2026, 1, 10), "40.00", "宽带"), (b, date(2026, 1, 10), "-40.00", "退款"),  # sums to 0: none
        (b, date(2026, 3, 1), "12.34", "宽带"),
        (c, date(2025, 12, 31), "99.00", "宽带"),  # before the window
        (c, date(2026, 2, 16), "10.00", "宽带"),  # after the window
    ])
    found = scoring.transactions_from_revenue(start=date(2026, 1, 1), end=date(2026, 2, 15))
    rows = sorted(zip(found.customers[found.customer].tolist(), found.day.astype(str).tolist(),
                      found.amount.tolist(), strict=True))
    assert rows == [(a.pk, "2026-01-05", 150.0), (a.pk, "2026-01-19", 30.0), (a.pk, "2026-02-02", 60.0)]

    summary = summarise(found, calibration_end=date(2026, 2, 15), period="week")
    assert summary.customers.tolist() == [a.pk]
    assert summary.frequency.tolist() == [2]
    assert summary.recency.tolist() == [4.0]  # 28 days
    assert summary.age.tolist() == pytest.approx([41 / 7])
    assert summary.mean_value.tolist() == [45.0]
    monthly = summarise(found, calibration_end=date(2026, 2, 15), period="month")
    assert monthly.recency.tolist() == pytest.approx([28 / (365.25 / 12)])
    assert monthly.age.tolist() == pytest.approx([41 / (365.25 / 12)])


def test_deleted_accounts_are_left_out(three):
    a, b, _c = three
    add_facts([(a, date(2026, 1, 5), "10", ""), (b, date(2026, 1, 6), "10", "")])
    Account.objects.filter(pk=b.pk).update(deleted_at="2026-02-01T00:00:00+08:00")
    found = scoring.transactions_from_revenue(start=date(2026, 1, 1), end=date(2026, 1, 31))
    assert set(found.customers[found.customer].tolist()) == {a.pk}


def _expected_summary(accounts, end=END, period="week"):
    """The same summary computed from the generated lines, without the database."""
    lines = random_history(accounts, start=date(2024, 1, 1), end=END)
    rows = [(acc.pk, day, float(amount)) for acc, day, amount, _p in lines if day <= end]
    customer, day, amount = zip(*rows, strict=True)
    return summarise(Transactions.from_rows(np.array(customer), np.array(day, dtype="datetime64[D]"), np.array(amount)),
                     calibration_end=end, period=period)


def test_a_fit_on_the_database_stores_the_parameters_and_scores_every_buyer(org, base, account_factory):
    silent = account_factory(owner=org.specialist_a, code="NOBUY")  # no revenue at all
    fitted = scoring.fit_from_database(calibration_end=END, period="week", count_model="bgnbd", actor=org.analyst_hq)
    fit = ModelFit.objects.get()
    assert fitted.fit == fit
    assert (fit.window_start, fit.calibration_end, fit.period, fit.count_model) == (date(2023, 7, 1), END, "week", "bgnbd")
    assert fit.created_by == org.analyst_hq

    summary = _expected_summary(base)
    count = bgnbd.fit(summary.frequency, summary.recency, summary.age)
    spend = gammagamma.fit(summary.frequency, summary.mean_value)
    assert fit.customers == len(base) == 60 and fit.repeat_customers == int(summary.repeat.sum())
    assert fit.count_params == pytest.approx(count.parameters, rel=1e-6)
    assert fit.count_log_likelihood == pytest.approx(count.log_likelihood, rel=1e-9)
    assert fit.spend_params == pytest.approx(spend.parameters, rel=1e-6)
    assert fit.spend_log_likelihood == pytest.approx(spend.log_likelihood, rel=1e-9)
    assert fit.converged and fit.seconds > 0 and fit.scored_accounts == 60

    assert AccountScore.objects.count() == 60
    assert not AccountScore.objects.filter(account=silent).exists()
    i = int(np.flatnonzero(summary.customers == base[3].pk)[0])
    x, t_x, T, zbar = (summary.frequency[i], summary.recency[i], summary.age[i], summary.mean_value[i])
    score = AccountScore.objects.get(account=base[3])
    assert (score.frequency, score.recency, score.age) == (x, pytest.approx(t_x), pytest.approx(T))
    assert score.p_alive == pytest.approx(float(count.p_alive(x, t_x, T)), rel=1e-6)
    horizon = 12 * (365.25 / 12) / 7  # INSIGHT_HORIZON_MONTHS in weeks
    purchases = float(count.expected_transactions(horizon, x, t_x, T))
    assert score.expected_purchases == pytest.approx(purchases, rel=1e-6)
    per_purchase = float(spend.expected_spend(x, zbar))
    assert score.expected_spend == Decimal(f"{per_purchase:.2f}")
    assert abs(score.expected_value - Decimal(str(purchases * per_purchase))) <= Decimal("0.01")
    assert score.expected_value.as_tuple().exponent == -2
    assert score.clv > 0 and score.p_alive_before is None


def test_a_refit_replaces_the_scores_keeps_the_previous_p_alive_and_drops_lapsed_accounts(org, base):
    scoring.fit_from_database(calibration_end=date(2026, 3, 31), period="month")
    first = dict(AccountScore.objects.values_list("account_id", "p_alive"))
    # An account whose only purchases lie before the next window loses its score.
    lapsed = base[0]
    from kam.revenue.models import RevenueFact

    RevenueFact.objects.filter(account=lapsed).delete()
    add_facts([(lapsed, date(2020, 1, 1), "500", "")])
    fitted = scoring.fit_from_database(calibration_end=END, period="month")
    second = ModelFit.objects.order_by("-id").first()
    assert fitted.fit == second and ModelFit.objects.count() == 2
    assert set(AccountScore.objects.values_list("fit", flat=True)) == {second.pk}
    assert not AccountScore.objects.filter(account=lapsed).exists() and fitted.removed == 1
    for account_id, before in AccountScore.objects.values_list("account_id", "p_alive_before"):
        assert before == first.get(account_id)
    assert AccountScore.objects.filter(p_alive_before__isnull=False).count() == len(set(first) - {lapsed.pk})


def test_the_nightly_job_fits_to_the_day_before(org, base):
    result = scoring.refit_and_score(as_of=date(2026, 7, 1))
    fit = ModelFit.objects.get()
    assert fit.calibration_end == END and fit.period == "week" and fit.count_model == "bgnbd"
    assert result == {"fit": fit.pk, "customers": 60, "scored": 60, "removed": 0, "seconds": fit.seconds}


def test_the_nightly_job_stores_nothing_without_revenue(org):
    result = scoring.refit_and_score(as_of=date(2026, 7, 1))
    assert result["fit"] is None and (result["customers"], result["scored"]) == (0, 0)
    assert "Too little revenue" in result["skipped"]
    assert not ModelFit.objects.exists() and not AccountScore.objects.exists()


def test_too_few_accounts_are_refused_and_nothing_is_stored(three):
    a, b, c = three
    add_facts([(a, date(2026, 1, 5), "10", ""), (a, date(2026, 2, 5), "10", ""), (b, date(2026, 1, 6), "10", "")])
    with pytest.raises(scoring.NotEnoughData) as refused:
        scoring.fit_from_database(calibration_end=END)
    assert "2 accounts bought" in refused.value.message and "1 of them more than once" in refused.value.message
    assert not ModelFit.objects.exists()


def test_without_enough_repeat_buyers_the_spend_is_each_accounts_own_mean(three, monkeypatch):
    a, b, c = three
    monkeypatch.setattr(scoring, "MIN_CUSTOMERS", 3)
    add_facts([(a, date(2026, 1, 5), "100", ""), (a, date(2026, 2, 5), "50", ""), (a, date(2026, 3, 5), "60", ""),
               (b, date(2026, 1, 6), "10", ""), (b, date(2026, 1, 6), "2.5", "专线"),
               (c, date(2026, 1, 7), "40", ""), (c, date(2026, 4, 7), "20", "")])
    fitted = scoring.fit_from_database(calibration_end=END)
    assert fitted.fit.spend_params is None and fitted.fit.spend_log_likelihood is None
    # (BG/NBD does not converge on three accounts: Pareto/NBD is used and a note says so)
    assert fitted.notes[-1] == (f"The spend model was not fitted: 2 accounts bought more than once, it needs "
                                f"{scoring.MIN_REPEAT_CUSTOMERS}. Expected value uses each account's own mean spend "
                                "per purchase.")
    spends = dict(AccountScore.objects.values_list("account", "expected_spend"))
    assert spends == {a.pk: Decimal("70.00"), b.pk: Decimal("12.50"), c.pk: Decimal("30.00")}
    score = AccountScore.objects.get(account=a)
    assert abs(score.expected_value - Decimal(str(score.expected_purchases * 70))) <= Decimal("0.01")
    assert score.clv > 0


def test_a_spend_model_without_a_finite_mean_is_kept_but_not_used(base, monkeypatch):
    real = gammagamma.fit

    def heavy_tailed(frequency, mean_value):
        found = real(frequency, mean_value)
        return gammagamma.GammaGammaFit(p=found.p, q=0.98, gamma=found.gamma, log_likelihood=found.log_likelihood,
                                        customers=found.customers, converged=True)

    monkeypatch.setattr(gammagamma, "fit", heavy_tailed)
    fitted = scoring.fit_from_database(calibration_end=END)
    assert fitted.fit.spend_params["q"] == 0.98
    assert fitted.notes[0].startswith("The spend model gives no finite mean spend (q = 0.98, at most 1)")
    summary = _expected_summary(base)
    i = int(np.flatnonzero(summary.customers == base[5].pk)[0])
    lines = [float(m) for acc, day, m, _p in random_history(base, start=date(2024, 1, 1), end=END) if acc == base[5]]
    assert len(lines) == summary.frequency[i] + 1
    assert AccountScore.objects.get(account=base[5]).expected_spend == Decimal(f"{sum(lines) / len(lines):.2f}")


def test_forecasts_stay_finite_when_the_dropout_hardly_varies():
    # A fit on regular buyers sends a and b to the bounds together; the forecast must not be NaN.
    fit = bgnbd.BgNbdFit(r=0.9736, alpha=0.8538, a=13159349.4, b=487853584.3, log_likelihood=0, customers=0,
                         converged=True)
    found = fit.expected_transactions(12.0, np.array([0, 5, 132.0]), np.array([0, 10, 29.0]), np.array([10, 20, 30.0]))
    assert np.all(np.isfinite(found))
    # In the limit a, b → ∞ with p = a / (a + b) fixed, 2F1(r+x, b+x; a+b+x−1; z) → (1 − (1−p) z)^−(r+x), so
    # for x = 0: E = (1/p) · [1 − ((α+T)/(α+T+t))^r · (1 − (1−p) z)^−r], z = t/(α+T+t).
    p, z = 13159349.4 / (13159349.4 + 487853584.3), 12 / (0.8538 + 10 + 12)
    limit = (1 - ((0.8538 + 10) / (0.8538 + 22)) ** 0.9736 * (1 - (1 - p) * z) ** -0.9736) / p
    assert found[0] == pytest.approx(limit, rel=1e-4)


def test_an_unknown_model_or_period_is_refused():
    with pytest.raises(scoring.ValidationFailed) as refused:
        scoring.fit_from_database(calibration_end=END, period="day")
    assert "period" in refused.value.errors
    with pytest.raises(scoring.ValidationFailed) as refused:
        scoring.fit_from_database(calibration_end=END, count_model="gammagamma")
    assert "model" in refused.value.errors


def _not_converging(module, monkeypatch):
    real = module.fit

    def fit(*args, **kwargs):
        return dataclasses.replace(real(*args, **kwargs), converged=False)

    monkeypatch.setattr(module, "fit", fit)


def test_a_fit_that_does_not_converge_falls_back_to_pareto_nbd(org, base, monkeypatch):
    _not_converging(bgnbd, monkeypatch)
    fitted = scoring.fit_from_database(calibration_end=END, period="week", count_model="bgnbd")
    assert fitted.fit.count_model == "paretonbd" and fitted.fit.converged and fitted.scored == 60
    assert any("BG/NBD did not converge" in note for note in fitted.notes)


def test_a_fit_that_does_not_converge_never_becomes_current_and_the_page_says_why(org, base, monkeypatch, client):
    from kam.insight.forecast.maths import paretonbd
    from kam.insight.forecast.selectors import current_fit

    good = scoring.fit_from_database(calibration_end=END, period="week", count_model="bgnbd").fit
    before = dict(AccountScore.objects.values_list("account_id", "p_alive"))
    _not_converging(bgnbd, monkeypatch)
    _not_converging(paretonbd, monkeypatch)
    bad = scoring.fit_from_database(calibration_end=END, period="week", count_model="bgnbd")
    assert not bad.fit.converged and bad.scored == 0 and bad.fit.scored_accounts == 0
    assert current_fit() == good
    assert dict(AccountScore.objects.values_list("account_id", "p_alive")) == before
    assert set(AccountScore.objects.values_list("fit_id", flat=True)) == {good.pk}
    client.force_login(org.analyst_hq)
    page = client.get("/insight/models/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="unconverged"' in page and "did not converge, so it was not used" in page
