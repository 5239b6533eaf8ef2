"""Exports are safe to open and exact to import back: whatever text a record holds, the
CSV and the XLSX KAM writes carry no cell a spreadsheet would evaluate, and the importer
reads the file back to the very same text (trimmed, as every imported cell is).

Through the real writers (`csv_lines`, `write_xlsx`) and the real reader (`read_table`)."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from kam.core.exports import ExportColumn, csv_lines, neutralise, restore_neutralised, write_xlsx
from kam.imports.readers import read_table

COLUMNS = [ExportColumn("编号", lambda row: row[0]), ExportColumn("名称", lambda row: row[1]),
           ExportColumn("备注", lambda row: row[2])]
# Written independently of the code under test: a piece of a cell (the cell, or what
# follows a ";" or a line break in it) that a spreadsheet would evaluate — a sign after
# any spaces, and something other than signs after it.
SIGNS = "=+-@＝＋－＠"
RUNS = re.compile(rf"[^\S\r\n]*[{re.escape(SIGNS)}].*?[^\s{re.escape(SIGNS)}]", re.DOTALL)
TRICKY = ["=1+1", "+86 楼", "-5", "-", "--", "- -", "+\n", "@SUM(A1)", "＝1+1", " =1+1", "\n=1+1", "\t=1+1", "\r=1", ";=1+1", "a;=1;b",
          "x\n- y", "'=1", "''+86", "'", "O'Reilly", "#N/A", "_x0041_", "a\rb", "\x01", "普通公司", "=HYPERLINK(\"x\")"]
texts = st.one_of(st.sampled_from(TRICKY), st.text(), st.lists(st.sampled_from(TRICKY + ["a", " ", "'", ";", "\n"]))
                  .map("".join))
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def imported(text: str):
    """What importing a cell holding `text` stores: the text trimmed, or nothing."""
    return text.strip() or None


def csv_round_trip(rows: list[tuple]) -> list[list]:
    data = "".join(csv_lines(COLUMNS, rows)).encode("utf-8")
    table = read_table(data, "export.csv", max_rows=len(rows) + 1)
    assert table.headers == ["编号", "名称", "备注"]
    return [cells for _number, cells in table.rows]


def xlsx_round_trip(rows: list[tuple]) -> tuple[list[list], bytes]:
    buffer = io.BytesIO()
    write_xlsx(COLUMNS, ([c.value(row) for c in COLUMNS] for row in rows), buffer)
    table = read_table(buffer.getvalue(), "export.xlsx", max_rows=len(rows) + 1)
    assert table.headers == ["编号", "名称", "备注"]
    return [cells for _number, cells in table.rows], buffer.getvalue()


@FAST
@given(text=texts)
@example(text="'\t=1")
def test_restore_neutralised_undoes_neutralise_for_any_text(text):
    assert restore_neutralised(neutralise(text)) == text


@FAST
@given(text=texts)
def test_no_piece_of_a_neutralised_text_would_be_evaluated(text):
    pieces = re.split(r"(?<=[;\r\n])", neutralise(text))
    assert not pieces[0].startswith(("\t", "\r", "\n"))
    assert not any(RUNS.match(piece) for piece in pieces)


@FAST
@given(name=texts.filter(lambda t: "\x00" not in t), notes=texts.filter(lambda t: "\x00" not in t))
def test_any_text_exported_to_csv_imports_back_as_it_was(name, notes):
    # given a record's texts, when exported to CSV and imported
    rows = csv_round_trip([(1, name, notes), (2, "第二行", "")])
    # then the importer reads exactly those texts
    assert rows[0][1:] == [imported(name), imported(notes)]
    assert rows[1][1] == "第二行"


@FAST
@given(name=texts, notes=texts)
def test_any_text_exported_to_xlsx_imports_back_as_it_was(name, notes):
    rows, workbook = xlsx_round_trip([(1, name, notes), (2, "第二行", "")])
    assert rows[0][1:] == [imported(name), imported(notes)]
    # and no cell of the workbook is a formula or an error value
    sheet = load_workbook(io.BytesIO(workbook)).active
    assert not {cell.data_type for row in sheet.iter_rows() for cell in row} & {"f", "e"}


def test_numbers_and_dates_stay_numbers_and_dates():
    values = (Decimal("-1234.50"), -5, date(2026, 3, 31))
    rows, workbook = xlsx_round_trip([values])
    assert rows[0][:2] == [-1234.5, -5]
    sheet = load_workbook(io.BytesIO(workbook)).active
    assert [cell.data_type for cell in sheet[2]] == ["n", "n", "d"]
    assert csv_round_trip([values])[0] == ["-1234.50", "-5", "2026-03-31"]


def test_xlsx_holds_the_value_itself_typed_as_text_and_marked_as_typed_with_an_apostrophe():
    _rows, workbook = xlsx_round_trip([(1, "=HYPERLINK(\"http://evil.example\",\"x\")", "+86 楼")])
    cells = load_workbook(io.BytesIO(workbook)).active[2]
    assert [(c.value, c.data_type, c.quotePrefix) for c in cells[1:]] == [
        ("=HYPERLINK(\"http://evil.example\",\"x\")", "s", True), ("+86 楼", "s", True)]


def test_csv_writes_one_apostrophe_before_each_piece_that_would_run():
    data = "".join(csv_lines(COLUMNS, [(1, "+86 楼", "见附件;=1+1\n- 第二条")])).encode("utf-8")
    assert data.decode("utf-8-sig").splitlines()[1:] == ['"1","\'+86 楼","见附件;\'=1+1', '\'- 第二条"']


def test_a_cell_of_signs_only_is_left_as_it_is():
    assert [neutralise(v) for v in ("-", "--", "+", " - ")] == ["-", "--", "+", " - "]
    assert [neutralise(v) for v in ("-5", "--1", "+ A1")] == ["'-5", "'--1", "'+ A1"]
