"""The warning list in Excel: one line per warning, as the list shows it, with the evidence as a sentence."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kam.core.exports import ExportColumn
from kam.insight.models import Severity, WarningState
from kam.insight.warnings.rules import describe


def warning_columns() -> list[ExportColumn]:
    severities = {value: str(label) for value, label in Severity.choices}
    states = {value: str(label) for value, label in WarningState.choices}
    return [
        ExportColumn(_("account code"), lambda w: w.account.code),
        ExportColumn(_("account"), lambda w: w.account.name),
        ExportColumn(_("owner"), lambda w: w.account.owner or ""),
        ExportColumn(_("org unit"), lambda w: w.account.unit),
        ExportColumn(_("rule"), lambda w: w.rule.name),
        ExportColumn(_("severity"), lambda w: severities.get(w.severity, w.severity)),
        ExportColumn(_("state"), lambda w: states.get(w.state, w.state)),
        ExportColumn(_("evidence"), lambda w: describe(w.rule.code, w.evidence)),
        ExportColumn(_("opened at"), lambda w: w.opened_at),
        ExportColumn(_("last checked at"), lambda w: w.checked_at),
        ExportColumn(_("closed at"), lambda w: w.closed_at),
    ]
