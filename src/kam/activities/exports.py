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


def compliance_columns() -> list[ExportColumn]:
    """One line per unit, then per person: (level, compliance.Row)."""
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
