"""Lists out to Excel and CSV, safe to open.

Cells that Excel would run as a formula (=, +, -, @, and tab or carriage return in
front) get a leading apostrophe — the OWASP advice against CSV/formula injection —
so a customer name like `=HYPERLINK(...)` arrives as text. CSV carries a UTF-8 BOM
so Excel in a Chinese locale opens it as UTF-8 instead of guessing GBK.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
FORMATS = ("xlsx", "csv")


def neutralise(value: Any) -> Any:
    """Text that a spreadsheet would evaluate becomes inert text; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def cell_value(value: Any) -> Any:
    """A Python value as a spreadsheet cell: local naive datetimes, text for the rest."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.replace(tzinfo=None)
    if isinstance(value, int | float | Decimal | date):
        return value
    return neutralise(str(value))


@dataclass(frozen=True)
class ExportColumn:
    header: Any  # lazy translation
    value: Callable[[Any], Any]


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_text(value: Any) -> str:
    value = cell_value(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def csv_lines(columns: list[ExportColumn], rows: Iterable[Any]) -> Iterable[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([neutralise(str(c.header)) for c in columns])
    for row in rows:
        yield writer.writerow([_csv_text(c.value(row)) for c in columns])


def write_xlsx(columns_or_headers: list, rows: Iterable[list[Any]], target, *, title: str = "KAM") -> None:
    """Write a streaming (write-only) workbook: memory stays flat for 100,000 rows."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    bold = Font(bold=True)
    header = []
    for item in columns_or_headers:
        cell = WriteOnlyCell(sheet, value=neutralise(str(getattr(item, "header", item))))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    sheet.freeze_panes = "A2"
    for values in rows:
        sheet.append([cell_value(v) for v in values])
    workbook.save(target)


def export_response(*, columns: list[ExportColumn], rows: Iterable[Any], filename: str, fmt: str):
    """A download of `rows` as `filename`.<fmt>. CSV streams; XLSX goes through a temp file."""
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    name = f"{filename}-{stamp}.{fmt}"
    if fmt == "csv":
        response = StreamingHttpResponse(csv_lines(columns, rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = content_disposition_header(True, name)
        return response
    spool = tempfile.TemporaryFile()
    write_xlsx(columns, ([c.value(row) for c in columns] for row in rows), spool, title=filename)
    spool.seek(0)
    return FileResponse(
        spool, as_attachment=True, filename=name,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def list_export(request, *, what: str, queryset, columns: list[ExportColumn], filename: str,
                lines: Callable[[Any], Iterable[Any]] | None = None):
    """The download of a list page: the format from ?format= (404 for another), at most
    EXPORT_MAX_ROWS rows of `queryset` (already scoped and filtered), written to the audit log.
    `lines` turns the capped queryset into the rows the columns read (default: its rows)."""
    from django.http import Http404

    from kam.core.audit import audit_record
    from kam.core.conf import kam_setting
    from kam.core.models import AuditEvent

    fmt = request.GET.get("format", "xlsx")
    if fmt not in FORMATS:
        raise Http404
    capped = queryset[: kam_setting("EXPORT_MAX_ROWS")]
    audit_record(kind=AuditEvent.Kind.EXPORT, user=request.user, request=request, what=what, format=fmt,
                 query=request.GET.urlencode()[:500])
    rows = lines(capped) if lines is not None else capped.iterator(chunk_size=2000)
    return export_response(columns=columns, rows=rows, filename=filename, fmt=fmt)


def workbook_response(sheets: Iterable[tuple[str, list, list[list[Any]]]], *, filename: str) -> FileResponse:
    """An .xlsx download holding one sheet per (title, headers, rows), headers in bold."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    for title, headers, rows in sheets:
        sheet = workbook.create_sheet(title=str(title)[:31])
        header = []
        for text in headers:
            cell = WriteOnlyCell(sheet, value=neutralise(str(text)))
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        for row in rows:
            sheet.append([cell_value(v) for v in row])
    spool = tempfile.TemporaryFile()
    workbook.save(spool)
    spool.seek(0)
    return FileResponse(spool, as_attachment=True, filename=filename,
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
