"""Synthetic customer bases drawn from known BG/NBD and gamma-gamma parameters.

For checking that the fits recover what generated the data, and for benchmarks. Each
customer makes a first purchase on a whole day spread evenly over the first `spread_days`
of a `calibration_days` calibration window; then, while alive, buys as a Poisson process
with rate λ ~ gamma(r, α) per period and, after each repeat purchase, drops out with
probability p ~ beta(a, b). Times are in periods (days / `period_days`) and the recency is
the last purchase's time rounded to a whole day, as in data summarised from dated rows.
Purchases that round to the same day still count separately, as the model generates them.

Everything is drawn per customer without a loop: the number of repeat purchases made
before dropping out is geometric(p); the number a customer alive throughout would make by
T is Poisson(λT); x is the smaller of the two, and given n purchases in (0, T] the x-th is
at T times a beta(x, n - x + 1) draw (the x-th of n uniform order statistics).

Spend per repeat purchase is gamma(p, ν) with ν ~ gamma(q, γ) across customers, so the
mean of x purchases is gamma(px, xν).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SyntheticBase:
    frequency: np.ndarray  # x, repeat purchases
    recency: np.ndarray  # t_x, periods (whole days / period_days)
    age: np.ndarray  # T, periods (whole days / period_days)
    mean_value: np.ndarray  # mean spend of the repeat purchases; 0 when x = 0

    def __len__(self) -> int:
        return len(self.frequency)


def customers(n: int, *, r: float, alpha: float, a: float, b: float,
              p: float | None = None, q: float | None = None, gamma: float | None = None,
              calibration_days: int = 273, spread_days: int = 84, period_days: float = 7.0,
              seed: int = 0) -> SyntheticBase:
    """`n` customers from BG/NBD (r, α, a, b), α per period; spend from gamma-gamma (p, q, γ)
    when those are given (otherwise mean_value is 0)."""
    rng = np.random.default_rng(seed)
    first_day = rng.integers(0, spread_days, size=n)
    age_days = calibration_days - first_day
    T = age_days / period_days
    rate = rng.gamma(r, 1.0 / alpha, size=n)
    drop = rng.beta(a, b, size=n)
    lifetime_purchases = rng.geometric(drop)  # the purchase after which the customer drops out
    possible = rng.poisson(rate * T)
    x = np.minimum(lifetime_purchases, possible)
    repeat = x > 0
    last = np.zeros(n)
    last[repeat] = T[repeat] * rng.beta(x[repeat], possible[repeat] - x[repeat] + 1)
    recency_days = np.minimum(np.rint(last * period_days), age_days)
    mean_value = np.zeros(n)
    if p is not None and q is not None and gamma is not None:
        nu = rng.gamma(q, 1.0 / gamma, size=n)
        xs = x[repeat]
        mean_value[repeat] = rng.gamma(p * xs, 1.0 / (xs * nu[repeat]))
    return SyntheticBase(frequency=x.astype(np.float64), recency=recency_days / period_days, age=T,
                         mean_value=mean_value)
