"""Editing a scheme's numbers on a form: the numeric leaves of its parameters as fields."""

from __future__ import annotations

import copy
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kam.core.errors import ValidationFailed


def _numeric(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if isinstance(value, str):
        try:
            Decimal(value)
        except InvalidOperation:
            return False
        return True
    return False


# What the form calls each parameter (its key is what the scheme stores).
PARAM_LABELS = {
    "cuts": gettext_lazy("cumulative share cut"),
    "value_share": gettext_lazy("large current value: top share of accounts"),
    "growth_cut": gettext_lazy("fast growth: at least"),
    "decline_band": gettext_lazy("stable business: falls at most"),
    "future_share": gettext_lazy("large future value: reaches the top share"),
    "growth_cap": gettext_lazy("projection: growth capped at"),
    "min_margin_rate": gettext_lazy("wildcat: margin rate below"),
    "overdue_share": gettext_lazy("wildcat: receivables over 90 days at least (share of revenue)"),
    "complaints_min": gettext_lazy("wildcat: complaints in the window at least"),
    "core_share": gettext_lazy("core value: top share of accounts"),
    "medium_share": gettext_lazy("medium value: top share of accounts"),
    "fast_growth": gettext_lazy("fast growth: at least"),
    "stable_band": gettext_lazy("stable demand: falls at most"),
    "attractiveness_cuts": gettext_lazy("attractiveness cut"),
    "relationship_cuts": gettext_lazy("relationship cut"),
    "weights": gettext_lazy("weight"),
    "value": gettext_lazy("value"),
    "growth": gettext_lazy("growth"),
    "margin": gettext_lazy("margin"),
    "relationship": gettext_lazy("relationship"),
    "potential": gettext_lazy("potential"),
    "cutoffs": gettext_lazy("minimum score"),
    "min": gettext_lazy("minimum"),
    "indicator_weights": gettext_lazy("attractiveness indicator weight"),
    "differentiation": gettext_lazy("differentiation"),
    "value_for_price": gettext_lazy("value for the price"),
    "preference": gettext_lazy("preference for us"),
    "key_people": gettext_lazy("access to key people"),
    "buying_rules": gettext_lazy("buying rules"),
    "potential_weight": gettext_lazy("weight of potential (volume, margin)"),
    "attractiveness_levels": gettext_lazy("attractiveness level from score"),
}


def _label(key: str) -> str:
    return str(PARAM_LABELS.get(key, key))


def numeric_leaves(params: dict, scheme=None) -> list[tuple[str, str, str]]:
    """(path, label, value) of every number in the parameters, e.g. ("cuts.0", "cumulative
    share cut · 1", "0.80")."""
    found: list[tuple[str, str, str]] = []

    def walk(node, path: list[str], label: list[str]) -> None:
        if isinstance(node, dict):
            named = node.get("label") or node.get("code")
            for key, value in node.items():
                if key in ("code", "label", "label_en"):
                    continue
                walk(value, [*path, key], [*label, str(named)] if named and key == "min" else [*label, _label(key)])
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, [*path, str(i)], label if isinstance(value, dict) else [*label, str(i + 1)])
        elif _numeric(node):
            found.append((".".join(path), " · ".join(label), str(node)))

    walk(params, [], [])
    return found


def with_values(params: dict, values: dict[str, str]) -> dict:
    """A copy of `params` with the numbers at the given paths replaced; refuses non-numbers."""
    result = copy.deepcopy(params)
    known = {path for path, _label, _value in numeric_leaves(params)}
    errors = {}
    for path, raw in values.items():
        if path not in known:
            continue
        try:
            number = Decimal(str(raw).strip())
        except InvalidOperation:
            errors[path] = [_("Enter a number.")]
            continue
        if number < 0:
            errors[path] = [_("Enter a number that is not negative.")]
            continue
        node = result
        *parents, last = path.split(".")
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        key = int(last) if isinstance(node, list) else last
        node[key] = str(number) if isinstance(node[key], str) else (float(number) if isinstance(node[key], float)
                                                                       else int(number) if number == int(number)
                                                                       else float(number))
    if errors:
        raise ValidationFailed(_("Please correct the numbers below."), errors=errors)
    return result


# --- the rules each method's parameters follow -----------------------------------------------------


def _number(value) -> Decimal | None:
    return Decimal(str(value).strip()) if _numeric(value) else None


def parameter_errors(method: str, params: dict) -> dict[str, list[str]]:
    """What is wrong with a scheme's parameters for its method, by path ("cuts.1": [...]), the
    same paths as the form's fields; {} when they are sound."""
    errors: dict[str, list[str]] = {}

    def say(path: str, message: str) -> None:
        errors.setdefault(path, []).append(message)

    def number(path: str, value, *, low=None, high=None, low_open=False) -> Decimal | None:
        found = _number(value)
        if found is None:
            say(path, _("Enter a number."))
            return None
        if low is not None and (found < low or (low_open and found == low)):
            say(path, _("Must be greater than %(low)s.") % {"low": low} if low_open
                else _("Must be at least %(low)s.") % {"low": low})
        elif high is not None and found > high:
            say(path, _("Must be at most %(high)s.") % {"high": high})
        return found

    def shares(key: str, *, count: int | None = None, ascending: bool = True) -> None:
        values = params.get(key)
        if not isinstance(values, list) or not values:
            say(key, _("Enter a list of shares."))
            return
        if count is not None and len(values) != count:
            say(key, _("Enter %(n)d values.") % {"n": count})
        found = [number(f"{key}.{i}", v, low=Decimal(0), high=Decimal(1), low_open=True) for i, v in enumerate(values)]
        for i in range(1, len(found)):
            if found[i - 1] is not None and found[i] is not None and (
                    found[i] <= found[i - 1] if ascending else found[i] >= found[i - 1]):
                say(f"{key}.{i}", _("Must be greater than the one before.") if ascending
                    else _("Must be smaller than the one before."))

    def tiers(count: int | None = None) -> list:
        codes = params.get("tiers")
        if not isinstance(codes, list) or not all(isinstance(c, str) and c for c in codes):
            say("tiers", _("Enter the tier codes."))
            return []
        if count is not None and len(codes) != count:
            say("tiers", _("Enter %(n)d tier codes.") % {"n": count})
        if len(set(codes)) != len(codes):
            say("tiers", _("Each tier code may appear once."))
        return codes

    def bands() -> None:
        found = params.get("bands")
        if not isinstance(found, list) or not found or not all(isinstance(b, dict) and b.get("code") for b in found):
            say("bands", _("Enter the levels, each with a code and a minimum."))
            return
        minimums = [number(f"bands.{i}.min", b.get("min"), low=Decimal(0)) for i, b in enumerate(found)]
        if len({b["code"] for b in found}) != len(found):
            say("bands", _("Each tier code may appear once."))
        known = [m for m in minimums if m is not None]
        if len(set(known)) != len(known):
            say("bands", _("Two levels have the same minimum."))

    if method == "pareto":
        codes = tiers()
        shares("cuts", count=max(len(codes) - 1, 1))
        if params.get("measure", "revenue") not in ("revenue", "margin"):
            say("measure", _("Rank by revenue or by margin."))
    elif method in ("monthly_spend", "annual_value"):
        bands()
    elif method == "value_potential":
        tiers(4)
        core = number("core_share", params.get("core_share"), low=Decimal(0), high=Decimal(1), low_open=True)
        medium = number("medium_share", params.get("medium_share"), low=Decimal(0), high=Decimal(1), low_open=True)
        if core is not None and medium is not None and core > medium:
            say("core_share", _("The core share must not be greater than the medium share."))
        number("fast_growth", params.get("fast_growth"), low=Decimal(-1), low_open=True)
        number("stable_band", params.get("stable_band"), low=Decimal(0))
        # the potential axis ("model" or "growth") is checked by the rule itself
    elif method == "bcg":
        tiers(4)
        number("value_share", params.get("value_share"), low=Decimal(0), high=Decimal(1), low_open=True)
        number("growth_cut", params.get("growth_cut"), low=Decimal(-1), low_open=True)
        for key, low, high in (("decline_band", Decimal(0), Decimal(1)), ("future_share", Decimal(0), Decimal(1)),
                               ("growth_cap", Decimal(0), None), ("min_margin_rate", Decimal(-1), Decimal(1)),
                               ("overdue_share", Decimal(0), None), ("complaints_min", Decimal(1), None)):
            if key in params:
                number(key, params[key], low=low, high=high, low_open=key == "future_share")
    elif method == "portfolio":
        shares("attractiveness_cuts", count=2)
        if "attractiveness_levels" in params:
            shares("attractiveness_levels", count=2, ascending=False)
        if "potential_weight" in params:
            number("potential_weight", params["potential_weight"], low=Decimal(0), high=Decimal(1))
        indicator_weights = params.get("indicator_weights", {})
        if not isinstance(indicator_weights, dict):
            say("indicator_weights", _("Enter the weights."))
        else:
            for name, weight in indicator_weights.items():
                if name not in ("differentiation", "value_for_price", "preference", "key_people", "buying_rules"):
                    say(f"indicator_weights.{name}", _("Not an indicator of the scorecard."))
                number(f"indicator_weights.{name}", weight, low=Decimal(0))
        shares("relationship_cuts", count=2, ascending=False)
        grid = params.get("grid")
        rows, columns = ("high", "medium", "low"), ("poor", "fair", "good")
        if not isinstance(grid, dict) or any(not isinstance(grid.get(r), dict) for r in rows):
            say("grid", _("Name a tier for every cell of the grid."))
        else:
            for r in rows:
                for c in columns:
                    if not isinstance(grid[r].get(c), str) or not grid[r][c]:
                        say(f"grid.{r}.{c}", _("Name a tier for every cell of the grid."))
    elif method == "scorecard":
        weights = params.get("weights")
        known = ("value", "growth", "margin", "relationship", "potential")
        if not isinstance(weights, dict) or not weights:
            say("weights", _("Enter the weights."))
        else:
            for name, weight in weights.items():
                if name not in known:
                    say(f"weights.{name}", _("Not an indicator of the scorecard."))
                number(f"weights.{name}", weight, low=Decimal(0))
            if all(_number(w) is not None for w in weights.values()) and sum(_number(w) for w in weights.values()) <= 0:
                say("weights", _("At least one weight must be above 0."))
        cutoffs = params.get("cutoffs")
        if not isinstance(cutoffs, list) or not cutoffs or not all(isinstance(c, dict) and c.get("code") for c in cutoffs):
            say("cutoffs", _("Enter the tiers, each with a code and a minimum score."))
        else:
            for i, cutoff in enumerate(cutoffs):
                number(f"cutoffs.{i}.min", cutoff.get("min", 0), low=Decimal(0), high=Decimal(100))
            if len({c["code"] for c in cutoffs}) != len(cutoffs):
                say("cutoffs", _("Each tier code may appear once."))
    return errors
