"""The activity list in Excel: one line per activity, as the list shows it."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kam.activities.models import ActivityKind
from kam.core.exports import ExportColumn


def _names(items) -> str:
    return "、".join(str(item) for item in items)


def activity_columns() -> list[ExportColumn]:
    kinds = {value: str(label) for value, label in ActivityKind.choices}  # translated once, not per row
    return [
        ExportColumn(_("when"), lambda a: a.occurred_at),
        ExportColumn(_("kind"), lambda a: kinds.get(a.kind, a.kind)),
        ExportColumn(_("account code"), lambda a: a.account.code),
        ExportColumn(_("account"), lambda a: a.account.name),
        ExportColumn(_("our participants"), lambda a: _names(a.participants.all())),
        ExportColumn(_("contacts met"), lambda a: _names(a.contacts.all())),
        ExportColumn(_("decision maker met"), lambda a: a.decision_maker_met),
        ExportColumn(_("summary"), lambda a: a.summary),
        ExportColumn(_("next step"), lambda a: a.next_step),
        ExportColumn(_("next step due"), lambda a: a.next_step_due),
        ExportColumn(_("check-in location"), lambda a: a.location),
        ExportColumn(_("logged by"), lambda a: a.created_by),
        ExportColumn(_("logged at"), lambda a: a.created_at),
    ]
