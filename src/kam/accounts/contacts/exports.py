"""The contact list in Excel: the card's fields, under headers the importer recognises."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kam.accounts.card.exports import field_column
from kam.accounts.importers import CONTACT_FIELDS
from kam.accounts.models import Contact
from kam.core.exports import ExportColumn


def contact_columns() -> list[ExportColumn]:
    return [
        ExportColumn(_("account code"), lambda c: c.account.code),
        ExportColumn(_("account"), lambda c: c.account.name),
        *(field_column(Contact, name) for name in CONTACT_FIELDS),
        field_column(Contact, "left_on"),
        ExportColumn(_("updated"), lambda c: c.updated_at),
    ]

