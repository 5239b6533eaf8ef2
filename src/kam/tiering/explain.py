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
    if method == Method.PARETO and params.get("measure") == "margin":
        if entry.rank is None:
            return _("No margin in the window (%(from)s to %(to)s) → %(tier)s") % {
                "from": snapshot.window_start, "to": snapshot.as_of, "tier": label}
        cuts = [f"{float(c) * 100:.0f} %" for c in params["cuts"]]
        return _("Rank %(rank)s of %(ranked)s by margin (%(margin)s); cumulative share %(cum)s "
                 "(cuts %(cuts)s) → %(tier)s") % {
            "rank": intcomma(entry.rank), "ranked": intcomma(inputs.get("ranked", "?")),
            "margin": _yuan(inputs.get("margin") or 0), "cum": f"{float(inputs.get('cum_share') or 0) * 100:.1f} %",
            "cuts": " / ".join(cuts), "tier": label}
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
    if method == Method.BCG and "signals" in inputs:
        return _bcg_why(params, inputs, entry, label)
    if method in (Method.VALUE_POTENTIAL, Method.BCG):
        return _("Revenue %(revenue)s, rank %(rank)s; growth %(growth)s on the window before → %(tier)s") % {
            "revenue": _yuan(entry.revenue), "rank": intcomma(entry.rank) if entry.rank else "—",
            "growth": _percent(inputs.get("growth")), "tier": label}
    if method == Method.PORTFOLIO:
        source = (_("scorecard %(score)s") % {"score": inputs.get("attractiveness_score")}
                  if inputs.get("attractiveness_source") == "scorecard" else _("by revenue rank: not rated"))
        return _("Attractiveness %(attractiveness)s (%(source)s) × relationship %(relationship)s → %(tier)s") % {
            "attractiveness": level_label(inputs.get("attractiveness")), "source": source,
            "relationship": level_label(inputs.get("relationship")), "tier": label}
    if method == Method.SCORECARD:
        parts = ", ".join(f"{_indicator(k[6:])} {inputs[k]}" if inputs[k] is not None
                          else f"{_indicator(k[6:])}: {_('no margins imported') if k == 'score_margin' else '—'}"
                          for k in sorted(inputs) if k.startswith("score_"))
        return _("Score %(score)s (%(parts)s) → %(tier)s") % {"score": inputs.get("score"), "parts": parts,
                                                               "tier": label}
    return label


def level_label(code) -> str:
    return {"high": _("high"), "medium": _("medium"), "low": _("low"), "good": _("good"), "fair": _("fair"),
            "poor": _("poor")}.get(code, code or "—")


def _indicator(name: str) -> str:
    return {"value": _("value"), "growth": _("growth"), "margin": _("margin"), "relationship": _("relationship"),
            "potential": _("potential")}.get(name, name)


def _bcg_why(params: dict, inputs: dict, entry: SnapshotEntry, label: str) -> str:
    """The BCG quadrant from its inputs: the wildcat signals first, then value and growth."""
    signals = [name for name in (inputs.get("signals") or "").split(",") if name]
    if signals:
        said = []
        if "negative_margin" in signals:
            said.append(_("margin rate %(rate)s") % {"rate": _percent(inputs.get("margin_rate"))})
        if "overdue" in signals:
            said.append(_("receivables over 90 days %(amount)s") % {"amount": _yuan(inputs.get("overdue") or 0)})
        if "complaints" in signals:
            said.append(_("%(n)s complaints") % {"n": inputs.get("complaints")})
        return _("Loses us money or harms the brand: %(signals)s → %(tier)s") % {
            "signals": "; ".join(said), "tier": label}
    margins = (_("margin rate %(rate)s") % {"rate": _percent(inputs.get("margin_rate"))}
               if inputs.get("margin_rate") is not None else _("no margins imported"))
    return _("Revenue %(revenue)s, rank %(rank)s; growth %(growth)s (fast from %(cut)s); next window "
             "projected %(projected)s against a large value of %(bar)s; %(margins)s → %(tier)s") % {
        "revenue": _yuan(entry.revenue), "rank": intcomma(entry.rank) if entry.rank else "—",
        "growth": _percent(inputs.get("growth")), "cut": _percent(params.get("growth_cut")),
        "projected": _yuan(inputs.get("projected") or 0), "bar": _yuan(inputs.get("value_bar") or 0),
        "margins": margins, "tier": label}
