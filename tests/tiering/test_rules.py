"""Each scheme on small hand-computed cases, the edge cases, and the Pareto property."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kam.tiering import rules
from kam.tiering.defaults import SCHEMES

PARAMS = {s["code"]: s["params"] for s in SCHEMES}


def facts(revenue_yuan, previous_yuan=None, *, months=12, codes=None, **extra):
    n = len(revenue_yuan)
    return rules.Facts(
        ids=np.arange(1, n + 1),
        codes=np.array(codes or [f"C{i:03d}" for i in range(n)]),
        revenue=np.array([round(r * 100) for r in revenue_yuan], dtype=np.int64),
        previous=np.array([round(r * 100) for r in (previous_yuan or [0] * n)], dtype=np.int64),
        months=months,
        **extra,
    )


def tiers(method, f, params):
    return list(rules.apply(method, f, params).tiers)


# --- pareto-abc -------------------------------------------------------------------

def test_pareto_by_hand():
    # total 1000: 500 (50 %), 300 (80 %) → A; 100 (90 %), 60 (96 %, crosses 95 %) → B; 40 → C
    f = facts([100, 500, 40, 300, 60])
    result = rules.apply("pareto", f, PARAMS["pareto-abc"])
    assert list(result.tiers) == ["B", "A", "C", "A", "B"]
    assert list(result.inputs["rank"]) == [3, 1, 5, 2, 4]
    assert result.inputs["cum_share"][3] == 0.8


def test_pareto_an_account_that_crosses_the_cut_is_in_a():
    # 500 + 200 = 70 % < 80 %: the third account (to 90 %) is needed to reach 80 %
    assert tiers("pareto", facts([500, 200, 200, 100]), PARAMS["pareto-abc"]) == ["A", "A", "A", "B"]


def test_pareto_equal_revenue_at_the_cut_is_ordered_by_code():
    # 400 (40 %), then three accounts of 200: the second of them reaches 80 %, the third is B
    f = facts([400, 200, 200, 200], codes=["P", "X", "M", "A"])
    result = rules.apply("pareto", f, PARAMS["pareto-abc"])
    assert list(result.tiers) == ["A", "B", "A", "A"]
    assert list(result.inputs["rank"]) == [1, 4, 3, 2]
    # the same revenues listed in another order give the same tiers
    again = rules.apply("pareto", facts([200, 200, 400, 200], codes=["A", "X", "P", "M"]), PARAMS["pareto-abc"])
    assert list(again.tiers) == ["A", "B", "A", "A"]


def test_pareto_zero_negative_and_missing_revenue_are_c_and_do_not_count():
    f = facts([0, -50, 300, 100])
    result = rules.apply("pareto", f, PARAMS["pareto-abc"])
    assert list(result.tiers) == ["C", "C", "A", "A"]
    assert np.isnan(result.inputs["cum_share"][1])
    assert result.inputs["ranked"][0] == 2


def test_pareto_with_no_revenue_at_all_is_all_c():
    assert tiers("pareto", facts([0, 0, -3]), PARAMS["pareto-abc"]) == ["C", "C", "C"]
    assert tiers("pareto", facts([]), PARAMS["pareto-abc"]) == []


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=-10_000, max_value=1_000_000), min_size=1, max_size=60),
       st.sampled_from([("0.80", "0.95"), ("0.75", "0.90"), ("0.5", "0.99")]))
def test_pareto_a_is_the_smallest_prefix_of_the_ranking_reaching_the_cut(fen, cuts):
    f = rules.Facts(ids=np.arange(len(fen)), codes=np.array([f"K{i:04d}" for i in range(len(fen))]),
                    revenue=np.array(fen, dtype=np.int64), previous=np.zeros(len(fen), dtype=np.int64))
    result = rules.apply("pareto", f, {"tiers": ["A", "B", "C"], "cuts": list(cuts)})
    ranked = sorted(range(len(fen)), key=lambda i: (-fen[i], f.codes[i]))
    total = sum(x for x in fen if x > 0)
    in_a = [i for i in ranked if result.tiers[i] == "A"]
    if total == 0:
        assert not in_a
        return
    # A is a prefix of the ranking …
    assert in_a == ranked[: len(in_a)]
    # … that reaches the cut, while one account fewer does not
    cut = Fraction(cuts[0])
    assert sum(fen[i] for i in in_a) >= cut * total
    assert sum(fen[i] for i in in_a[:-1]) < cut * total
    assert all(fen[i] > 0 for i in in_a)


# --- thresholds -----------------------------------------------------------------------

def test_monthly_spend_levels_over_a_three_month_window():
    # averages: 3,000 (水晶, the lowest key level), 2,999.99 (commercial A/A+), 10,000 (银卡), 0 (none)
    f = facts([9000, 8999.97, 30000, 0, 1500 * 3, -30], months=3)
    assert tiers("monthly_spend", f, PARAMS["monthly-spend"]) == ["K1", "CA", "K2", "-", "CA", "-"]


def test_annual_value_bands_and_a_shorter_window_scales():
    f = facts([5_000_000, 4_999_999.99, 1_000_000, 500_000, 499_999])
    assert tiers("annual_value", f, PARAMS["annual-value"]) == ["S", "K", "K", "B", "-"]
    half_year = facts([2_500_000, 250_000], months=6)
    assert tiers("annual_value", half_year, PARAMS["annual-value"]) == ["S", "B"]


# --- matrices ---------------------------------------------------------------------------

def test_value_potential_by_hand():
    # ten accounts ranked by revenue; top 10 % = 1 account, top 50 % = 5 accounts
    revenue = [1000, 900, 800, 700, 600, 500, 400, 300, 200, 100]
    previous = [1000, 600, 800, 800, 100, 500, 100, 300, 200, 0]
    result = rules.apply("value_potential", facts(revenue, previous), PARAMS["value-potential"])
    assert list(result.tiers) == ["core", "potential", "maintain", "maintain", "potential",
                                  "optimise", "optimise", "optimise", "optimise", "optimise"]
    # the top account shrinking beyond the stable band is no longer core value
    shrinking = rules.apply("value_potential", facts([1000, 10], [2000, 10]), PARAMS["value-potential"])
    assert shrinking.tiers[0] == "maintain"


def test_value_potential_takes_its_potential_axis_from_the_model_forecast():
    # the accounts of test_value_potential_by_hand, with the model's forecast of the next window
    revenue = [1000, 900, 800, 700, 600, 500, 400, 300, 200, 100]
    previous = [1000, 600, 800, 800, 100, 500, 100, 300, 200, 0]
    nan = float("nan")
    forecast = [1000, 900, 960, 839.99, nan, 500, 10_000, 300, 200, 100]
    f = facts(revenue, previous, forecast=np.array([v * 100 for v in forecast]))
    result = rules.apply("value_potential", f, PARAMS["value-potential"])
    # 2nd: grew 50 % on the window before but the model sees no growth → maintain;
    # 3rd: no growth behind it, the model sees exactly +20 % → high potential; 4th: a fen short → maintain;
    # 5th: no forecast → its growth on the window before (+500 %) decides; 7th: outside the top half
    assert list(result.tiers) == ["core", "maintain", "potential", "maintain", "potential",
                                  "optimise", "optimise", "optimise", "optimise", "optimise"]
    assert result.inputs["forecast"][:4].tolist() == [1000, 900, 960, 839.99]
    assert np.isnan(result.inputs["forecast"][4])
    assert result.inputs["forecast_growth"][1:4].tolist() == pytest.approx([0.0, 0.2, 0.19998571])
    # the backward axis, asked for by name, ignores the forecast
    by_growth = rules.apply("value_potential", f, {**PARAMS["value-potential"], "potential": "growth"})
    assert list(by_growth.tiers) == ["core", "potential", "maintain", "maintain", "potential",
                                     "optimise", "optimise", "optimise", "optimise", "optimise"]
    assert "forecast" not in by_growth.inputs
    with pytest.raises(ValueError, match="potential must be one of model, growth"):
        rules.apply("value_potential", f, {**PARAMS["value-potential"], "potential": "gut"})


def _bcg(revenue, previous, **extra):
    f = facts(revenue, previous, **extra)
    return rules.apply("bcg", f, PARAMS["bcg"])


def test_bcg_a_small_fast_growing_account_is_a_star_not_a_wildcat():
    # five accounts; the large value is the top 20 % (one account), the large future value
    # the revenue of the top half (the third, 600); fast growth from +20 %
    result = _bcg([1000, 800, 600, 400, 350], [900, 800, 600, 400, 100])
    # the last is small today (350, rank 5) but grows ×3.5: projected at the cap ×2 = 700 ≥ 600
    assert list(result.tiers) == ["cow", "dog", "dog", "dog", "star"]
    assert result.inputs["projected"][4] == 700.0 and result.inputs["value_bar"][4] == 600.0
    # grown as fast but too small to matter: 60 × 2 = 120 < 600 → a dog, still no wildcat
    assert list(_bcg([1000, 800, 600, 400, 60], [900, 800, 600, 400, 20]).tiers)[4] == "dog"


def test_bcg_the_model_forecast_decides_the_future_value_where_there_is_one():
    forecast = np.array([np.nan, np.nan, np.nan, np.nan, 90_000.0])  # fen: 900 yuan next window
    result = _bcg([1000, 800, 600, 400, 100], [900, 800, 600, 400, 80], forecast=forecast)
    assert result.tiers[4] == "star" and result.inputs["projected"][4] == 900.0


def test_bcg_a_customer_that_loses_money_or_pays_late_is_a_wildcat_whatever_its_size():
    margin = np.array([-5_000, 10_000, 6_000, 4_000, 3_000])  # fen
    known = np.array([True, True, True, True, False])
    overdue = np.array([0, 0, 0, 10_000, 0])  # 100 yuan over 90 days against 400 of revenue
    result = _bcg([1000, 800, 600, 400, 350], [900, 800, 600, 400, 100], margin=margin, margin_known=known,
                  overdue=overdue)
    assert list(result.tiers) == ["wildcat", "dog", "dog", "wildcat", "star"]
    assert list(result.inputs["signals"]) == ["negative_margin", "", "", "overdue", ""]
    # a margin of 0 where none was imported is a gap, not a loss; overdue below 10 % is not a signal
    quiet = _bcg([1000, 800], [900, 800], margin=np.zeros(2, dtype=np.int64), margin_known=np.zeros(2, dtype=bool),
                 overdue=np.array([5_000, 0]))
    assert list(quiet.tiers) == ["cow", "dog"]
    # complaints, where they are known, are a signal at complaints_min
    loud = _bcg([1000, 800], [900, 800], complaints=np.array([3, 2]))
    assert list(loud.tiers) == ["wildcat", "dog"]


def test_bcg_a_large_account_that_is_falling_is_not_a_cash_cow():
    # the first falls 40 % (more than the 30 % band): large today, but not a stable business
    assert list(_bcg([600, 500, 400, 300, 200], [1000, 500, 400, 300, 200]).tiers) == [
        "dog", "dog", "dog", "dog", "dog"]
    assert list(_bcg([900, 500, 400, 300, 200], [1000, 500, 400, 300, 200]).tiers)[0] == "cow"


def test_bcg_a_large_fast_growing_account_is_a_star():
    assert _bcg([2000, 500, 400, 300, 200], [1000, 500, 400, 300, 200]).tiers[0] == "star"


def test_pareto_by_profit_differs_from_pareto_by_revenue():
    # by revenue 1000, 900, 100, 50 (total 2050): the first two reach 80 %, the third 95 %;
    # by margin (total 375) the second's 300 alone reaches 80 % → A, the third's 60 then
    # reaches 95 % → B, and the largest customer by revenue, which earns 10, is C
    margin = np.array([1_000, 30_000, 6_000, 500])
    f = facts([1000, 900, 100, 50], margin=margin)
    assert tiers("pareto", f, PARAMS["pareto-abc"]) == ["A", "A", "B", "C"]
    by_profit = rules.apply("pareto", f, {**PARAMS["pareto-abc"], "measure": "margin"})
    assert list(by_profit.tiers) == ["C", "A", "B", "C"]
    assert list(by_profit.inputs["rank"]) == [3, 1, 2, 4] and by_profit.inputs["margin"][1] == 300.0
    with pytest.raises(ValueError, match="measure must be one of revenue, margin"):
        rules.apply("pareto", f, {**PARAMS["pareto-abc"], "measure": "gut"})


def test_portfolio_follows_the_default_grid():
    # five accounts: attractiveness by rank (top 20 % high, to 50 % medium), relationship scores
    revenue = [500, 400, 300, 200, 100]
    relationship = np.array([0.9, 0.5, 0.1, 0.8, 0.0])
    potential = np.array(["", "", "", "", "high"], dtype=object)
    f = facts(revenue, relationship=relationship, potential=potential)
    # unrated accounts fall back to the revenue rank; the card's single growth-potential field
    # decides only when a scheme asks for it (use_stated_potential)
    assert tiers("portfolio", f, PARAMS["portfolio"]) == ["defend", "selective", "minimal", "selective", "exit"]
    stated = {**PARAMS["portfolio"], "use_stated_potential": True}
    assert tiers("portfolio", f, stated) == ["defend", "selective", "minimal", "selective", "develop"]
    grid = PARAMS["portfolio"]["grid"]
    assert (grid["high"]["poor"], grid["medium"]["good"], grid["low"]["poor"]) == ("develop", "maintain", "exit")


def test_scorecard_weights_and_cutoffs():
    f = facts([1000, 500, 0], [1000, 250, 0], margin=np.array([30000, 0, 0]),
              relationship=np.array([1.0, 0.5, 0.0]), potential=np.array(["high", "", "low"], dtype=object))
    result = rules.apply("scorecard", f, PARAMS["scorecard"])
    # account 1: value 100, growth 50, margin 60, relationship 100, potential 100
    #   → 0.35·100 + 0.2·50 + 0.15·60 + 0.2·100 + 0.1·100 = 84 → A
    assert result.inputs["score"][0] == 84.0 and result.tiers[0] == "A"
    # account 2: value 50, growth 100, margin 0, relationship 50, potential 50 → 17.5+20+0+10+5 = 52.5 → C
    assert result.inputs["score"][1] == 52.5 and result.tiers[1] == "C"
    assert result.tiers[2] == "D"
    # without margins imported for account 2 its margin is not a 0 but a gap: the other weights
    # (0.85) carry the score, 52.5 / 0.85 = 61.8 → C, and the margin score is None
    f.margin_known = np.array([True, False, False])
    gap = rules.apply("scorecard", f, PARAMS["scorecard"])
    assert gap.inputs["score"][0] == 84.0 and gap.inputs["score"][1] == 61.8
    assert np.isnan(gap.inputs["score_margin"][1])


def test_concentration_cap_flags_a_tier_over_its_share_of_capacity():
    f = facts([700, 200, 100])
    cap = {"tiers": ["A"], "max_share": "0.30", "capacity": 2000}
    result = rules.apply("pareto", f, PARAMS["pareto-abc"], cap)
    assert result.flags == [{"kind": "cap", "tiers": ["A"], "volume": 900.0, "limit": 600.0, "share": 0.45}]
    assert not rules.apply("pareto", f, PARAMS["pareto-abc"], {**cap, "capacity": 3000}).flags


def test_portfolio_attractiveness_comes_from_the_scorecard_indicators_with_potential_as_its_own_group():
    # four accounts of equal relationship (good); ratings 1–5 on differentiation, value for the
    # price, preference, access to key people, buying rules (NaN: not rated)
    nan = np.nan
    indicators = np.array([[5, 5, 5, 5, 5], [1, 1, 1, 1, 1], [3, 3, 3, 3, 3], [nan] * 5])
    f = facts([100, 1000, 500, 800], relationship=np.full(4, 0.9), indicators=indicators)
    result = rules.apply("portfolio", f, PARAMS["portfolio"])
    # account 1: indicators 1.0, potential (volume only: rank 4 of 4 → 0.25): 0.7 + 0.075 = 0.775 → high
    # account 2: indicators 0.0, potential 1.0 (the largest): 0.3 → low, however large it is
    # account 3: indicators 0.5, potential 0.5 (rank 3 → 0.5): 0.35 + 0.15 = 0.5 → medium
    assert list(result.inputs["attractiveness"]) == ["high", "low", "medium", "medium"]
    assert list(result.inputs["attractiveness_score"][:3]) == [0.775, 0.3, 0.5]
    # account 4, not rated, falls back to its revenue rank: 2nd of 4, within the top 50 % → medium
    assert list(result.inputs["attractiveness_source"]) == ["scorecard", "scorecard", "scorecard", "rank"]
    grid = PARAMS["portfolio"]["grid"]
    assert list(result.tiers[:3]) == [grid["high"]["good"], grid["low"]["good"], grid["medium"]["good"]]
    # the weights are parameters: preference alone decides when it is the only weight
    only = {**PARAMS["portfolio"], "potential_weight": "0",
            "indicator_weights": {"differentiation": "0", "value_for_price": "0", "preference": "1",
                                  "key_people": "0", "buying_rules": "0"}}
    rated = np.array([[5, 5, 1, 5, 5], [1, 1, 5, 1, 1], [nan] * 5, [nan] * 5])
    again = rules.apply("portfolio", facts([100, 1000, 500, 800], relationship=np.full(4, 0.9), indicators=rated), only)
    assert list(again.inputs["attractiveness"][:2]) == ["low", "high"]
