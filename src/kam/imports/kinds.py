"""The kinds of import and the importer of each. The importers live in the apps that own the
rows (above imports in the layers), so they are named here and loaded when first used."""

from __future__ import annotations

from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from kam.core.errors import ValidationFailed
from kam.imports.engine import Importer
from kam.imports.models import ImportKind

IMPORTERS: dict[str, str] = {
    ImportKind.ACCOUNTS: "kam.accounts.importers.AccountImporter",
    ImportKind.CONTACTS: "kam.accounts.importers.ContactImporter",
    ImportKind.REVENUE: "kam.revenue.importers.RevenueImporter",
    ImportKind.LEADS: "kam.sales.leads.importer.LeadImporter",
}


def importer_class(kind: str) -> type[Importer]:
    if kind not in IMPORTERS:
        raise ValidationFailed(_("Unknown import kind %(kind)s.") % {"kind": kind}, errors={"kind": [_("Unknown.")]})
    importer: type[Importer] = import_string(IMPORTERS[kind])
    return importer
