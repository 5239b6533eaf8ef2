import numpy as np
import pytest

from kam.insight.forecast.maths import bgnbd, gammagamma, simulate
from kam.insight.forecast.maths.fitting import collapse


def test_customers_are_summarised_on_whole_days_of_the_calibration_window():
    data = simulate.customers(50_000, r=0.243, alpha=4.414, a=0.793, b=2.426, p=6.25, q=3.74, gamma=15.44, seed=1)
    days_t, days_age = data.recency * 7, data.age * 7
    assert np.allclose(days_t, np.rint(days_t)) and np.allclose(days_age, np.rint(days_age))
    assert days_age.min() >= 273 - 83 and days_age.max() <= 273
    assert (data.recency <= data.age).all()
    repeat = data.frequency > 0
    assert (data.recency[~repeat] == 0).all() and (data.mean_value[~repeat] == 0).all()
    assert (data.mean_value[repeat] > 0).all()
    # the same seed gives the same customers
    again = simulate.customers(50_000, r=0.243, alpha=4.414, a=0.793, b=2.426, p=6.25, q=3.74, gamma=15.44, seed=1)
    assert np.array_equal(again.frequency, data.frequency) and np.array_equal(again.mean_value, data.mean_value)


def test_fits_recover_the_generating_parameters():
    # given 300,000 customers from the published CDNOW parameters
    count = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    spend = {"p": 6.25, "q": 3.74, "gamma": 15.44}
    data = simulate.customers(300_000, **count, **spend, seed=2)
    # when both models are fitted, then they come back within about three standard errors
    # (at this size about 0.5 % for r, 0.8 % for α, 2 to 2.6 % for a and b, 0.7 to 2.2 % for spend)
    fitted = bgnbd.fit(data.frequency, data.recency, data.age)
    for name, value in count.items():
        assert fitted.parameters[name] == pytest.approx(value, rel={"r": 0.02, "alpha": 0.03}.get(name, 0.08)), name
    spent = gammagamma.fit(data.frequency, data.mean_value)
    for name, value in spend.items():
        assert spent.parameters[name] == pytest.approx(value, rel=0.06), name


def test_collapse_counts_identical_rows():
    (x, t), counts = collapse(np.array([2.0, 1, 2, 1, 2, 0]), np.array([5.0, 3, 5, 4, 5, 0]))
    assert x.tolist() == [0, 1, 1, 2] and t.tolist() == [0, 3, 4, 5] and counts.tolist() == [1, 1, 1, 3]
    (empty,), none = collapse(np.array([]))
    assert len(empty) == 0 and len(none) == 0
