"""Lists out to Excel and CSV, safe to open and exact to import back.

A cell that a spreadsheet would evaluate — one starting with = + - @ (or their full-width
forms), also after spaces, or with a tab or a line break — must arrive as text:

- In XLSX every text is written as a text cell (never a formula, never an error value),
  exactly as it is; a cell that would be evaluated if edited also carries Excel's own
  quote-prefix mark, so editing it in Excel keeps it text.
- In CSV, which has no types, such a cell gets one leading apostrophe (the OWASP advice).
  Excel in a locale whose list separator is ";" splits a comma CSV at semicolons and line
  breaks whatever the quotes say, so each piece of a field after a ";" or a line break is
  judged the same way and gets its own apostrophe when it would be evaluated.

The importer reads such an apostrophe back off (`restore_neutralised`): exporting a value
and importing the file gives the value back. CSV carries a UTF-8 BOM so Excel in a Chinese
locale opens it as UTF-8 instead of guessing GBK.
"""

from __future__ import annotations

import csv
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import FileResponse, Http404, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header

from kam.core.audit import audit_record
from kam.core.conf import config
from kam.core.models import AuditEvent

FORMATS = ("xlsx", "csv")
# What starts a formula (or, after @, a function call): = + - @ and their full-width forms.
FORMULA_TRIGGERS = "=+-@\uff1d\uff0b\uff0d\uff20"
# A trigger after any spaces (a line break ends a piece, see _PIECES), with something to
# evaluate after it: a cell of signs only ("-", "--", a lone "+") holds no formula and is
# left as it is, as placeholders such as "-" are common.
_EVALUATED = re.compile(r"[^\S\r\n]*[=+\-@\uff1d\uff0b\uff0d\uff20][\s=+\-@\uff1d\uff0b\uff0d\uff20]*"
                        r"[^\s=+\-@\uff1d\uff0b\uff0d\uff20]")
# Excel drops a leading tab or line break of a cell, then evaluates what follows.
_DROPPED_FIRST = ("\t", "\r", "\n")
# Where another reading of a CSV line starts a new cell inside one field.
_PIECES = re.compile(r"(?<=[;\r\n])")
# A quick first look (one scan in C for the usual text): what may need an apostrophe — a
# sign, an apostrophe, a space or a semicolon in front, or a piece boundary anywhere.
_MAY_NEED = re.compile(r"^[\s'=+\-@\uff1d\uff0b\uff0d\uff20;]|[;\r\n]")


def _evaluated(piece: str, first: bool) -> bool:
    """Whether a spreadsheet evaluates this piece of a cell, apostrophes in front aside."""
    piece = piece.lstrip("'")
    return (first and piece.startswith(_DROPPED_FIRST)) or _EVALUATED.match(piece) is not None


def _in_pieces(text: str, piece: Callable[[str, bool], str]) -> str:
    if ";" in text or "\n" in text or "\r" in text:
        return "".join(piece(part, index == 0) for index, part in enumerate(_PIECES.split(text)))
    return piece(text, True)


def _may_need(text: str) -> bool:
    return _MAY_NEED.search(text) is not None


def _neutralise_piece(piece: str, first: bool) -> str:
    return "'" + piece if _evaluated(piece, first) else piece


def neutralise(value: Any) -> Any:
    """CSV text that a spreadsheet would evaluate becomes inert: an apostrophe in front of
    each piece that would run. A piece that already starts with apostrophes gets one more
    when what follows them would run, so `restore_neutralised` can tell the two apart.
    Anything but text is returned as it is: numbers stay numbers."""
    if not isinstance(value, str) or not value or not _may_need(value):
        return value
    return _in_pieces(value, _neutralise_piece)


def _restore_piece(piece: str, first: bool) -> str:
    return piece[1:] if piece.startswith("'") and _evaluated(piece, first) else piece


def restore_neutralised(text: str) -> str:
    """The value a neutralised cell stands for: exactly one apostrophe less in front of each
    piece that would have been neutralised; any other text as it is. The inverse of
    `neutralise` for every text."""
    if "'" not in text:
        return text
    return _in_pieces(text, _restore_piece)


def _literal_apostrophe_piece(piece: str, first: bool) -> str:
    return "'" + piece if piece.startswith("'") and _evaluated(piece, first) else piece


# Office Open XML writes characters XML cannot hold as _xHHHH_, and so must a literal
# "_xHHHH_" be written (as _x005F_xHHHH_), or a reader would turn it into a character.
_XML_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\r\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")
# Text an XLSX cell holds as it is, typed as text by openpyxl itself: nothing that may need an
# apostrophe, no character to escape, not an error value such as #N/A (these start with #).
_NOT_PLAIN = re.compile(r"^[\s'#=+\-@\uff1d\uff0b\uff0d\uff20;]|[;\r\n\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]"
                        r"|_x[0-9A-Fa-f]{4}_")


def _xml_escape(match: re.Match) -> str:
    return f"_x{ord(match.group()):04X}_"


def xlsx_text(text: str) -> str:
    """Text as an XLSX text cell holds it, so that the importer reads back `text`: only a
    piece already starting with apostrophes before something that would run gets one more
    (the importer takes one off, as it does for CSV); nothing else is added."""
    if _may_need(text):
        text = _in_pieces(text, _literal_apostrophe_piece)
    if _XML_UNSAFE.search(text):
        text = _XML_UNSAFE.sub(_xml_escape, text)
    return text


def _forced_text(cell, value: str, evaluated: bool) -> None:
    """Make `cell` a text cell holding `value`: openpyxl would otherwise store a text
    starting with = as a formula, and #N/A and its kind as error values. A value that
    Excel would evaluate if it were typed in gets the quote-prefix mark, as Excel gives a
    cell typed with a leading apostrophe: it stays text when someone edits it."""
    cell.value = xlsx_text(value)
    cell.data_type = "s"
    if evaluated:
        cell.quotePrefix = True


def write_cell(cell, value: Any) -> None:
    """Write `value` into an openpyxl cell of a sheet laid out cell by cell (a printed
    form): text as text, never as a formula; anything else as it is."""
    if isinstance(value, str):
        _forced_text(cell, value, neutralise(value) != value)
    else:
        cell.value = value


def cell_value(value: Any) -> Any:
    """A Python value as a spreadsheet cell: local naive datetimes, numbers and dates as
    they are, yes/no in words, text for the rest (not yet made safe for a format)."""
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
    return str(value)


def _xlsx_row(sheet, values: Iterable[Any], font=None) -> list:
    """What to append to a write-only sheet for `values`: each value itself where openpyxl
    stores it faithfully, else a cell typed as text (and every cell in `font` if given)."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ERROR_CODES

    row = []
    for value in values:
        value = cell_value(value)
        if font is None and (not isinstance(value, str) or _NOT_PLAIN.search(value) is None):
            row.append(value)  # the usual cell: openpyxl stores it faithfully as it is
            continue
        if isinstance(value, str):
            evaluated = neutralise(value) != value
            if font is None and not evaluated and value not in ERROR_CODES:
                row.append(xlsx_text(value))
                continue
            cell = WriteOnlyCell(sheet)
            _forced_text(cell, value, evaluated)
        else:
            cell = WriteOnlyCell(sheet, value=value)
        if font is not None:
            cell.font = font
        row.append(cell)
    return row


@dataclass(frozen=True)
class ExportColumn:
    header: Any  # lazy translation
    value: Callable[[Any], Any]


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_text(value: Any) -> str:
    """A Python value as a CSV field: dates in ISO form, text neutralised."""
    value = cell_value(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return neutralise(value)
    return str(value)


def csv_writer(target) -> Any:
    """Every field quoted: a field holding ";" or a line break stays one field for any
    reader that honours quotes, and the importer's dialect sniffing sees the quote
    character at once (an apostrophe in front of a field is never taken for one)."""
    return csv.writer(target, quoting=csv.QUOTE_ALL)


def csv_lines(columns: list[ExportColumn], rows: Iterable[Any]) -> Iterable[str]:
    writer = csv_writer(_Echo())
    yield "\ufeff" + writer.writerow([csv_text(str(c.header)) for c in columns])
    for row in rows:
        yield writer.writerow([csv_text(c.value(row)) for c in columns])


def write_xlsx(columns_or_headers: list, rows: Iterable[list[Any]], target, *, title: str = "KAM") -> None:
    """Write a streaming (write-only) workbook: memory stays flat for 100,000 rows."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    bold = Font(bold=True)
    sheet.append(_xlsx_row(sheet, [str(getattr(item, "header", item)) for item in columns_or_headers], bold))
    sheet.freeze_panes = "A2"
    for values in rows:
        sheet.append(_xlsx_row(sheet, values))
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
    fmt = request.GET.get("format", "xlsx")
    if fmt not in FORMATS:
        raise Http404
    capped = queryset[: config().EXPORT_MAX_ROWS]
    audit_record(kind=AuditEvent.Kind.EXPORT, user=request.user, request=request, what=what, format=fmt,
                 query=request.GET.urlencode()[:500])
    rows = lines(capped) if lines is not None else capped.iterator(chunk_size=2000)
    return export_response(columns=columns, rows=rows, filename=filename, fmt=fmt)


def workbook_response(sheets: Iterable[tuple[str, list, list[list[Any]]]], *, filename: str) -> FileResponse:
    """An .xlsx download holding one sheet per (title, headers, rows), headers in bold."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    for title, headers, rows in sheets:
        sheet = workbook.create_sheet(title=str(title)[:31])
        sheet.append(_xlsx_row(sheet, [str(text) for text in headers], bold))
        for row in rows:
            sheet.append(_xlsx_row(sheet, row))
    spool = tempfile.TemporaryFile()
    workbook.save(spool)
    spool.seek(0)
    return FileResponse(spool, as_attachment=True, filename=filename,
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
