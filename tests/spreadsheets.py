"""Spreadsheets built in the tests, the way users' Excel produces them."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[list], encoding: str = "utf-8-sig") -> bytes:
    text = io.StringIO(newline="")
    csv.writer(text).writerows(rows)
    return text.getvalue().encode(encoding)


def as_file(rows: list[list], fmt: str) -> tuple[str, bytes]:
    """(filename, bytes) for fmt in xlsx / utf-8 / utf-8-sig / gb18030."""
    if fmt == "xlsx":
        return "客户清单.xlsx", xlsx_bytes(rows)
    return "客户清单.csv", csv_bytes(rows, fmt)
