"""An independent check: the full CDNOW master file (23,570 customers, January 1997 – June
1998, as shipped with the `lifetimes` package), summarised with our code for a 39-week
calibration like the published sample, and fitted twice — by our BG/NBD and gamma-gamma
code and by lifetimes' own BetaGeoFitter and GammaGammaFitter on the same summary. The
parameters, the log-likelihoods (each package's own likelihood at its own estimate) and the
per-customer forecasts must agree to three significant figures. lifetimes is only called
here, as the other fit; nothing of it is in the app."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from kam.insight.forecast.maths import bgnbd, gammagamma
from kam.insight.forecast.maths.transactions import Transactions, summarise

from ..cdnow import CALIBRATION_END, DATASETS, significant

CDNOW_MASTER = DATASETS / "CDNOW_master.txt"


def same(ours: float, theirs: float) -> bool:
    return significant(ours) == significant(theirs)


@pytest.fixture(scope="module")
def master():
    """Our summary of the master file: customer id, YYYYMMDD, CDs, dollars per line."""
    raw = np.loadtxt(CDNOW_MASTER, dtype=str, skiprows=1)
    compact = raw[:, 1]
    days = (np.strings.slice(compact, 0, 4) + "-" + np.strings.slice(compact, 4, 6) + "-"
            + np.strings.slice(compact, 6, 8)).astype("datetime64[D]")
    transactions = Transactions.from_rows(raw[:, 0].astype(int), days, raw[:, 3].astype(float))
    return summarise(transactions, calibration_end=CALIBRATION_END, period="week")


@pytest.fixture(scope="module")
def lifetimes_fits(master):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from lifetimes import BetaGeoFitter, GammaGammaFitter

        count = BetaGeoFitter().fit(master.frequency, master.recency, master.age)
        repeat = (master.frequency > 0) & (master.mean_value > 0)
        spend = GammaGammaFitter().fit(master.frequency[repeat], master.mean_value[repeat])
    return count, spend, repeat


def test_the_master_file_is_the_whole_cohort(master):
    assert len(master) == 23570
    assert int((master.frequency > 0).sum()) > 8000


def test_bgnbd_agrees_with_an_independent_fit(master, lifetimes_fits):
    theirs, _spend, _repeat = lifetimes_fits
    ours = bgnbd.fit(master.frequency, master.recency, master.age)
    assert ours.converged
    for name in ("r", "alpha", "a", "b"):
        assert same(ours.parameters[name], float(theirs.params_[name])), (name, ours.parameters[name],
                                                                         float(theirs.params_[name]))
    # each package's own likelihood at its own estimate
    log_params = np.log(theirs.params_[["r", "alpha", "a", "b"]].to_numpy())
    weights = np.ones(len(master))
    their_ll = -theirs._negative_log_likelihood(log_params, master.frequency, master.recency, master.age,
                                                weights, 0.0) * len(master)
    assert same(ours.log_likelihood, their_ll), (ours.log_likelihood, their_ll)

    # a handful of customers: P(alive) and expected purchases in the next 39 weeks
    picked = np.array([0, 1, 17, 100, 2500, 9999, 23569])
    x, t_x, T = master.frequency[picked], master.recency[picked], master.age[picked]
    assert {int(v) for v in x} != {0}  # the handful includes repeat buyers
    for mine, other in zip(ours.p_alive(x, t_x, T), theirs.conditional_probability_alive(x, t_x, T), strict=True):
        assert same(mine, other)
    expected = theirs.conditional_expected_number_of_purchases_up_to_time(39, x, t_x, T)
    for mine, other in zip(ours.expected_transactions(39, x, t_x, T), expected, strict=True):
        assert same(mine, other)


def test_gammagamma_agrees_with_an_independent_fit(master, lifetimes_fits):
    _count, theirs, repeat = lifetimes_fits
    ours = gammagamma.fit(master.frequency[repeat], master.mean_value[repeat])
    assert ours.converged and ours.customers == int(repeat.sum())
    for name, their_name in (("p", "p"), ("q", "q"), ("gamma", "v")):
        assert same(ours.parameters[name], float(theirs.params_[their_name])), (name, ours.parameters[name])
    log_params = np.log(theirs.params_[["p", "q", "v"]].to_numpy())
    their_ll = -theirs._negative_log_likelihood(log_params, master.frequency[repeat], master.mean_value[repeat],
                                                np.ones(int(repeat.sum())), 0.0) * int(repeat.sum())
    assert same(ours.log_likelihood, their_ll), (ours.log_likelihood, their_ll)
    picked = np.flatnonzero(repeat)[[0, 10, 500, 5000]]
    theirs_spend = theirs.conditional_expected_average_profit(master.frequency[picked], master.mean_value[picked])
    for mine, other in zip(ours.expected_spend(master.frequency[picked], master.mean_value[picked]), theirs_spend,
                           strict=True):
        assert same(mine, other)
