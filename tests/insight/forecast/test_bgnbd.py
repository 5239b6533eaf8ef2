import numpy as np
import pytest
from scipy.optimize import approx_fprime
from scipy.special import hyp2f1

from kam.insight.forecast.maths import bgnbd
from kam.insight.forecast.maths import simulate as synthetic
from kam.insight.forecast.maths.fitting import collapse

from ..cdnow import HOLDOUT_END, significant

PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # Fader, Hardie & Lee 2005


@pytest.fixture(scope="module")
def fitted(cdnow_summary):
    return bgnbd.fit(cdnow_summary.frequency, cdnow_summary.recency, cdnow_summary.age)


def test_cdnow_fit_reproduces_the_published_parameters(fitted):
    assert fitted.converged
    assert fitted.customers == 2357
    for name, value in PUBLISHED.items():
        assert significant(fitted.parameters[name]) == significant(value), name
        assert fitted.parameters[name] == pytest.approx(value, abs=0.0005), name  # as printed
    assert fitted.log_likelihood == pytest.approx(-9582.4, abs=0.05)


def test_cdnow_customer_expects_the_published_number_of_purchases(fitted):
    # x = 2, t_x = 30.43, T = 38.86: 1.226 purchases in the next 39 weeks (paper, section 4)
    assert significant(float(fitted.expected_transactions(39, 2, 30.43, 38.86)), 4) == 1.226


def test_conditional_expectation_agrees_with_the_papers_formula_where_that_is_finite(fitted):
    r, alpha, a, b = fitted.r, fitted.alpha, fitted.a, fitted.b
    x = np.array([0, 1, 2, 5, 20])
    t_x = np.array([0, 10, 30.43, 35, 38])
    T, t = 38.86, np.array([1, 10, 39, 52, 104])[:, None]
    z = t / (alpha + T + t)
    alive = 1 / (1 + (x > 0) * a / np.maximum(b + x - 1, 1e-12) * ((alpha + T) / (alpha + t_x)) ** (r + x))
    paper = ((a + b + x - 1) / (a - 1)
             * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z)) * alive)
    assert np.allclose(fitted.expected_transactions(t, x, t_x, T), paper, rtol=1e-10)


def test_large_frequencies_stay_finite(fitted):
    # given a key account buying every period for years
    x = np.array([500.0, 2000.0])
    # then the likelihood, P(alive) and the forecast are finite, and the forecast is about its rate
    assert np.isfinite(bgnbd.log_likelihood(fitted.r, fitted.alpha, fitted.a, fitted.b, x, x, x)).all()
    assert (fitted.p_alive(x, x, x) > 0.99).all()
    assert fitted.expected_transactions(52, x, x, x) == pytest.approx([52, 52], rel=0.05)


def test_p_alive_is_one_without_repeat_purchases_and_falls_with_silence(fitted):
    assert fitted.p_alive(0, 0, 38.86) == 1.0
    recent, silent = fitted.p_alive(5, [38, 10], 38.86)
    assert 0 < silent < recent < 1


def test_analytic_gradient_matches_finite_differences(cdnow_summary):
    data = cdnow_summary.frequency, cdnow_summary.recency, cdnow_summary.age
    for theta in (np.log([0.243, 4.414, 0.793, 2.426]), np.array([0.3, -0.5, 1.2, -0.7])):
        value, gradient = bgnbd._total(theta, *data)
        numeric = approx_fprime(theta, lambda th: bgnbd._total(th, *data)[0], 1e-7)
        assert gradient == pytest.approx(numeric, rel=1e-4, abs=1e-7)


def test_holdout_forecast_tracks_the_actual_78_week_repeat_purchases(fitted, cdnow, cdnow_summary):
    # given the cohort's first purchases in weeks 1-12 and the actual repeat purchases (days) to week 78
    actual = len(cdnow) - len(cdnow.customers)
    assert actual == 4339
    # when each customer's expected repeat purchases are added up to the end of week 78
    weeks = (np.datetime64(HOLDOUT_END) - cdnow_summary.first_purchase).astype(float) / 7
    forecast = fitted.expected_repeat_transactions(weeks).sum()
    # then the forecast is within 5 % of what happened, and so is the tracking curve week by week
    assert forecast == pytest.approx(actual, rel=0.05)
    week_end = np.datetime64("1997-01-01") + 7 * np.arange(1, 79) - 1
    repeat_days = cdnow.day[np.r_[False, cdnow.customer[1:] == cdnow.customer[:-1]]]
    cumulative_actual = np.searchsorted(np.sort(repeat_days), week_end, side="right")
    elapsed = np.clip((week_end[:, None] - cdnow_summary.first_purchase[None, :]).astype(float), 0, None) / 7
    cumulative_forecast = fitted.expected_repeat_transactions(elapsed).sum(axis=1)
    assert cumulative_forecast[-1] == pytest.approx(forecast)
    assert np.abs(cumulative_forecast[20:] / cumulative_actual[20:] - 1).max() < 0.1


def test_fit_recovers_simulated_parameters_and_agrees_with_lifetimes():
    # given 20,000 customers simulated from known parameters
    true = {"r": 0.5, "alpha": 6.0, "a": 0.8, "b": 2.5}
    x, t_x, T = simulate(**true, customers=20_000, seed=11)
    # when fitted here and by the lifetimes package
    ours = bgnbd.fit(x, t_x, T)
    from lifetimes import BetaGeoFitter

    theirs = BetaGeoFitter().fit(x, t_x, T).params_
    # then the fits agree to three significant figures and come near the truth
    for name, value in true.items():
        assert significant(ours.parameters[name]) == significant(theirs[name]), name
        assert ours.parameters[name] == pytest.approx(value, rel=0.2), name


def simulate(*, r, alpha, a, b, customers, seed):
    """(x, t_x, T) from the BG/NBD story: Poisson purchases, a coin after each repeat purchase."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(r, 1 / alpha, customers)
    dropout = rng.beta(a, b, customers)
    T = rng.uniform(30, 52, customers)
    x, t_x, now = np.zeros(customers), np.zeros(customers), np.zeros(customers)
    active = np.ones(customers, dtype=bool)
    while active.any():  # one round per purchase, all customers at once
        now[active] += rng.exponential(1 / rate[active])
        active &= now < T
        x[active] += 1
        t_x[active] = now[active]
        active &= rng.random(customers) >= dropout
    return x, t_x, T


def test_fit_on_collapsed_rows_equals_the_fit_on_every_customer():
    # given 30,000 customers on whole days, many sharing their (x, t_x, T)
    data = synthetic.customers(30_000, r=0.243, alpha=4.414, a=0.793, b=2.426, seed=3)
    x, t_x, T = data.frequency, data.recency, data.age
    assert len(collapse(x, t_x, T)[1]) < len(x) / 2
    # when fitted once on the distinct rows weighted by their counts and once row by row
    weighted = bgnbd.fit(x, t_x, T)
    plain = bgnbd.fit(x, t_x, T, collapse=False)
    # then the fits are the same
    assert weighted.customers == plain.customers == 30_000
    assert weighted.converged and plain.converged
    for name, value in plain.parameters.items():
        assert weighted.parameters[name] == pytest.approx(value, rel=1e-7), name
    assert weighted.log_likelihood == pytest.approx(plain.log_likelihood, rel=1e-12)
    # and so is the objective at any point
    rows, counts = collapse(x, t_x, T)
    theta = np.array([0.3, -0.5, 1.2, -0.7])
    value, gradient = bgnbd._total(theta, *rows, counts / counts.sum())
    expected_value, expected_gradient = bgnbd._total(theta, x, t_x, T)
    assert value == pytest.approx(expected_value, rel=1e-12)
    assert gradient == pytest.approx(expected_gradient, rel=1e-10)


def test_a_run_is_converged_when_it_succeeds_or_stops_on_a_flat_maximum():
    from scipy.optimize import OptimizeResult

    from kam.insight.forecast.maths.fitting import BOUND, settled

    def run(message, jac, x=(1.0, 2.0)):
        return OptimizeResult(message=message, x=np.array(x), fun=1.0, jac=np.array(jac), nit=30, success=False)

    assert settled(run("ABNORMAL: ", [0.004, -0.009]))
    assert not settled(run("ABNORMAL: ", [0.004, 0.05]))  # still on a slope
    assert settled(run("ABNORMAL: ", [0.004, 0.5], x=(1.0, -BOUND)))  # held at a bound: not a free direction
    assert not settled(run("STOP: TOTAL NO. OF ITERATIONS REACHED LIMIT", [0.0, 0.0]))
    assert not settled(run("ABNORMAL: ", [np.nan, 0.0]))
