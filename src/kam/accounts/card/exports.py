"""What an account or contact list looks like in Excel: the card's fields, as the user reads them.

Headers are the field labels, which the importer recognises, so an exported list can be
edited and imported back.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kam.accounts.card.forms import ACCOUNT_FORM_FIELDS
from kam.accounts.models import Account
from kam.core.exports import ExportColumn


def field_column(model, name: str) -> ExportColumn:
    field = model._meta.get_field(name)
    if field.choices:
        return ExportColumn(field.verbose_name, lambda obj, n=name: getattr(obj, n) and getattr(obj, f"get_{n}_display")())
    if field.is_relation:
        return ExportColumn(field.verbose_name, lambda obj, n=name: getattr(obj, n) or "")
    return ExportColumn(field.verbose_name, lambda obj, n=name: getattr(obj, n))


def account_columns() -> list[ExportColumn]:
    columns = []
    for name in ACCOUNT_FORM_FIELDS:
        if name == "parent":
            columns.append(ExportColumn(_("parent account code"), lambda a: a.parent.code if a.parent_id else ""))
        else:
            columns.append(field_column(Account, name))
    columns += [
        # No owner: the account is in the public pool (the owner cell stays empty, so the
        # sheet imports back).
        ExportColumn(_("in the public pool since"), lambda a: a.pooled_at),
        ExportColumn(_("org unit"), lambda a: a.unit),
        ExportColumn(_("created"), lambda a: a.created_at),
        ExportColumn(_("updated"), lambda a: a.updated_at),
        # The latest health score (0–100) when the queryset carries it (insight.health.with_health).
        ExportColumn(_("health"), lambda a: getattr(a, "health_score", None)),
    ]
    return columns


def history_columns() -> list[ExportColumn]:
    """One line per changed field, so the sheet can be filtered by field or by person."""
    return [
        ExportColumn(_("when"), lambda line: line[0].record.history_date),
        ExportColumn(_("who"), lambda line: line[0].record.history_user or ""),
        ExportColumn(_("record"), lambda line: line[0].subject),
        ExportColumn(_("change"), lambda line: line[1]),
        ExportColumn(_("old value"), lambda line: line[2]),
        ExportColumn(_("new value"), lambda line: line[3]),
    ]


def history_lines(rows):
    for row in rows:
        what = row.record.history_change_reason or {"+": _("created"), "-": _("deleted")}.get(row.record.history_type, "")
        if what or not row.changes:
            yield (row, str(what), "", "")
        for change in row.changes:
            yield (row, change.label, change.old, change.new)

