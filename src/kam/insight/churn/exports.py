"""The churn events list as Excel/CSV columns, and the page's rate and breakdown tables as
(title, headers, rows) for a workbook with a sheet per table."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from kam.core.exports import ExportColumn
from kam.insight.churn.rates import ChurnRates, Rate


def event_columns() -> list[ExportColumn]:
    return [
        ExportColumn(_lazy("account code"), lambda e: e.account.code),
        ExportColumn(_lazy("account"), lambda e: e.account.name),
        ExportColumn(_lazy("org unit"), lambda e: e.account.unit.name if e.account.unit_id else ""),
        ExportColumn(_lazy("industry"), lambda e: e.account.industry.name if e.account.industry_id else ""),
        ExportColumn(_lazy("churn definition"), lambda e: e.definition.name),
        ExportColumn(_lazy("reason"), lambda e: e.reason.name if e.reason_id else _("Unclassified")),
        ExportColumn(_lazy("competitor"), lambda e: e.competitor.name if e.competitor_id else ""),
        ExportColumn(_lazy("churned on"), lambda e: e.churned_on),
        ExportColumn(_lazy("detected on"), lambda e: e.detected_on),
        ExportColumn(_lazy("baseline monthly spend (yuan)"), lambda e: e.baseline_amount),
        ExportColumn(_lazy("recent monthly spend (yuan)"), lambda e: e.recent_amount),
        ExportColumn(_lazy("amount lost a year (yuan)"), lambda e: e.amount_lost),
        ExportColumn(_lazy("recovered on"), lambda e: e.recovered_on),
        ExportColumn(_lazy("note"), lambda e: e.note),
    ]


def percent(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 2)


def _rate_rows(rates: list[Rate]) -> list[list]:
    return [[r.label, r.base, r.base_revenue, r.churned, percent(r.count_rate), r.lost, percent(r.amount_rate),
             percent(r.lost_share)] for r in rates]


def sheets(result: ChurnRates, chosen: dict) -> list[tuple[str, list, list[list]]]:
    """(title, headers, rows) per table of the churn page, in its order."""
    group_headers = [_("accounts in the active base"), _("base revenue, 12 months (yuan)"), _("churned accounts"),
                     _("churn rate by count %"), _("amount lost a year (yuan)"), _("churn rate by amount %"),
                     _("share of the amount lost %")]
    b = result.breakdowns
    return [
        (_("Range"), [_("first day"), _("last day"), _("per"), _("churn definition"), _("org unit"), _("industry")],
         [[result.start, result.end, result.by, str(chosen.get("definition") or _("all")),
           str(chosen.get("unit") or _("all")), str(chosen.get("industry") or _("all"))]]),
        (_("Churn rate per period"), [_("period"), *group_headers], _rate_rows(result.periods)),
        (_("Whole range"), [_("range"), *group_headers], _rate_rows([b.total])),
        (_("By reason"), [_("reason"), _("churned accounts"), _("amount lost a year (yuan)"), _("share of the amount lost %")],
         [[r.label, r.churned, r.lost, percent(r.lost_share)] for r in b.reasons]),
        (_("By industry"), [_("industry"), *group_headers], _rate_rows(b.industries)),
        (_("By tier"), [_("tier"), *group_headers], _rate_rows(b.tiers)),
        (_("By unit"), [_("org unit"), *group_headers], _rate_rows(b.units)),
    ]
