"""Revenue lines from other systems (billing, ERP) through the API: the same importer,
rules and transaction as a file."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from kam.core.conf import config
from kam.core.errors import ValidationFailed
from kam.core.models import User
from kam.imports.columns import map_headers
from kam.imports.engine import ImportRejected, Outcome, execute, parse_rows
from kam.imports.readers import Table
from kam.revenue.importers import COLUMNS, RevenueImporter

FIELDS = [c.name for c in COLUMNS]


def revenue_lines_import(*, actor: User, lines: list[dict[str, Any]], create_accounts: bool = False,
                         all_or_nothing: bool = True) -> Outcome:
    """Write a batch of revenue lines. Row numbers in the outcome are 1-based line positions.
    All or nothing (the default): one invalid or refused line and nothing is written."""
    if len(lines) > config().API_REVENUE_MAX_LINES:
        raise ValidationFailed(
            _("At most %(max)d lines per request.") % {"max": config().API_REVENUE_MAX_LINES},
            errors={"lines": [_("Too many lines.")]},
        )
    table = Table(headers=FIELDS, rows=[(n, [line.get(f) for f in FIELDS]) for n, line in enumerate(lines, start=1)])
    importer = RevenueImporter(actor=actor, create_accounts=create_accounts)
    rows = parse_rows(importer, table, map_headers(table.headers, importer.columns))
    try:
        return execute(importer, rows, all_or_nothing=all_or_nothing, batch_size=config().IMPORT_BATCH_ROWS,
                       single_transaction_rows=config().API_REVENUE_MAX_LINES)
    except ImportRejected as rejected:
        raise ValidationFailed(
            str(rejected),
            errors={f"lines.{i.row}.{i.column}": [i.message] for i in rejected.outcome.issues if i.severity in ("error", "refused")},
        ) from rejected
