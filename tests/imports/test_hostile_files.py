"""The workbook guard: each file of the hostile corpus is refused, with a message naming the rule,
by the reader, the upload page and `kam import` alike — and nothing is stored."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from factories import PASSWORD
from kam import cli
from kam.imports import guard
from kam.imports.models import ImportJob
from kam.imports.readers import FileProblem, read_table

from . import hostile

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", list(hostile.CORPUS))
def test_the_reader_refuses_each_hostile_file_naming_the_rule(name):
    # given a hostile file
    filename, data = hostile.corpus_file(name)
    words = hostile.CORPUS[name][2]

    # when it is read, then it is refused with the rule's message
    with pytest.raises(FileProblem) as refused:
        read_table(data, filename, max_rows=1_000_000)
    assert words.lower() in refused.value.message.lower(), refused.value.message


def test_counts_and_sizes_are_settings(settings):
    # given limits lowered below what ordinary workbooks hold
    settings.KAM = {**settings.KAM, "IMPORT_XLSX_MAX_SHARED_STRINGS": 100,
                    "IMPORT_SHEET_MAX_CELLS": 50, "IMPORT_SHEET_MAX_COLUMNS": 4}

    # then each is enforced with its own message
    def refused(data: bytes, name: str = "x.xlsx") -> str:
        with pytest.raises(FileProblem) as caught:
            read_table(data, name, max_rows=1_000_000)
        return caught.value.message

    assert "shared strings limit" in refused(hostile.many_strings(101))
    settings.KAM = {**settings.KAM, **dict(IMPORT_XLSX_MAX_SHARED_STRINGS=1000, IMPORT_XLSX_MAX_MEMBERS=3)}
    assert "zip member limit" in refused(hostile.many_strings(10))
    settings.KAM = {**settings.KAM, "IMPORT_XLSX_MAX_MEMBERS": 100}
    settings.KAM = {**settings.KAM, "IMPORT_MAX_BYTES": 1000}
    assert "upload size limit" in refused(b"a,b\n" * 300, "big.csv")
    settings.KAM = {**settings.KAM, "IMPORT_MAX_BYTES": 10_000_000}
    wide = "".join(f'<c r="{col}1"><v>1</v></c>' for col in "ABCDE")
    assert "sheet dimension limit" in refused(hostile.workbook(hostile.sheet_xml(f'<row r="1">{wide}</row>')))
    tall = '<row r="1"><c r="A1"><v>1</v></c></row><row r="60"><c r="A60"><v>1</v></c></row>'
    assert "sheet dimension limit" in refused(hostile.workbook(hostile.sheet_xml(tall)))
    # cells piled on one position, each read by the reader, count one by one
    piled = '<row r="1">' + '<c r="A1"><v>1</v></c>' * 60 + "</row>"
    assert "cell count limit" in refused(hostile.workbook(hostile.sheet_xml(piled)))
    settings.KAM = {**settings.KAM, **dict(IMPORT_XLSX_MAX_UNPACKED_BYTES=1500)}
    assert "decompressed size limit" in refused(hostile.workbook(hostile.sheet_xml(hostile.header_row())))


def test_cells_without_positions_are_measured_by_their_count(settings):
    settings.KAM = {**settings.KAM, "IMPORT_SHEET_MAX_COLUMNS": 4}
    row = '<row r="1">' + "<c><v>1</v></c>" * 5 + "</row>"
    with pytest.raises(FileProblem, match="sheet dimension limit"):
        read_table(hostile.workbook(hostile.sheet_xml(row)), "x.xlsx", max_rows=10)


def test_a_part_split_over_chunks_is_counted_whole(settings, monkeypatch):
    # given chunks far smaller than a row, so that tags and cells straddle them
    monkeypatch.setattr(guard, "CHUNK", 7)
    settings.KAM = {**settings.KAM, "IMPORT_SHEET_MAX_COLUMNS": 30}
    rows = "".join(f'<row r="{n}"><c r="A{n}" t="s"><v>0</v></c><c r="B{n}"><v>{n}</v></c></row>' for n in range(1, 40))
    ok = hostile.workbook(hostile.sheet_xml(rows + '<row r="40"><c r="AD40"><v>1</v></c></row>', "A1:AD40"),
                          hostile.shared_strings_xml(["名称"]))
    assert len(read_table(ok, "ok.xlsx", max_rows=100).rows) == 39
    wide = hostile.workbook(hostile.sheet_xml(rows + '<row r="40"><c r="AE40"><v>1</v></c></row>', "A1"),
                            hostile.shared_strings_xml(["名称"]))
    with pytest.raises(FileProblem, match="AE40"):
        read_table(wide, "wide.xlsx", max_rows=100)
    settings.KAM = {**settings.KAM, **dict(IMPORT_XLSX_MAX_TEXT_BYTES=20 * 39)}
    with pytest.raises(FileProblem, match="shared strings size limit"):
        read_table(hostile.workbook(hostile.sheet_xml(rows), hostile.shared_strings_xml(["名" * 10])), "t.xlsx",
                   max_rows=100)


def test_ordinary_workbooks_pass_the_guard():
    # given a workbook as openpyxl (and Excel) writes it, several sheets, styles, shared strings
    book = Workbook()
    book.active.append(["客户名称", "客户编号"])
    for n in range(500):
        book.active.append([f"客户{n}", f"C{n:04d}"])
    book.create_sheet("说明").append(["x" * 1000] * 300)
    buffer = io.BytesIO()
    book.save(buffer)

    # then it is read whole
    table = read_table(buffer.getvalue(), "ok.xlsx", max_rows=1000)
    assert table.headers == ["客户名称", "客户编号"] and len(table.rows) == 500


def test_openpyxl_parses_with_defusedxml():
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML is True


def test_an_encrypted_part_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    data = bytearray(buffer.getvalue())
    data[6] |= 1  # local header flag
    central = data.find(b"PK\x01\x02")
    data[central + 8] |= 1
    with pytest.raises(FileProblem, match="encrypted"):
        read_table(bytes(data), "locked.xlsx", max_rows=10)


@pytest.mark.parametrize("name", ["sparse", "shared_strings", "laughs", "not_zip", "binary_csv"])
def test_the_upload_page_refuses_them_and_stores_nothing(org, client, name):
    client.login(username="spec_a", password=PASSWORD)
    filename, data = hostile.corpus_file(name)
    response = client.post("/imports/", {"kind": "accounts", "file": SimpleUploadedFile(filename, data)})
    page = response.content.decode()
    assert response.status_code == 200 and hostile.CORPUS[name][2] in page
    assert not ImportJob.objects.exists()


def test_an_oversize_upload_is_stopped_while_it_arrives(org, client, settings):
    # given an upload limit of 100 kB
    settings.KAM = {**settings.KAM, "IMPORT_MAX_BYTES": 100_000}
    client.login(username="spec_a", password=PASSWORD)

    # when a larger file is posted
    big = SimpleUploadedFile("big.csv", b"a,b\n" * 50_000)
    response = client.post("/imports/", {"kind": "accounts", "file": big})

    # then the page says why, with 413, and nothing is stored
    assert response.status_code == 413
    assert "upload size limit" in response.content.decode() and "This field is required" not in response.content.decode()
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize("name", list(hostile.CORPUS))
def test_kam_import_refuses_them_with_the_same_messages(org, tmp_path, capsys, name):
    filename, data = hostile.corpus_file(name)
    path = tmp_path / filename
    path.write_bytes(data)
    assert cli.main(["import", "accounts", str(path), "--user", org.admin.username, "--quiet"]) == 2
    assert hostile.CORPUS[name][2].lower() in capsys.readouterr().err.lower()
    assert not ImportJob.objects.exists()
