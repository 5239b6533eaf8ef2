"""The Pareto/NBD model of repeat purchasing (Schmittlein, Morrison & Colombo 1987; the
likelihood as in Fader & Hardie's note "A note on deriving the Pareto/NBD model and
related expressions", 2005).

While alive, a customer buys as a Poisson process with rate λ ~ gamma(r, α); the lifetime
is exponential with rate μ ~ gamma(s, β). The likelihood of (x, t_x, T) is

    L = Γ(r+x) α^r β^s / Γ(r) · [ (α+T)^-(r+x) (β+T)^-s  +  s · I ],
    I = ∫_{t_x}^{T} (α+τ)^-(r+x) (β+τ)^-(s+1) dτ.

The note writes I as a difference of two 2F1 terms, which in floating point is NaN or
nonsense exactly where key accounts live: large x with t_x at or near T (x=132,
t_x=T=200). Here I = H(t_x) - H(T) with H(τ) the tail integral from τ to ∞, computed in
logs: with m = max(α, β), z = |α-β| / (m+τ) and A = r+s+x,

    H(τ) = (m+τ)^-A / A · (1-z)^(1-e) · 2F1(1, A+1-e; A+1; z),

e = s+1 when α ≥ β and e = r+x otherwise (Euler's transformation of the note's 2F1).
This 2F1 is a series of positive terms between 1 and 1/(1-z) whatever x is, so it never
overflows; and the difference is taken as log H(t_x) + log1p(-H(T)/H(t_x)), which is
exactly -inf (I = 0) when t_x = T.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln, hyp2f1

from kam.insight.forecast.maths.fitting import maximise


@dataclass(frozen=True)
class ParetoNbdFit:
    r: float
    alpha: float
    s: float
    beta: float
    log_likelihood: float
    customers: int
    converged: bool

    @property
    def parameters(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "s": self.s, "beta": self.beta}

    def p_alive(self, frequency, recency, age) -> np.ndarray:
        """P(still alive at T | x, t_x, T)."""
        x, t_x, T = _arrays(frequency, recency, age)
        alive, total = _branches(self.r, self.alpha, self.s, self.beta, x, t_x, T)
        return np.exp(alive - total)

    def expected_transactions(self, t, frequency, recency, age) -> np.ndarray:
        """E[Y(t) | x, t_x, T]: expected purchases in the next t periods."""
        r, alpha, s, beta = self.r, self.alpha, self.s, self.beta
        x, t_x, T = _arrays(frequency, recency, age)
        t = np.asarray(t, dtype=np.float64)
        growth = (r + x) * (beta + T) / (alpha + T) * _lifetime_integral(s, np.log1p(t / (beta + T)))
        return growth * self.p_alive(x, t_x, T)

    def expected_repeat_transactions(self, t) -> np.ndarray:
        """E[X(t)]: expected repeat purchases in the first t periods after a first purchase."""
        t = np.asarray(t, dtype=np.float64)
        return self.r * self.beta / self.alpha * _lifetime_integral(self.s, np.log1p(t / self.beta))


def log_likelihood(r, alpha, s, beta, frequency, recency, age) -> np.ndarray:
    """Per-customer log-likelihood ln L(r, α, s, β | x, t_x, T)."""
    x, t_x, T = _arrays(frequency, recency, age)
    _alive, total = _branches(r, alpha, s, beta, x, t_x, T)
    return gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta) + total


def fit(frequency, recency, age) -> ParetoNbdFit:
    """Maximum-likelihood fit over all customers (x, t_x, T in periods)."""
    x, t_x, T = _arrays(frequency, recency, age)
    if not len(x):
        raise ValueError("no customers to fit")
    scale = max(float(np.mean(T)), 1e-3)
    start = np.log([1.0, scale, 1.0, scale])
    result = maximise(lambda theta: -log_likelihood(*np.exp(theta), x, t_x, T).mean(), start, gradient=False)
    r, alpha, s, beta = np.exp(result.x)
    return ParetoNbdFit(r=float(r), alpha=float(alpha), s=float(s), beta=float(beta),
                        log_likelihood=float(-result.fun * len(x)), customers=len(x),
                        converged=bool(result.converged))


def _arrays(frequency, recency, age):
    x, t_x, T = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (frequency, recency, age)))
    return x, t_x, T


def _branches(r, alpha, s, beta, x, t_x, T):
    """ln of the alive-at-T term and ln of the bracket [alive + s·I], per customer."""
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    tail_tx, tail_T = _log_tail(r, alpha, s, beta, x, t_x), _log_tail(r, alpha, s, beta, x, T)
    gap = np.minimum(tail_T - tail_tx, 0.0)  # ≤ 0 in exact arithmetic; rounding may touch 0
    with np.errstate(divide="ignore"):
        log_between = tail_tx + np.log(-np.expm1(gap))  # ln I; -inf when t_x = T
    return alive, np.logaddexp(alive, np.log(s) + log_between)


def _log_tail(r, alpha, s, beta, x, tau):
    """ln H(τ), H(τ) = ∫_τ^∞ (α+u)^-(r+x) (β+u)^-(s+1) du (see the module docstring)."""
    A = r + s + x
    m = max(alpha, beta)
    e = s + 1 if alpha >= beta else r + x
    z = abs(alpha - beta) / (m + tau)
    return (-A * np.log(m + tau) - np.log(A) + (1 - e) * np.log1p(-z)
            + np.log(hyp2f1(1.0, A + 1 - e, A + 1, z)))


def _lifetime_integral(s, k):
    """(1 - e^-(s-1)k) / (s-1), and its limit k at s = 1."""
    if abs(s - 1) < 1e-12:
        return k
    return -np.expm1(-(s - 1) * k) / (s - 1)
