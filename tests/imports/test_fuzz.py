"""Fuzzing the import parser: random bytes and random cells never crash it or half-write.

Together the parser tests below run 10,000+ cases: random bytes as .csv/.xlsx,
random tables as CSV text and as real workbooks, and random tables written to the
database in all-or-nothing mode.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.utils.exceptions import IllegalCharacterError

from kam.accounts.importers import AccountImporter, ContactImporter
from kam.accounts.models import Account
from kam.imports.columns import map_headers
from kam.imports.engine import Action, ImportRejected, execute, parse_rows
from kam.imports.readers import FileProblem, read_table

FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
                derandomize=True)
KNOWN_HEADERS = ["客户编号", "客户名称", "统一社会信用代码", "行业", "地区", "客户经理", "电话", "年营业额", "签约日期",
                 "上级客户编号", "员工人数", "渠道", "是否预付", "prepaid / cash only", "网址", "姓名", "手机", "邮箱"]
text_cell = st.text(max_size=24)
any_cell = st.one_of(
    st.none(), text_cell, st.integers(min_value=-10**20, max_value=10**20), st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(), st.dates(min_value=date(1, 1, 1)), st.datetimes(min_value=datetime(1900, 1, 1)),
    st.sampled_from(["=1+1", "+86 138 0013 8000", "12.5万", "1,234.50", "是", "否", "广东", "2024/3/1", "１２３", "\u3000"]),
)


def tables(cell):
    headers = st.lists(st.one_of(st.sampled_from(KNOWN_HEADERS), text_cell), min_size=1, max_size=8)
    return headers.flatmap(
        lambda hs: st.lists(st.lists(cell, min_size=len(hs), max_size=len(hs)), max_size=6).map(lambda rows: [hs, *rows])
    )


def _parse(importer, data: bytes, filename: str) -> None:
    """The whole read-and-check path of an import; FileProblem is the only allowed failure."""
    try:
        table = read_table(data, filename, max_rows=1000)
    except FileProblem as problem:
        assert problem.message
        return
    mapping = map_headers(table.headers, importer.columns)
    rows = parse_rows(importer, table, mapping)
    assert len(rows) == len(table.rows)
    for row in rows:
        for issue in row.issues:
            assert issue.message and isinstance(issue.row, int)


@pytest.fixture
def importers(org):
    return AccountImporter(actor=org.admin), ContactImporter(actor=org.admin)


@settings(FUZZ, max_examples=4000)
@given(data=st.binary(max_size=600), name=st.sampled_from(["f.csv", "f.xlsx", "f.txt", "f.xls", "f"]))
def test_random_bytes_never_crash_the_reader(importers, data, name):
    _parse(importers[0], data, name)


@settings(FUZZ, max_examples=800)
@given(data=st.binary(max_size=400))
def test_random_bytes_inside_a_zip_never_crash_the_xlsx_reader(importers, data):
    # A real zip container with garbage parts gets past the "is it a zip" test.
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", data)
        archive.writestr("xl/workbook.xml", data[::-1])
        archive.writestr("xl/worksheets/sheet1.xml", data)
    _parse(importers[0], buffer.getvalue(), "f.xlsx")


@settings(FUZZ, max_examples=4000)
@given(table=tables(text_cell), encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]), which=st.sampled_from([0, 1]))
def test_random_csv_cells_give_row_errors_not_exceptions(importers, table, encoding, which):
    text = io.StringIO(newline="")
    csv.writer(text).writerows(table)
    try:
        data = text.getvalue().encode(encoding)
    except UnicodeEncodeError:
        assume(False)
    _parse(importers[which], data, "f.csv")


@settings(FUZZ, max_examples=1200)
@given(table=tables(any_cell), which=st.sampled_from([0, 1]))
def test_random_xlsx_cells_give_row_errors_not_exceptions(importers, table, which):
    workbook = Workbook()
    try:
        for row in table:
            workbook.active.append(row)
        buffer = io.BytesIO()
        workbook.save(buffer)
    except (IllegalCharacterError, ValueError, TypeError, OverflowError):
        assume(False)  # a value openpyxl itself cannot write is not a file a user can have
    _parse(importers[which], buffer.getvalue(), "f.xlsx")


@settings(FUZZ, max_examples=300)
@given(table=tables(any_cell))
def test_all_or_nothing_never_writes_part_of_a_random_file(org, table):
    workbook = Workbook()
    try:
        for row in table:
            workbook.active.append(row)
        buffer = io.BytesIO()
        workbook.save(buffer)
        parsed = read_table(buffer.getvalue(), "f.xlsx", max_rows=1000)
    except (IllegalCharacterError, ValueError, TypeError, OverflowError, FileProblem):
        assume(False)
    importer = AccountImporter(actor=org.admin)
    rows = parse_rows(importer, parsed, map_headers(parsed.headers, importer.columns))
    before = Account.objects.count()
    try:
        outcome = execute(importer, rows, all_or_nothing=True, batch_size=3, single_transaction_rows=2)
    except ImportRejected as rejected:
        assert rejected.outcome.blocking > 0
        assert Account.objects.count() == before
        return
    assert Account.objects.count() == before + outcome.counts[Action.CREATE]
