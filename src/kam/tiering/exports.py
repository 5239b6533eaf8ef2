"""A snapshot's accounts and tiers as Excel/CSV columns (the tier list of the scheme page)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.utils.translation import gettext_lazy as _lazy

from kam.core.exports import ExportColumn
from kam.tiering.explain import why
from kam.tiering.models import Snapshot, SnapshotEntry


def entry_columns() -> list[ExportColumn]:
    return [
        ExportColumn(_lazy("account code"), lambda row: row[0].account.code),
        ExportColumn(_lazy("account"), lambda row: row[0].account.name),
        ExportColumn(_lazy("owner"), lambda row: str(row[0].account.owner) if row[0].account.owner_id else ""),
        ExportColumn(_lazy("org unit"), lambda row: row[0].account.unit.name if row[0].account.unit_id else ""),
        ExportColumn(_lazy("tier"), lambda row: row[1]),
        ExportColumn(_lazy("rank"), lambda row: row[0].rank),
        ExportColumn(_lazy("revenue (yuan)"), lambda row: row[0].revenue),
        ExportColumn(_lazy("why"), lambda row: row[2]),
    ]


def entry_lines(snapshot: Snapshot) -> Any:
    """Turns the (capped) entries into (entry, tier label, why) rows."""
    def lines(entries: Iterable[SnapshotEntry]) -> Iterator[tuple[SnapshotEntry, str, str]]:
        for entry in entries:
            yield entry, snapshot.scheme.tier_label(entry.tier), why(snapshot, entry)

    return lines
