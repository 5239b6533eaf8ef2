import numpy as np
import pytest

from kam.insight.forecast.maths import bgnbd, gammagamma, paretonbd
from kam.insight.forecast.maths.clv import MONTH_DAYS, customer_lifetime_value


@pytest.fixture(scope="module")
def models(cdnow_summary):
    s = cdnow_summary
    return (bgnbd.fit(s.frequency, s.recency, s.age), paretonbd.fit(s.frequency, s.recency, s.age),
            gammagamma.fit(s.frequency, s.mean_value))


class SteadyBuyer:
    """A count model in which every customer buys `rate` times per period."""

    def __init__(self, rate):
        self.rate = rate

    def expected_transactions(self, t, frequency, recency, age):
        return self.rate * t * np.ones(np.shape(frequency))


def test_value_is_the_discounted_monthly_purchases_times_the_expected_spend(models):
    # given 2 purchases a week and the spend model's expectation for a customer
    spend = models[2]
    value = customer_lifetime_value(SteadyBuyer(2.0), spend, frequency=[3], recency=[20], age=[30],
                                    mean_value=[40.0], months=24, monthly_discount=0.01, period="week")
    # then CLV = Σ (2 · weeks per month) · E[Z] / 1.01^m
    per_month = 2.0 * MONTH_DAYS / 7
    expected = per_month * spend.expected_spend(3, 40.0) * sum(1.01 ** -m for m in range(1, 25))
    assert value == pytest.approx([expected], rel=1e-12)


def test_without_discount_the_value_is_the_horizons_purchases_times_spend(models, cdnow_summary):
    count, _pareto, spend = models
    s = cdnow_summary
    value = customer_lifetime_value(count, spend, frequency=s.frequency, recency=s.recency, age=s.age,
                                    mean_value=s.mean_value, months=12, monthly_discount=0.0)
    purchases = count.expected_transactions(12 * MONTH_DAYS / 7, s.frequency, s.recency, s.age)
    assert value == pytest.approx(purchases * spend.expected_spend(s.frequency, s.mean_value), rel=1e-9)


def test_value_grows_with_the_horizon_shrinks_with_the_discount_for_either_count_model(models):
    _bgnbd, _pareto, spend = models
    customer = {"frequency": [2, 132], "recency": [30.43, 200], "age": [38.86, 200], "mean_value": [22.35, 50.0]}
    for count in models[:2]:
        short = customer_lifetime_value(count, spend, **customer, months=12, monthly_discount=0.01)
        long = customer_lifetime_value(count, spend, **customer, months=36, monthly_discount=0.01)
        dear = customer_lifetime_value(count, spend, **customer, months=36, monthly_discount=0.05)
        assert np.isfinite(long).all()
        assert (0 < short).all() and (short < long).all() and (dear < long).all()


def test_a_model_fitted_in_months_takes_one_period_per_month(models):
    spend = models[2]
    monthly = customer_lifetime_value(SteadyBuyer(1.0), spend, frequency=[1], recency=[1], age=[2],
                                      mean_value=[10.0], months=3, monthly_discount=0.0, period="month")
    assert monthly == pytest.approx([3 * spend.expected_spend(1, 10.0)])
    with pytest.raises(ValueError, match="period"):
        customer_lifetime_value(SteadyBuyer(1.0), spend, frequency=[1], recency=[1], age=[2], mean_value=[10.0],
                                period="day")
