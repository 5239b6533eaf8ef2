"""The recycle bin in Excel."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kam.core.exports import ExportColumn


def recycle_bin_columns() -> list[ExportColumn]:
    """Columns of the recycle bin's export (rows: kam.accounts.recycle.selectors.BinEntry)."""
    return [
        ExportColumn(_("kind"), lambda e: e.kind_label),
        ExportColumn(_("name"), lambda e: e.name),
        ExportColumn(_("account code"), lambda e: e.code),
        ExportColumn(_("account"), lambda e: e.account_name),
        ExportColumn(_("owner"), lambda e: e.owner or ""),
        ExportColumn(_("org unit"), lambda e: e.unit),
        ExportColumn(_("deleted by"), lambda e: e.deleted_by or ""),
        ExportColumn(_("deleted"), lambda e: e.deleted_at),
        ExportColumn(_("days left"), lambda e: e.days_left),
        ExportColumn(_("contacts deleted with it"), lambda e: e.contacts if e.kind == "account" else ""),
        ExportColumn(_("opportunities deleted with it"), lambda e: e.opportunities if e.kind == "account" else ""),
    ]

