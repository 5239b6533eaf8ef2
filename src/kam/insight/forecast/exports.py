"""The scored accounts as Excel/CSV columns."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from kam.core.exports import ExportColumn


def score_columns() -> list[ExportColumn]:
    return [
        ExportColumn(gettext_lazy("account code"), lambda s: s.account.code),
        ExportColumn(gettext_lazy("account"), lambda s: s.account.name),
        ExportColumn(gettext_lazy("owner"), lambda s: s.account.owner or ""),
        ExportColumn(gettext_lazy("probability still active"), lambda s: round(s.p_alive, 4)),
        ExportColumn(gettext_lazy("previous fit"), lambda s: None if s.p_alive_before is None
                     else round(s.p_alive_before, 4)),
        ExportColumn(gettext_lazy("repeat purchases"), lambda s: s.frequency),
        ExportColumn(gettext_lazy("recency (periods)"), lambda s: round(s.recency, 2)),
        ExportColumn(gettext_lazy("age (periods)"), lambda s: round(s.age, 2)),
        ExportColumn(gettext_lazy("expected purchases"), lambda s: round(s.expected_purchases, 3)),
        ExportColumn(gettext_lazy("expected spend per purchase (yuan)"), lambda s: s.expected_spend),
        ExportColumn(gettext_lazy("expected value (yuan)"), lambda s: s.expected_value),
        ExportColumn(gettext_lazy("lifetime value (yuan)"), lambda s: s.clv),
        ExportColumn(gettext_lazy("data up to"), lambda s: s.fit.calibration_end),
    ]
