"""The BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005, "Counting your customers
the easy way").

While alive, a customer buys as a Poisson process with rate λ ~ gamma(r, α); after each
purchase the customer drops out with probability p ~ beta(a, b). From each customer's
(x, t_x, T) — repeat purchases, recency and age, in periods — the model gives P(alive)
and the expected number of purchases in the next t periods.

The log-likelihood is written in logs throughout (gammaln, log-sum-exp), so large x does
not overflow; it is fitted on log-parameters with its analytic gradient.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, expit, gammaln, hyp1f1, hyp2f1

from kam.insight.forecast.maths.fitting import collapse as collapse_rows
from kam.insight.forecast.maths.fitting import maximise


@dataclass(frozen=True)
class BgNbdFit:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    customers: int
    converged: bool

    @property
    def parameters(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}

    def p_alive(self, frequency, recency, age) -> np.ndarray:
        """P(still alive at T | x, t_x, T)."""
        x, t_x, T = _arrays(frequency, recency, age)
        return expit(-_log_death_odds(self.r, self.alpha, self.a, self.b, x, t_x, T))

    def expected_transactions(self, t, frequency, recency, age) -> np.ndarray:
        """E[Y(t) | x, t_x, T]: expected purchases in the next t periods (eq. 10 of the paper).

        The paper's ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x-1; z) overflows for large x;
        Euler's transformation turns it into (1-z)^(a-1) · 2F1(a+b-1-r, a-1; a+b+x-1; z),
        whose parameters do not grow with x.
        """
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        x, t_x, T = _arrays(frequency, recency, age)
        t = np.asarray(t, dtype=np.float64)
        z = t / (alpha + T + t)
        with np.errstate(invalid="ignore", over="ignore"):
            tail = np.array(np.exp((a - 1) * np.log1p(-z)) * hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z))
        # Two limits a fit reaches on regular buyers, where both 2F1 forms overflow:
        # - the dropout probability hardly varies (a and b run to their bounds together,
        #   a = 1.3e7, b = 4.9e8): the paper's own form, whose parameters grow with x and b
        #   alike, stays finite;
        # - the purchase rate hardly varies (r and α run off together, r = 4.6e11 with
        #   r/α = 0.2: monthly billing): then ((α+T)/(α+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)
        #   tends to e^-w 1F1(b+x; a+b+x-1; w) = 1F1(a-1; a+b+x-1; -w), w = (r+x) t/(α+T)
        #   (agrees with the exact form to 2e-6 at r = 1000).
        shape = tail.shape
        x_b, t_b, T_b, z_b = (np.broadcast_to(v, shape) for v in (x, t, T, z))
        lost = ~np.isfinite(tail)
        if np.any(lost):
            x_l, t_l, T_l, z_l = x_b[lost], t_b[lost], T_b[lost], z_b[lost]
            with np.errstate(invalid="ignore", over="ignore"):
                tail[lost] = np.exp((r + x_l) * -np.log1p(t_l / (alpha + T_l))) * hyp2f1(r + x_l, b + x_l, a + b + x_l - 1, z_l)
        lost = ~np.isfinite(tail)
        if np.any(lost):
            x_l, t_l, T_l = x_b[lost], t_b[lost], T_b[lost]
            tail[lost] = hyp1f1(a - 1, a + b + x_l - 1, -(r + x_l) * t_l / (alpha + T_l))
        growth = (a + b + x - 1) / (a - 1) * (1 - tail)
        return growth * expit(-_log_death_odds(r, alpha, a, b, x, t_x, T))

    def expected_repeat_transactions(self, t) -> np.ndarray:
        """E[X(t)]: expected repeat purchases in the first t periods after a first purchase."""
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        t = np.asarray(t, dtype=np.float64)
        z = t / (alpha + t)
        # Euler's transformation again: (α/(α+t))^r 2F1(r, b; a+b-1; z) = (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b-1; z).
        tail = np.exp((a - 1) * np.log1p(-z)) * hyp2f1(a + b - 1 - r, a - 1, a + b - 1, z)
        return (a + b - 1) / (a - 1) * (1 - tail)


def log_likelihood(r, alpha, a, b, frequency, recency, age) -> np.ndarray:
    """Per-customer log-likelihood ln L(r, α, a, b | x, t_x, T)."""
    x, t_x, T = _arrays(frequency, recency, age)
    return _terms(np.log([r, alpha, a, b]), x, t_x, T)[0]


def fit(frequency, recency, age, *, collapse: bool = True) -> BgNbdFit:
    """Maximum-likelihood fit over all customers (x, t_x, T in periods).

    With `collapse`, customers with the same (x, t_x, T) become one row weighted by their
    number — the same likelihood, summed over far fewer rows when times are whole days.
    """
    x, t_x, T = _arrays(frequency, recency, age)
    if not len(x):
        raise ValueError("no customers to fit")
    start = np.log([1.0, max(float(np.mean(T)), 1e-3), 1.0, 1.0])
    customers, weights = x.size, None
    if collapse:
        (x, t_x, T), counts = collapse_rows(x.ravel(), t_x.ravel(), T.ravel())
        weights = counts / customers
    result = maximise(lambda theta: _total(theta, x, t_x, T, weights), start)
    r, alpha, a, b = np.exp(result.x)
    return BgNbdFit(r=float(r), alpha=float(alpha), a=float(a), b=float(b),
                    log_likelihood=float(-result.fun * customers), customers=customers,
                    converged=bool(result.converged))


def _arrays(frequency, recency, age):
    x, t_x, T = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (frequency, recency, age)))
    return x, t_x, T


def _log_death_odds(r, alpha, a, b, x, t_x, T):
    """ln of P(dropped out after the last purchase) / P(alive), given the data; -inf when x = 0."""
    repeat = x > 0
    odds = np.full(np.shape(x), -np.inf)
    xs = x[repeat]
    odds[repeat] = (np.log(a) - np.log(b + xs - 1)
                    + (r + xs) * (np.log(alpha + T[repeat]) - np.log(alpha + t_x[repeat])))
    return odds


def _terms(theta, x, t_x, T):
    """Per-customer log-likelihood and its gradient with respect to the log-parameters."""
    r, alpha, a, b = np.exp(theta)
    repeat = x > 0
    xm1 = np.where(repeat, b + x - 1, 1.0)
    log_alive = -(r + x) * np.log(alpha + T)  # bought x times and still alive at T
    log_dead = np.where(repeat, np.log(a) - np.log(xm1) - (r + x) * np.log(alpha + t_x), -np.inf)
    log_sum = np.logaddexp(log_alive, log_dead)
    shared = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    ll = shared + log_sum
    w_dead = np.exp(log_dead - log_sum)  # weight of the dropped-out branch
    w_alive = 1 - w_dead
    d_r = digamma(r + x) - digamma(r) + np.log(alpha) - w_alive * np.log(alpha + T) - w_dead * np.log(alpha + t_x)
    d_alpha = r / alpha - (r + x) * (w_alive / (alpha + T) + w_dead / (alpha + t_x))
    d_a = digamma(a + b) - digamma(a + b + x) + w_dead / a
    d_b = digamma(a + b) + digamma(b + x) - digamma(b) - digamma(a + b + x) - w_dead / xm1
    return ll, np.stack([r * d_r, alpha * d_alpha, a * d_a, b * d_b])


def _total(theta, x, t_x, T, weights=None):
    """Mean negative log-likelihood and its gradient, for the optimiser; `weights` (summing
    to 1) are the shares of the customers each row stands for."""
    ll, grad = _terms(theta, x, t_x, T)
    if weights is None:
        return -ll.mean(), -grad.mean(axis=1)
    # Sums of products, not `@`: a threaded BLAS product here spins its threads between the
    # optimiser's steps and, on a busy machine, costs more than the sums themselves.
    return -np.sum(ll * weights), -np.sum(grad * weights, axis=1)
