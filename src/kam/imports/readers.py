"""Reading spreadsheets users bring: .xlsx, and .csv in UTF-8, UTF-8 with BOM or GB18030.

The reader only turns bytes into a header row and data rows of plain cell values; it
knows nothing about accounts. Anything wrong with the file itself is a FileProblem
that says what to do about it. Before a byte is parsed, kam.imports.guard checks the file
against the upload limits (size, type, zip bomb, DTD, used range, cells, shared strings).
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.utils.translation import gettext as _

from kam.core.conf import config
from kam.core.exports import restore_neutralised
from kam.imports import guard
from kam.imports.guard import FileProblem

Cell = str | int | float | bool | date | datetime | time | None

# Which encodings a Chinese Excel user's CSV may be in, tried in this order. GB18030 is
# a superset of GBK and GB2312, which is what "CSV" means in a Chinese-locale Excel.
CSV_ENCODINGS = ("utf-8", "gb18030")


__all__ = ["FileProblem", "Table", "read_table"]


@dataclass
class Table:
    headers: list[str]
    # (spreadsheet row number, cells) — row numbers are what the user sees in Excel.
    rows: list[tuple[int, list[Cell]]]
    encoding: str = ""


def read_table(data: bytes, filename: str, *, max_rows: int, max_columns: int | None = None) -> Table:
    """The file's first sheet (or its CSV text) as a table, once the guard has passed it."""
    max_columns = max_columns or config().IMPORT_MAX_COLUMNS
    name = filename.lower()
    if name.endswith(".xlsx") or name.endswith(".xlsm"):
        guard.check_xlsx(data)
        table = _read_xlsx(data, max_rows)
    elif name.endswith(".csv") or name.endswith(".txt"):
        guard.check_size(len(data))
        guard.check_csv(data)
        table = _read_csv(data, max_rows)
    elif name.endswith(".xls"):
        raise FileProblem(_("Old .xls workbooks cannot be read. Save the file as .xlsx or .csv in Excel and upload it again."))
    else:
        raise FileProblem(_("Upload an .xlsx or .csv file."))
    if not table.headers:
        raise FileProblem(_("The file is empty: the first row must hold the column headers."))
    if len(table.headers) > max_columns:
        raise FileProblem(_("The file has %(n)d columns; at most %(max)d are read.") % {"n": len(table.headers), "max": max_columns})
    return table


def _clean_header(value: Cell) -> str:
    return "" if value is None else str(value).replace("\ufeff", "").strip()


def _split(rows, max_rows: int, *, all_text: bool = False) -> Table:
    """First non-blank row is the header; blank rows are dropped; row numbers kept.
    Reading stops as soon as the file proves too long, before it fills the memory.
    `all_text`: every cell is a str (CSV), cleaned by the quicker path."""
    headers: list[str] | None = None
    data: list[tuple[int, list[Cell]]] = []
    for number, raw in enumerate(rows, start=1):
        cells = ([(restore_neutralised(value) if "'" in value else value).strip() or None for value in raw]
                 if all_text else [_clean_cell(value) for value in raw])
        if all(value is None for value in cells):
            continue
        if headers is None:
            headers = [_clean_header(value) for value in cells]
            while headers and not headers[-1]:
                headers.pop()
            continue
        data.append((number, cells))
        if len(data) > max_rows:
            raise FileProblem(
                _("The file has more than %(max)d rows; at most %(max)d can be imported at once. "
                  "Split it into several files.") % {"max": max_rows}
            )
    return Table(headers=headers or [], rows=data)


def _clean_cell(value: Any) -> Cell:
    if isinstance(value, str):
        # A cell KAM (or another careful exporter) neutralised is read as the value it
        # stands for, before the spaces around it are trimmed.
        value = restore_neutralised(value).strip()
        return value or None
    return value


def _read_csv(data: bytes, max_rows: int) -> Table:
    text, encoding = _decode(data)
    if "\x00" in text:
        raise FileProblem(_("The file contains NUL characters; it is not a text CSV file."))
    sample = text[:8192]
    # Only the separator is guessed. Quoting is Excel's (and RFC 4180's) — a double quote,
    # doubled inside a field: the sniffer's guesses of the rest misread fields holding quotes.
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ","
    try:
        table = _split(csv.reader(io.StringIO(text, newline=""), csv.excel, delimiter=delimiter), max_rows,
                       all_text=True)
    except csv.Error as exc:
        raise FileProblem(_("The CSV file is malformed: %(reason)s.") % {"reason": exc}) from exc
    table.encoding = encoding
    return table


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise _undecodable(data, exc) from exc
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise _undecodable(data, exc) from exc
    error = None
    for encoding in CSV_ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError as exc:
            error = error or exc
    raise _undecodable(data, error)


def _undecodable(data: bytes, exc: UnicodeDecodeError) -> FileProblem:
    line = data[: exc.start].count(b"\n") + 1
    return FileProblem(
        _("Line %(line)d of the file is neither UTF-8 nor GB18030 text. Save it from Excel as "
          "“CSV UTF-8” or as .xlsx.") % {"line": line}
    )


def _read_xlsx(data: bytes, max_rows: int) -> Table:
    # calamine (Rust) reads a sheet's cells ten times faster than openpyxl's XML parsing,
    # which was most of the time of an .xlsx import.
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except (CalamineError, zipfile.BadZipFile, OSError) as exc:
        raise FileProblem(_("This is not a valid .xlsx workbook.")) from exc
    except Exception as exc:
        # A damaged file can fail in many ways; whichever it is, the user's remedy is the same.
        raise FileProblem(_("This .xlsx workbook is damaged and cannot be read.")) from exc
    try:
        if not workbook.sheet_names:
            return Table(headers=[], rows=[])
        sheet = workbook.get_sheet_by_index(0)
        # Rows come from the sheet's first row, so their numbers are Excel's row numbers;
        # columns from the first used column, which does not matter to named headers.
        return _split(sheet.iter_rows(), max_rows)
    except FileProblem:
        raise
    except Exception as exc:  # same reason as above, for damage inside the sheet
        raise FileProblem(_("This .xlsx workbook is damaged and cannot be read.")) from exc
    finally:
        workbook.close()
