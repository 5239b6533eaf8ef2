"""The error report: the user's own rows, as they sent them, with what is wrong beside each."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _

from kam.core.exports import write_xlsx
from kam.imports.engine import ACTION_LABELS, Row


def error_report(headers: list[str], rows: list[Row]) -> bytes:
    """An .xlsx of every row with an issue: row number, outcome, messages, original cells."""
    buffer = io.BytesIO()
    width = len(headers)

    def lines():
        for row in sorted(rows, key=lambda r: r.number):
            messages = "；".join(
                f"{issue.column}: {issue.message}" if issue.column else issue.message for issue in row.issues
            )
            outcome = str(ACTION_LABELS[row.action]) if row.action else ""
            original = list(row.cells[:width]) + [None] * (width - len(row.cells[:width]))
            yield [row.number, outcome, messages, *original]

    write_xlsx([_("Row"), _("Outcome"), _("Errors"), *headers], lines(), buffer, title=_("Import errors"))
    return buffer.getvalue()
