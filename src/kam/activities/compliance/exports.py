"""The compliance table and the overdue accounts in Excel."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kam.core.exports import ExportColumn


def compliance_columns() -> list[ExportColumn]:
    """One line per unit, then per person: (level, summary.Row)."""
    return [
        ExportColumn(_("level"), lambda r: r[0]),
        ExportColumn(_("name"), lambda r: r[1].name),
        ExportColumn(_("accounts with a standard"), lambda r: r[1].accounts),
        ExportColumn(_("visits required"), lambda r: r[1].required_visits),
        ExportColumn(_("visits done"), lambda r: r[1].done_visits),
        ExportColumn(_("calls required"), lambda r: r[1].required_calls),
        ExportColumn(_("calls done"), lambda r: r[1].done_calls),
        ExportColumn(_("compliance %"), lambda r: round(r[1].compliance * 100, 1)),
        ExportColumn(_("overdue accounts"), lambda r: r[1].overdue),
    ]


def overdue_columns() -> list[ExportColumn]:
    return [
        ExportColumn(_("account code"), lambda o: o.account.code),
        ExportColumn(_("account"), lambda o: o.account.name),
        ExportColumn(_("owner"), lambda o: o.account.owner or _("in the pool")),
        ExportColumn(_("org unit"), lambda o: o.account.unit),
        ExportColumn(_("tier"), lambda o: o.tier),
        ExportColumn(_("last visit"), lambda o: o.last_visit),
        ExportColumn(_("days since visit"), lambda o: o.days_since_visit),
        ExportColumn(_("visit overdue"), lambda o: o.overdue_visit),
        ExportColumn(_("last call"), lambda o: o.last_call),
        ExportColumn(_("days since call"), lambda o: o.days_since_call),
        ExportColumn(_("call overdue"), lambda o: o.overdue_call),
        ExportColumn(_("compliance %"), lambda o: round(o.compliance * 100, 1)),
    ]
