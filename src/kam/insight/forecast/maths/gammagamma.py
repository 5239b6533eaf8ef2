"""The gamma-gamma model of spend per transaction (Fader, Hardie & Lee 2005, "RFM and CLV:
using iso-value curves for customer base analysis", and Fader & Hardie's note "The
gamma-gamma model of monetary value", 2013).

A customer's transaction values are gamma(p, ν) with ν ~ gamma(q, γ) across customers, so
the mean z̄ of a customer's x repeat transactions has the marginal density

    f(z̄ | x) = Γ(px+q) / (Γ(px) Γ(q)) · γ^q (x z̄)^(px) / z̄ / (γ + x z̄)^(px+q).

Fitted on the repeat customers (x > 0) with their mean repeat-transaction value; the
expected spend per transaction of a customer is a weighted mean of the population mean
pγ/(q-1) and the customer's own z̄.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, gammaln

from kam.insight.forecast.maths.fitting import maximise


@dataclass(frozen=True)
class GammaGammaFit:
    p: float
    q: float
    gamma: float
    log_likelihood: float
    customers: int
    converged: bool

    @property
    def parameters(self) -> dict[str, float]:
        return {"p": self.p, "q": self.q, "gamma": self.gamma}

    @property
    def population_mean(self) -> float:
        """E[Z] = pγ/(q-1) for a customer we know nothing about (infinite when q ≤ 1)."""
        return self.p * self.gamma / (self.q - 1) if self.q > 1 else float("inf")

    def expected_spend(self, frequency, mean_value) -> np.ndarray:
        """E[Z | x, z̄]: expected spend per transaction; the population mean where x = 0."""
        x, zbar = np.broadcast_arrays(np.asarray(frequency, dtype=np.float64),
                                      np.asarray(mean_value, dtype=np.float64))
        zbar = np.where(x > 0, zbar, 0.0)
        return self.p * (self.gamma + x * zbar) / (self.p * x + self.q - 1)


def log_likelihood(p, q, gamma, frequency, mean_value) -> np.ndarray:
    """Per-customer log-likelihood ln f(z̄ | p, q, γ, x) for repeat customers."""
    x, zbar = _arrays(frequency, mean_value)
    return _terms(np.log([p, q, gamma]), x, zbar)[0]


def fit(frequency, mean_value) -> GammaGammaFit:
    """Maximum-likelihood fit on the repeat customers (x > 0); others are ignored."""
    x, zbar = _arrays(frequency, mean_value)
    repeat = x > 0
    x, zbar = x[repeat], zbar[repeat]
    if not len(x):
        raise ValueError("no repeat customers (frequency > 0) to fit the spend model on")
    if np.any(zbar <= 0):
        raise ValueError(f"{int(np.sum(zbar <= 0))} repeat customers have a mean value of 0 or less; "
                         "the spend model needs positive amounts")
    start = np.log([1.0, 1.0, float(np.mean(zbar))])
    result = maximise(_objective(x, zbar), start)
    p, q, gamma = np.exp(result.x)
    return GammaGammaFit(p=float(p), q=float(q), gamma=float(gamma), log_likelihood=float(-result.fun * len(x)),
                         customers=len(x), converged=bool(result.converged))


def _arrays(frequency, mean_value):
    x, zbar = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (frequency, mean_value)))
    return x, zbar


def _terms(theta, x, zbar):
    """Per-customer log-likelihood and its gradient with respect to the log-parameters."""
    p, q, gamma = np.exp(theta)
    px = p * x
    log_total = np.log(gamma + x * zbar)
    ll = (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(gamma)
          + px * np.log(x * zbar) - np.log(zbar) - (px + q) * log_total)
    shared = digamma(px + q)
    d_p = x * (shared - digamma(px) + np.log(x * zbar) - log_total)
    d_q = shared - digamma(q) + np.log(gamma) - log_total
    d_gamma = q / gamma - (px + q) / (gamma + x * zbar)
    return ll, np.stack([p * d_p, q * d_q, gamma * d_gamma])


def _objective(x, zbar):
    """The mean negative log-likelihood and its gradient as a function of the log-parameters,
    for the optimiser: `_terms` summed over the customers, with what does not depend on the
    parameters summed once, and the gamma functions of px and px+q taken once per distinct x
    (a few dozen) instead of once per customer. Sums of products rather than `@`, which
    would spin a threaded BLAS between the optimiser's steps."""
    n = len(x)
    levels, counts = np.unique(x, return_counts=True)
    xz = x * zbar
    sum_x_log_xz = float(np.sum(x * np.log(xz)))
    sum_log_z = float(np.sum(np.log(zbar)))

    def total(theta):
        p, q, gamma = np.exp(theta)
        pl = p * levels
        log_total = np.log(gamma + xz)
        inverse_total = 1.0 / (gamma + xz)
        x_log_total, sum_log_total = float(np.sum(x * log_total)), float(np.sum(log_total))
        shared = digamma(pl + q)
        ll = (np.sum(counts * (gammaln(pl + q) - gammaln(pl))) - n * gammaln(q) + n * q * np.log(gamma)
              + p * sum_x_log_xz - sum_log_z - p * x_log_total - q * sum_log_total)
        d_p = np.sum(counts * levels * (shared - digamma(pl))) + sum_x_log_xz - x_log_total
        d_q = np.sum(counts * shared) - n * digamma(q) + n * np.log(gamma) - sum_log_total
        d_gamma = n * q / gamma - p * float(np.sum(x * inverse_total)) - q * float(np.sum(inverse_total))
        return -ll / n, -np.array([p * d_p, q * d_q, gamma * d_gamma]) / n

    return total


def _total(theta, x, zbar):
    """The optimiser's objective at `theta` (see `_objective`)."""
    return _objective(x, zbar)(theta)
