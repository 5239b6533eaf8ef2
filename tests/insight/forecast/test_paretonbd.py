import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import gammaln

from kam.insight.forecast.maths import paretonbd

from ..cdnow import significant

PUBLISHED = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}  # Fader & Hardie's note


@pytest.fixture(scope="module")
def fitted(cdnow_summary):
    return paretonbd.fit(cdnow_summary.frequency, cdnow_summary.recency, cdnow_summary.age)


def test_cdnow_fit_reproduces_the_published_parameters(fitted):
    assert fitted.converged
    for name, value in PUBLISHED.items():
        assert significant(fitted.parameters[name]) == significant(value), name
    assert fitted.log_likelihood == pytest.approx(-9595.0, abs=0.05)


def test_recency_equal_to_age_with_large_frequency_is_finite(fitted):
    # given the case that makes the textbook difference of two 2F1 terms NaN
    x, t_x, T = 132, 200, 200
    # then the log-likelihood is finite and P(alive) is in (0, 1] (here exactly 1: no silence yet)
    ll = paretonbd.log_likelihood(fitted.r, fitted.alpha, fitted.s, fitted.beta, x, t_x, T)
    assert np.isfinite(ll)
    assert ll == pytest.approx(reference_log_likelihood(*fitted.parameters.values(), x, t_x, T), rel=1e-10)
    assert 0 < fitted.p_alive(x, t_x, T) <= 1
    assert np.isfinite(fitted.expected_transactions(39, x, t_x, T))
    # and recency just short of the age is just as tame
    for recency in (199.999, 190, 100):
        ll = paretonbd.log_likelihood(fitted.r, fitted.alpha, fitted.s, fitted.beta, x, recency, T)
        assert ll == pytest.approx(reference_log_likelihood(*fitted.parameters.values(), x, recency, T), rel=1e-9)
        assert 0 < fitted.p_alive(x, recency, T) <= 1


@pytest.mark.parametrize("parameters", [(0.55, 10.6, 0.61, 11.7), (0.55, 11.7, 0.61, 10.6),
                                        (2.0, 800.0, 0.4, 0.05), (0.3, 0.02, 1.5, 60.0), (1.0, 5.0, 1.0, 5.0)])
def test_log_likelihood_agrees_with_numerical_integration(parameters):
    # both branches (α ≥ β and α < β), α = β, and parameters far apart
    x = np.array([0, 1, 2, 10, 40, 132, 5])
    t_x = np.array([0, 1.7, 30.43, 37, 150, 199.99, 0.5])
    T = np.array([38.86, 38.86, 38.86, 38, 200, 200, 100])
    ours = paretonbd.log_likelihood(*parameters, x, t_x, T)
    expected = [reference_log_likelihood(*parameters, *case) for case in zip(x, t_x, T, strict=True)]
    assert ours == pytest.approx(expected, rel=1e-9)


def test_p_alive_falls_with_silence_and_expectations_grow_with_the_horizon(fitted):
    recent, silent = fitted.p_alive(5, [38, 10], 38.86)
    assert 0 < silent < recent < 1
    forecast = fitted.expected_transactions(np.array([13, 26, 39]), 2, 30.43, 38.86)
    assert 0 < forecast[0] < forecast[1] < forecast[2]
    assert fitted.expected_repeat_transactions(0) == 0


def reference_log_likelihood(r, alpha, s, beta, x, t_x, T):
    """The likelihood's integral form, integrated numerically with the alive term factored out."""
    def relative(u):
        return ((alpha + T) / (alpha + u)) ** (r + x) * ((beta + T) / (beta + u)) ** s / (beta + u)

    between = quad(relative, t_x, T, epsabs=0, epsrel=1e-13, limit=200)[0] if t_x < T else 0.0
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    return gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta) + alive + np.log1p(s * between)
