"""Customer lifetime value over a horizon: the count model's expected purchases month by
month, times the spend model's expected spend per purchase, discounted monthly.

    CLV = Σ_{m=1..H} (E[Y(m)] - E[Y(m-1)]) · E[Z] / (1 + d)^m

E[Y(t)] is the count model's conditional expectation of purchases in the next t periods;
a month is 365.25/12 days, so 4.348 weeks when the model was fitted in weeks.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from kam.insight.forecast.maths.transactions import PERIOD_DAYS

MONTH_DAYS = 365.25 / 12


class CountModel(Protocol):
    def expected_transactions(self, t, frequency, recency, age) -> np.ndarray: ...


class SpendModel(Protocol):
    """The gamma-gamma fit, or anything else that gives a spend per purchase per customer."""

    def expected_spend(self, frequency, mean_value) -> np.ndarray: ...


def customer_lifetime_value(
    count_model: CountModel,
    spend_model: SpendModel,
    *,
    frequency,
    recency,
    age,
    mean_value,
    months: int = 12,
    monthly_discount: float = 0.01,
    period: str = "week",
) -> np.ndarray:
    """Discounted expected spend over the next `months` months, per customer.

    `frequency`, `recency`, `age` are in the count model's periods (`period`);
    `monthly_discount` is the discount rate per month (0.01 = 1 %).
    """
    if months < 0:
        raise ValueError("months must not be negative")
    if monthly_discount <= -1:
        raise ValueError("the monthly discount rate must be above -100 %")
    if period not in PERIOD_DAYS:
        raise ValueError(f"period must be one of {', '.join(PERIOD_DAYS)}, not {period!r}")
    per_month = MONTH_DAYS / PERIOD_DAYS[period]
    x, t_x, T = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (frequency, recency, age)))
    discounted = np.zeros(x.shape)
    before = np.zeros(x.shape)
    for month in range(1, months + 1):  # one vectorised step per month of the horizon
        cumulative = count_model.expected_transactions(month * per_month, x, t_x, T)
        discounted += (cumulative - before) / (1 + monthly_discount) ** month
        before = cumulative
    return discounted * spend_model.expected_spend(x, mean_value)
