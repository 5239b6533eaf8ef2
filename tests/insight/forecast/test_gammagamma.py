import numpy as np
import pytest
from scipy.optimize import approx_fprime

from kam.insight.forecast.maths import gammagamma

from ..cdnow import significant

PUBLISHED = {"p": 6.25, "q": 3.74, "gamma": 15.44}  # Fader, Hardie & Lee 2005; Fader & Hardie 2013


@pytest.fixture(scope="module")
def fitted(cdnow_summary):
    return gammagamma.fit(cdnow_summary.frequency, cdnow_summary.mean_value)


def test_cdnow_fit_on_the_repeat_customers_reproduces_the_published_parameters(fitted):
    # the published fit uses each repeat customer's mean repeat-transaction value
    assert fitted.converged
    assert fitted.customers == 946
    for name, value in PUBLISHED.items():
        assert significant(fitted.parameters[name]) == significant(value), name
    assert fitted.gamma == pytest.approx(15.44, abs=0.005)


def test_expected_spend_shrinks_towards_the_population_mean(fitted):
    # a customer seen once relies on the population mean; one seen often on their own mean
    assert fitted.expected_spend(0, 0) == pytest.approx(fitted.population_mean)
    assert fitted.population_mean == pytest.approx(6.25 * 15.44 / 2.74, rel=0.01)
    once, often = fitted.expected_spend([1, 50], [100.0, 100.0])
    assert fitted.population_mean < once < often < 100


def test_analytic_gradient_matches_finite_differences(cdnow_summary):
    repeat = cdnow_summary.repeat
    data = cdnow_summary.frequency[repeat], cdnow_summary.mean_value[repeat]
    for theta in (np.log([6.25, 3.74, 15.44]), np.array([0.2, 1.5, 0.8])):
        _value, gradient = gammagamma._total(theta, *data)
        numeric = approx_fprime(theta, lambda th: gammagamma._total(th, *data)[0], 1e-7)
        assert gradient == pytest.approx(numeric, rel=1e-4, abs=1e-7)


def test_fit_refuses_data_without_repeat_customers_or_with_non_positive_means():
    with pytest.raises(ValueError, match="no repeat customers"):
        gammagamma.fit([0, 0], [0, 0])
    with pytest.raises(ValueError, match="1 repeat customers have a mean value of 0"):
        gammagamma.fit([1, 2], [0.0, 5.0])


def test_fit_recovers_simulated_parameters_and_agrees_with_lifetimes():
    # given 50,000 repeat customers whose spends follow the model
    rng = np.random.default_rng(5)
    p, q, gamma = 6.0, 4.0, 15.0
    x = rng.integers(1, 10, 50_000)
    rate = rng.gamma(q, 1 / gamma, len(x))
    mean_value = rng.gamma(p * x, 1 / (rate * x))
    # when fitted here and by the lifetimes package
    fitted = gammagamma.fit(x, mean_value)
    from lifetimes import GammaGammaFitter

    theirs = GammaGammaFitter().fit(x, mean_value).params_
    # then the two agree to three significant figures and come near the truth
    for name, value in {"p": p, "q": q, "gamma": gamma}.items():
        assert significant(fitted.parameters[name]) == significant(theirs[name if name != "gamma" else "v"]), name
        assert fitted.parameters[name] == pytest.approx(value, rel=0.1), name


def test_summed_objective_equals_the_mean_over_customers(cdnow_summary):
    # the optimiser's objective takes the gamma functions once per distinct x; it must agree
    # with the per-customer terms averaged
    repeat = cdnow_summary.repeat
    data = cdnow_summary.frequency[repeat], cdnow_summary.mean_value[repeat]
    for theta in (np.log([6.25, 3.74, 15.44]), np.array([0.2, 1.5, 0.8])):
        value, gradient = gammagamma._total(theta, *data)
        ll, per_customer = gammagamma._terms(theta, *data)
        assert value == pytest.approx(-ll.mean(), rel=1e-12)
        assert gradient == pytest.approx(-per_customer.mean(axis=1), rel=1e-10, abs=1e-13)
