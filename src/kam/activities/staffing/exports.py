"""Staffing in Excel: one line per unit and tier."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from kam.core.exports import ExportColumn


def staffing_columns() -> list[ExportColumn]:
    """Columns of (UnitStaffing, tier label, TierNeed) lines."""
    return [
        ExportColumn(gettext_lazy("org unit"), lambda line: line[0].unit.name),
        ExportColumn(gettext_lazy("tier"), lambda line: line[1]),
        ExportColumn(gettext_lazy("accounts"), lambda line: line[2].accounts),
        ExportColumn(gettext_lazy("hours per account a year"), lambda line: line[2].hours_per_account),
        ExportColumn(gettext_lazy("hours a year"), lambda line: line[2].hours),
        ExportColumn(gettext_lazy("managers required (unit)"), lambda line: line[0].now.required),
        ExportColumn(gettext_lazy("managers present (unit)"), lambda line: line[0].now.present),
        ExportColumn(gettext_lazy("gap (unit)"), lambda line: line[0].now.gap),
    ]
