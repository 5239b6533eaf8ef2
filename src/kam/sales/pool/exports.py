"""The public pool list in Excel: one line per account, as the list shows it."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kam.core.exports import ExportColumn


def pool_columns() -> list[ExportColumn]:
    """Columns of `kam.sales.pool.PoolRow`s."""
    return [
        ExportColumn(_("account code"), lambda r: r.account.code),
        ExportColumn(_("account"), lambda r: r.account.name),
        ExportColumn(_("tier"), lambda r: r.tier),
        ExportColumn(_("industry"), lambda r: r.account.industry or ""),
        ExportColumn(_("region"), lambda r: r.account.region or ""),
        ExportColumn(_("org unit"), lambda r: r.account.unit),
        ExportColumn(_("former owner"), lambda r: r.former_owner or ""),
        ExportColumn(_("in the public pool since"), lambda r: r.account.pooled_at),
        ExportColumn(_("days in the pool"), lambda r: r.days_in_pool),
        ExportColumn(_("days without follow-up"), lambda r: r.idle_days),
        ExportColumn(_("allowed days"), lambda r: r.limit_days),
    ]
