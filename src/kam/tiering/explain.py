"""Why an account has its tier, in one sentence the specialist can repeat to the customer."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.translation import gettext as _

from kam.tiering.models import Method, Snapshot, SnapshotEntry


def _yuan(value) -> str:
    return f"{intcomma(f'{Decimal(value):.0f}')} 元"


def _percent(value) -> str:
    if value in (None, "inf"):
        return _("new") if value == "inf" else "—"
    return f"{float(value) * 100:+.1f} %" if value is not None else "—"


def why(snapshot: Snapshot, entry: SnapshotEntry) -> str:
    scheme, params, inputs = snapshot.scheme, snapshot.params, entry.inputs
    label = scheme.tier_label(entry.tier)
    method = snapshot.method
    if method == Method.PARETO:
        if entry.rank is None:
            return _("No revenue in the window (%(from)s to %(to)s) → %(tier)s") % {
                "from": snapshot.window_start, "to": snapshot.as_of, "tier": label}
        cuts = [f"{float(c) * 100:.0f} %" for c in params["cuts"]]
        cumulative = f"{float(inputs.get('cum_share') or 0) * 100:.1f} %"
        return _("Rank %(rank)s of %(ranked)s by revenue (%(revenue)s); cumulative share %(cum)s "
                 "(cuts %(cuts)s) → %(tier)s") % {
            "rank": intcomma(entry.rank), "ranked": intcomma(inputs.get("ranked", "?")),
            "revenue": _yuan(entry.revenue), "cum": cumulative, "cuts": " / ".join(cuts), "tier": label}
    if method == Method.MONTHLY_SPEND:
        monthly = inputs.get("monthly") or 0
        return _("Average monthly spend %(monthly)s over %(months)s months → %(tier)s") % {
            "monthly": _yuan(monthly), "months": scheme.window_months, "tier": label}
    if method == Method.ANNUAL_VALUE:
        return _("Revenue %(revenue)s in the %(months)s months to %(to)s → %(tier)s") % {
            "revenue": _yuan(entry.revenue), "months": scheme.window_months, "to": snapshot.as_of, "tier": label}
    if method == Method.VALUE_POTENTIAL and inputs.get("forecast") is not None:
        return _("Revenue %(revenue)s, rank %(rank)s; growth %(growth)s on the window before; the model "
                 "forecasts %(forecast)s for the next %(months)s months (%(ahead)s) → %(tier)s") % {
            "revenue": _yuan(entry.revenue), "rank": intcomma(entry.rank) if entry.rank else "—",
            "growth": _percent(inputs.get("growth")), "forecast": _yuan(inputs["forecast"]),
            "months": scheme.window_months, "ahead": _percent(inputs.get("forecast_growth")), "tier": label}
    if method in (Method.VALUE_POTENTIAL, Method.BCG):
        return _("Revenue %(revenue)s, rank %(rank)s; growth %(growth)s on the window before → %(tier)s") % {
            "revenue": _yuan(entry.revenue), "rank": intcomma(entry.rank) if entry.rank else "—",
            "growth": _percent(inputs.get("growth")), "tier": label}
    if method == Method.PORTFOLIO:
        return _("Attractiveness %(attractiveness)s × relationship %(relationship)s → %(tier)s") % {
            "attractiveness": level_label(inputs.get("attractiveness")), "relationship": level_label(inputs.get("relationship")),
            "tier": label}
    if method == Method.SCORECARD:
        parts = ", ".join(f"{_indicator(k[6:])} {inputs[k]}" for k in sorted(inputs) if k.startswith("score_"))
        return _("Score %(score)s (%(parts)s) → %(tier)s") % {"score": inputs.get("score"), "parts": parts,
                                                               "tier": label}
    return label


def level_label(code) -> str:
    return {"high": _("high"), "medium": _("medium"), "low": _("low"), "good": _("good"), "fair": _("fair"),
            "poor": _("poor")}.get(code, code or "—")


def _indicator(name: str) -> str:
    return {"value": _("value"), "growth": _("growth"), "margin": _("margin"), "relationship": _("relationship"),
            "potential": _("potential")}.get(name, name)
