"""The tiering rules: facts about accounts in, one tier per account out, with the inputs
that decided it. Pure numpy, no database, no Django.

Money is carried as whole fen (分) in int64, so the 80 % cut of a Pareto ranking is an
exact integer comparison, never a float that lands a hair either side of the line.

Ties and edge cases, the same in every scheme:
- accounts are ranked by window revenue, highest first; equal revenue is ordered by
  account code, so the ranking — and the tier — never depends on database order;
- net revenue ≤ 0 in the window (no facts, or refunds exceeding sales) never ranks
  into a value tier and never counts in the total;
- growth compares the window with the window before it; with nothing before, an
  account with revenue is "new" (infinite growth) and one without has growth 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

NO_TIER = "-"


@dataclass
class Facts:
    """Per-account inputs, aligned arrays of equal length."""

    ids: np.ndarray  # int64 account ids
    codes: np.ndarray  # account codes, or their positions in code order: the tie-break
    revenue: np.ndarray  # int64 fen in the window
    previous: np.ndarray  # int64 fen in the window before
    margin: np.ndarray | None = None  # int64 fen of margin in the window
    quantity: np.ndarray | None = None  # float, for concentration caps on volume
    months: int = 12  # window length, for monthly averages
    # Optional qualitative inputs: level codes "high"/"medium"/"low"/"" and 0..1 scores.
    potential: np.ndarray | None = None
    relationship: np.ndarray | None = None
    # The customer-base model's forecast of revenue in the next window, float fen; NaN for
    # an account without a forecast.
    forecast: np.ndarray | None = None
    # Which accounts have margins in the window (bool): a margin of 0 is then a fact, not a gap.
    margin_known: np.ndarray | None = None
    # The scorecard's attractiveness ratings (1–5, NaN where not rated), one column per
    # indicator of INDICATORS, for the portfolio.
    indicators: np.ndarray | None = None
    # Receivables overdue more than 90 days, int64 fen, and complaints in the window (counts).
    overdue: np.ndarray | None = None
    complaints: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class Result:
    tiers: np.ndarray  # tier code per account (object array of str)
    inputs: dict[str, np.ndarray] = field(default_factory=dict)
    flags: list[dict[str, Any]] = field(default_factory=list)


def ranking(facts: Facts, amount: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(order, rank): order lists account positions best first by `amount` (window revenue
    unless given, e.g. margin); rank is 1-based per account."""
    order = np.lexsort((facts.codes, -(facts.revenue if amount is None else amount)))
    rank = np.empty(len(facts), dtype=np.int64)
    rank[order] = np.arange(1, len(facts) + 1)
    return order, rank


def growth(facts: Facts) -> np.ndarray:
    """(revenue − previous) / previous; +inf for new revenue, 0 for none on either side."""
    revenue, previous = facts.revenue.astype(np.float64), facts.previous.astype(np.float64)
    result = np.zeros(len(facts))
    known = previous > 0
    result[known] = (revenue[known] - previous[known]) / previous[known]
    result[~known & (revenue > 0)] = np.inf
    return result


def _threshold(cut: str | float, total: int) -> int:
    """The smallest whole-fen amount that is at least `cut` × `total`, computed exactly."""
    return math.ceil(Fraction(str(cut)) * total)


PARETO_MEASURES = ("revenue", "margin")


def pareto_abc(facts: Facts, params: dict) -> Result:
    """A: the smallest prefix of the ranking whose amount reaches cuts[0] of the total;
    B: then up to cuts[1]; C: the rest, and every account with an amount ≤ 0. The amount is
    the window's revenue, or its margin (profit) with `measure` "margin" ("按销售额或利润")."""
    labels, cuts = params["tiers"], params["cuts"]
    measure = params.get("measure", "revenue")
    if measure not in PARETO_MEASURES:
        raise ValueError(f"measure must be one of {', '.join(PARETO_MEASURES)}, not {measure!r}")
    amount = facts.revenue
    if measure == "margin":
        amount = facts.margin if facts.margin is not None else np.zeros(len(facts), dtype=np.int64)
    order, rank = ranking(facts, amount)
    positive = np.where(amount > 0, amount, 0)
    total = int(positive.sum())
    cumulative = np.cumsum(positive[order])
    before = cumulative - positive[order]  # the amount ranked above each account
    tier_index = np.full(len(facts), len(labels) - 1)
    if total > 0:
        thresholds = np.array([_threshold(c, total) for c in cuts], dtype=np.int64)
        # An account is in tier k while the accounts above it have not reached cut k.
        tier_index[order] = np.searchsorted(thresholds, before, side="right")
    tier_index[amount <= 0] = len(labels) - 1
    tiers = np.asarray(labels, dtype=object)[tier_index]
    cum_share = np.zeros(len(facts))
    share = np.zeros(len(facts))
    if total:
        cum_share[order] = cumulative / total
        share = positive / total
    cum_share[amount <= 0] = np.nan
    inputs = {"revenue": facts.revenue, "rank": rank if measure == "revenue" else np.where(amount > 0, rank, 0),
              "share": share,
              "cum_share": cum_share, "ranked": np.full(len(facts), int((amount > 0).sum()))}
    if measure == "margin":
        inputs["margin"] = amount / 100
    return Result(tiers, inputs)


def _bands(amount_fen: np.ndarray, bands: list[dict], scale: int) -> np.ndarray:
    """First band (highest first) whose minimum (yuan per period × scale) the amount reaches."""
    tiers = np.full(len(amount_fen), NO_TIER, dtype=object)
    undecided = np.ones(len(amount_fen), dtype=bool)
    for band in sorted(bands, key=lambda b: -Fraction(str(b["min"]))):
        minimum = math.ceil(Fraction(str(band["min"])) * 100 * scale)
        # A band with min 0 admits only positive amounts: no spend is no level.
        hit = undecided & (amount_fen >= minimum) & (amount_fen > 0)
        tiers[hit] = band["code"]
        undecided &= ~hit
    return tiers


def monthly_spend(facts: Facts, params: dict) -> Result:
    """Average monthly spend over the window against the level minimums (元/月)."""
    months = max(1, facts.months)
    tiers = _bands(facts.revenue, params["bands"], months)
    return Result(tiers, {"revenue": facts.revenue, "monthly": facts.revenue / 100 / months})


def annual_value(facts: Facts, params: dict) -> Result:
    """Revenue over a 12-month window against the yearly minimums (元/年)."""
    scale = Fraction(facts.months, 12)
    bands = [{**b, "min": Fraction(str(b["min"])) * scale} for b in params["bands"]]
    tiers = _bands(facts.revenue, bands, 1)
    return Result(tiers, {"revenue": facts.revenue})


def _top(rank: np.ndarray, facts: Facts, share: str | float) -> np.ndarray:
    """Whether each account is within the top `share` of accounts with positive revenue."""
    ranked = int((facts.revenue > 0).sum())
    limit = math.ceil(Fraction(str(share)) * ranked)
    return (rank <= limit) & (facts.revenue > 0)


POTENTIAL_AXES = ("model", "growth")


def forecast_growth(facts: Facts) -> np.ndarray:
    """(forecast − revenue) / revenue: how far the model's next window exceeds this one;
    NaN without a forecast or without revenue in the window."""
    result = np.full(len(facts), np.nan)
    if facts.forecast is None:
        return result
    revenue = facts.revenue.astype(np.float64)
    known = np.isfinite(facts.forecast) & (revenue > 0)
    result[known] = (facts.forecast[known] - revenue[known]) / revenue[known]
    return result


def value_potential(facts: Facts, params: dict) -> Result:
    """Core value: top `core_share` by revenue with stable or rising demand; high potential:
    within the top `medium_share` and growing at least `fast_growth`; maintain: the rest of
    the top `medium_share`; to optimise: everyone else.

    Growth for the potential axis: with `potential` "model" (the default), the model's
    forecast of the next window against this window's revenue, for each account that has a
    forecast; otherwise (and with "growth") this window against the one before."""
    axis = params.get("potential", "model")
    if axis not in POTENTIAL_AXES:
        raise ValueError(f"potential must be one of {', '.join(POTENTIAL_AXES)}, not {axis!r}")
    _order, rank = ranking(facts)
    g = growth(facts)
    core = _top(rank, facts, params["core_share"]) & (g >= -float(Fraction(str(params["stable_band"]))))
    medium = _top(rank, facts, params["medium_share"])
    fast_cut = float(Fraction(str(params["fast_growth"])))
    fast = g >= fast_cut
    inputs = {"revenue": facts.revenue, "rank": rank, "growth": g}
    if axis == "model" and facts.forecast is not None:
        ahead = forecast_growth(facts)
        modelled = np.isfinite(facts.forecast)
        with np.errstate(invalid="ignore"):
            fast = np.where(modelled, ahead >= fast_cut, fast)
        inputs["forecast"] = np.where(modelled, np.round(facts.forecast) / 100, np.nan)
        inputs["forecast_growth"] = ahead
    codes = params["tiers"]  # [core, potential, maintain, optimise]
    tiers = np.full(len(facts), codes[3], dtype=object)
    tiers[medium] = codes[2]
    tiers[medium & fast] = codes[1]
    tiers[core] = codes[0]
    return Result(tiers, inputs)


def _fraction(value: str | float) -> float:
    return float(Fraction(str(value)))


def projected_value(facts: Facts, g: np.ndarray, cap: str | float) -> np.ndarray:
    """Float fen the account is expected to bring in the next window: the model's forecast
    where it has one, else this window grown at its growth rate, the rate capped at `cap`
    (a new account, growth "new", counts as growing at the cap)."""
    revenue = facts.revenue.astype(np.float64)
    rate = np.clip(np.nan_to_num(g, posinf=_fraction(cap)), -1.0, _fraction(cap))
    projected = revenue * (1 + rate)
    if facts.forecast is not None:
        modelled = np.isfinite(facts.forecast)
        projected = np.where(modelled, facts.forecast, projected)
    return np.where(facts.revenue > 0, projected, 0.0)


def _value_bar(rank: np.ndarray, facts: Facts, share: str | float) -> int:
    """The window revenue (fen) of the last account within the top `share` of the ranked
    accounts: what a "large" value is in this base. 0 when no account has revenue."""
    ranked = int((facts.revenue > 0).sum())
    if not ranked:
        return 0
    place = max(1, math.ceil(Fraction(str(share)) * ranked))
    return int(facts.revenue[np.flatnonzero(rank == place)[0]])


BCG_SIGNALS = ("negative_margin", "overdue", "complaints")


def bcg(facts: Facts, params: dict) -> Result:
    """The source's BCG matrix (波士顿矩阵), not the textbook one:

    - 野猫 wildcat: the customer that loses us money or harms the brand — a margin rate below
      `min_margin_rate` in the window (where margins are known), receivables overdue more
      than 90 days of at least `overdue_share` of the window's revenue, or at least
      `complaints_min` complaints in the window (where complaints are known); to cut;
    - 明星 star: growing fast (≥ `growth_cut` on the window before) with a large future
      value — its projected next window (the model's forecast, else this window grown at
      its rate capped at `growth_cap`) reaches the value of the top `future_share` — even
      when it is small today;
    - 金牛 cash cow: a large current value (top `value_share` by revenue), growth slowed
      (below `growth_cut`) and a stable business (not falling more than `decline_band`);
    - 瘦狗 dog: the rest, mediocre value and potential.

    A wildcat signal decides before value and growth; stars and cash cows are the value
    customers (价值客户)."""
    star, cow, wildcat, dog = params["tiers"]
    n = len(facts)
    _order, rank = ranking(facts)
    g = growth(facts)
    fast = (g >= _fraction(params["growth_cut"])) & (facts.revenue > 0)
    large_now = _top(rank, facts, params["value_share"])
    stable = g >= -_fraction(params.get("decline_band", "0.30"))
    projected = projected_value(facts, g, params.get("growth_cap", "1"))
    bar = _value_bar(rank, facts, params.get("future_share", "0.50"))
    large_future = (projected >= bar) & (projected > 0)

    revenue = facts.revenue.astype(np.float64)
    known = facts.margin_known if facts.margin_known is not None else np.zeros(n, dtype=bool)
    margin = facts.margin if facts.margin is not None else np.zeros(n, dtype=np.int64)
    rate = np.divide(margin, revenue, out=np.zeros(n), where=revenue > 0)
    losing = known & ((margin < 0) | ((revenue > 0) & (rate < _fraction(params.get("min_margin_rate", "0")))))
    overdue_fen = facts.overdue if facts.overdue is not None else np.zeros(n, dtype=np.int64)
    overdue = (overdue_fen > 0) & (overdue_fen >= _fraction(params.get("overdue_share", "0.10")) *
                                   np.maximum(revenue, 0))
    complaints = (facts.complaints >= int(params.get("complaints_min", 3)) if facts.complaints is not None
                  else np.zeros(n, dtype=bool))

    tiers = np.full(n, dog, dtype=object)
    tiers[large_now & ~fast & stable] = cow
    tiers[fast & (large_future | large_now)] = star
    tiers[losing | overdue | complaints] = wildcat
    signals = np.array([",".join(name for name, hit in zip(BCG_SIGNALS, hits, strict=True) if hit)
                        for hits in zip(losing.tolist(), overdue.tolist(), complaints.tolist(), strict=True)],
                       dtype=object) if n else np.zeros(0, dtype=object)
    inputs = {"revenue": facts.revenue, "rank": rank, "growth": g, "projected": np.round(projected) / 100,
              "value_bar": np.full(n, bar / 100), "signals": signals,
              "margin_rate": np.where(known & (revenue > 0), rate, np.nan),
              "overdue": overdue_fen / 100}
    if facts.complaints is not None:
        inputs["complaints"] = facts.complaints
    return Result(tiers, inputs)


def _levels_from_rank(rank: np.ndarray, facts: Facts, cuts: list) -> np.ndarray:
    levels = np.full(len(facts), "low", dtype=object)
    levels[_top(rank, facts, cuts[1])] = "medium"
    levels[_top(rank, facts, cuts[0])] = "high"
    return levels


def _relationship_level(facts: Facts, cuts: list) -> np.ndarray:
    score = facts.relationship if facts.relationship is not None else np.zeros(len(facts))
    levels = np.full(len(facts), "poor", dtype=object)
    levels[score >= float(cuts[1])] = "fair"
    levels[score >= float(cuts[0])] = "good"
    return levels


INDICATORS = ("differentiation", "value_for_price", "preference", "key_people", "buying_rules")


def attractiveness_scores(facts: Facts, params: dict, rank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(score 0..1, rated) per account: the scorecard's attractiveness indicators (1–5, each
    weighted by `indicator_weights`, a missing rating left out) blended with the potential
    group — volume (the revenue percentile) and margin (the margin rate × 2, capped at 1,
    where margins are known) — weighted `potential_weight`. NaN where no indicator is rated."""
    n = len(facts)
    score = np.full(n, np.nan)
    if facts.indicators is None or not n:
        return score, np.zeros(n, dtype=bool)
    weights = np.array([_fraction(params.get("indicator_weights", {}).get(k, "0.2")) for k in INDICATORS])
    ratings = (facts.indicators - 1) / 4  # 1..5 → 0..1
    given = np.isfinite(ratings)
    total = (np.where(given, weights, 0)).sum(axis=1)
    rated = total > 0
    indicator = np.divide(np.nansum(np.where(given, ratings * weights, 0), axis=1), total,
                          out=np.zeros(n), where=rated)
    ranked = max(1, int((facts.revenue > 0).sum()))
    volume = np.where(facts.revenue > 0, 1 - (rank - 1) / ranked, 0.0)
    potential = volume
    if facts.margin is not None and facts.margin_known is not None:
        rate = np.divide(facts.margin, facts.revenue, out=np.zeros(n), where=facts.revenue > 0)
        potential = np.where(facts.margin_known, (volume + np.clip(rate * 2, 0, 1)) / 2, volume)
    share = _fraction(params.get("potential_weight", "0.3"))
    score[rated] = (1 - share) * indicator[rated] + share * potential[rated]
    return score, rated


def portfolio(facts: Facts, params: dict) -> Result:
    """Attractiveness (high/medium/low) × relationship (good/fair/poor) → strategy, by the grid.

    Attractiveness is read from the scorecard's attractiveness indicators with potential
    (volume, margin) as its own group (see attractiveness_scores): high from
    `attractiveness_levels[0]`, medium from `[1]`. An account nobody has rated falls back to
    its revenue rank (`attractiveness_cuts`), and its explanation says so."""
    _order, rank = ranking(facts)
    attractiveness = _levels_from_rank(rank, facts, params["attractiveness_cuts"])
    if params.get("use_stated_potential", False) and facts.potential is not None:
        stated = np.isin(facts.potential, ["high", "medium", "low"])
        attractiveness[stated] = facts.potential[stated]
    score, rated = attractiveness_scores(facts, params, rank)
    if rated.any():
        high, medium = (_fraction(c) for c in params.get("attractiveness_levels", ["0.67", "0.34"]))
        attractiveness[rated] = np.where(score[rated] >= high, "high",
                                         np.where(score[rated] >= medium, "medium", "low"))
    relationship = _relationship_level(facts, params["relationship_cuts"])
    grid = params["grid"]
    tiers = np.array([grid[a][r] for a, r in zip(attractiveness, relationship, strict=True)], dtype=object)
    return Result(tiers, {"revenue": facts.revenue, "rank": rank, "attractiveness": attractiveness,
                          "relationship": relationship, "attractiveness_score": np.round(score, 3),
                          "attractiveness_source": np.where(rated, "scorecard", "rank").astype(object)})


def scorecard(facts: Facts, params: dict) -> Result:
    """Weighted indicators scored 0–100, then letter cut-offs (A ≥ 80 …)."""
    n = len(facts)
    _order, rank = ranking(facts)
    ranked = max(1, int((facts.revenue > 0).sum()))
    scores: dict[str, np.ndarray] = {}
    scores["value"] = np.where(facts.revenue > 0, 100.0 * (1 - (rank - 1) / ranked), 0.0)
    g = growth(facts)
    scores["growth"] = np.clip((np.nan_to_num(g, posinf=1.0) + 0.5) * 100, 0, 100)
    # The margin indicator where margins are known; an account without them is scored on the
    # other indicators (their weights share the margin's), and its explanation says so.
    known = (facts.margin_known if facts.margin_known is not None
             else np.full(n, facts.margin is not None, dtype=bool))
    if facts.margin is not None:
        rate = np.divide(facts.margin, facts.revenue, out=np.zeros(n), where=facts.revenue > 0)
        scores["margin"] = np.where(known, np.clip(rate * 200, 0, 100), np.nan)
    else:
        scores["margin"] = np.full(n, np.nan)
    scores["relationship"] = 100 * (facts.relationship if facts.relationship is not None else np.zeros(n))
    potential_points = {"high": 100.0, "medium": 60.0, "low": 20.0}
    potential = facts.potential if facts.potential is not None else np.full(n, "", dtype=object)
    scores["potential"] = np.array([potential_points.get(p, 50.0) for p in potential])
    weights = params["weights"]
    weighted = sum(np.nan_to_num(scores[name]) * float(w) for name, w in weights.items())
    total_weight = sum(np.where(np.isnan(scores[name]), 0.0, float(w)) for name, w in weights.items())
    score = np.divide(weighted, total_weight, out=np.zeros(n), where=np.asarray(total_weight) > 0)
    tiers = np.full(n, params["cutoffs"][-1]["code"], dtype=object)
    for cutoff in sorted(params["cutoffs"], key=lambda c: float(c.get("min", 0))):
        tiers[score >= float(cutoff.get("min", 0))] = cutoff["code"]
    return Result(tiers, {"revenue": facts.revenue, "score": np.round(score, 1),
                          **{f"score_{k}": np.round(v, 1) for k, v in scores.items()}})


METHODS: dict[str, Callable[[Facts, dict], Result]] = {
    "pareto": pareto_abc,
    "monthly_spend": monthly_spend,
    "annual_value": annual_value,
    "value_potential": value_potential,
    "bcg": bcg,
    "portfolio": portfolio,
    "scorecard": scorecard,
}


def check_cap(result: Result, facts: Facts, cap: dict | None) -> list[dict]:
    """A concentration cap: the tiers' combined volume against a share of capacity."""
    if not cap:
        return []
    chosen = np.isin(result.tiers, cap["tiers"])
    measure = facts.quantity if cap.get("measure") == "quantity" and facts.quantity is not None else facts.revenue / 100
    volume = float(np.sum(np.where(chosen, measure, 0)))
    limit = float(Fraction(str(cap["max_share"])) * Fraction(str(cap["capacity"])))
    if volume <= limit:
        return []
    return [{"kind": "cap", "tiers": cap["tiers"], "volume": round(volume, 2), "limit": round(limit, 2),
             "share": round(volume / float(cap["capacity"]), 4) if float(cap["capacity"]) else None}]


def apply(method: str, facts: Facts, params: dict, cap: dict | None = None) -> Result:
    result = METHODS[method](facts, params)
    result.flags = check_cap(result, facts, cap)
    return result
