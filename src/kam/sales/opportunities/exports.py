"""The opportunity list in Excel: one line per opportunity, as the list shows it."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kam.core.exports import ExportColumn
from kam.sales.models import Stage
from kam.sales.opportunities.stages import stage_probabilities, weighted


def opportunity_columns() -> list[ExportColumn]:
    stages = {value: str(label) for value, label in Stage.choices}  # translated once, not per row
    probabilities = stage_probabilities()
    return [
        ExportColumn(_("account code"), lambda o: o.account.code),
        ExportColumn(_("account"), lambda o: o.account.name),
        ExportColumn(_("project"), lambda o: o.name),
        ExportColumn(_("stage"), lambda o: stages.get(o.stage, o.stage)),
        ExportColumn(_("probability %"), lambda o: int(probabilities[o.stage] * 100)),
        ExportColumn(_("intended amount (yuan)"), lambda o: o.amount),
        ExportColumn(_("weighted amount (yuan)"), lambda o: weighted(o.amount, o.stage, probabilities)),
        ExportColumn(_("our quote (yuan)"), lambda o: o.our_quote),
        ExportColumn(_("expected close"), lambda o: o.expected_close),
        ExportColumn(_("owner"), lambda o: o.owner),
        ExportColumn(_("in this stage since"), lambda o: o.stage_entered_at),
        ExportColumn(_("closed on"), lambda o: o.closed_on),
        ExportColumn(_("reason"), lambda o: o.outcome_reason or ""),
        ExportColumn(_("what decided it"), lambda o: o.outcome_note),
        ExportColumn(_("created at"), lambda o: o.created_at),
    ]
