"""Hostile upload files, built in code: each is small on the wire and would hurt a reader that
trusts it. `CORPUS` maps a name to (filename, bytes, words of the message that refuses it).

- sparse: cells A1 and XFD1048576 only, declared as such — 17 billion cells of used range.
- sparse_undeclared: the same two cells under a declared dimension of A1 (the directory lies).
- shared_strings: one 30,000-character shared string that 200,000 cells repeat (6 GB as text).
- many_strings: more shared strings than the limit, each one character.
- deflate: a sheet padded with 50 MB of spaces, compressed over 1,000 to 1.
- deflate_lying: a sheet whose zip directory says 10 kB while its data inflates to 50 MB.
- laughs: XML entity expansion ("billion laughs") in the shared strings.
- not_zip / old_xls: an .xlsx that is text, and an old OLE .xls renamed .xlsx.
- binary_csv: a .csv holding a PNG image (NUL bytes); nul_csv: a text CSV with NULs in it.
"""

from __future__ import annotations

import functools
import io
import struct
import zipfile

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
REL_NS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8"?><workbook {NS} {REL_NS}>'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)


def sheet_xml(rows: str, dimension: str | None = None, padding: bytes = b"") -> bytes:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}>{dim}<sheetData>'.encode()
            + padding + f"{rows}</sheetData></worksheet>".encode())


def shared_strings_xml(strings: list[str], prolog: str = "", count: int | None = None) -> bytes:
    items = "".join(f"<si><t>{s}</t></si>" for s in strings)
    n = len(strings) if count is None else count
    return f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<sst {NS} count="{n}" uniqueCount="{n}">{items}</sst>'.encode()


def workbook(sheet: bytes, shared: bytes | None = None) -> bytes:
    """A minimal .xlsx around one sheet's XML (and shared strings), deflated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", ROOT_RELS)
        z.writestr("xl/workbook.xml", WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        z.writestr("xl/sharedStrings.xml", shared if shared is not None else shared_strings_xml([]))
    return buffer.getvalue()


def header_row() -> str:
    return '<row r="1"><c r="A1" t="inlineStr"><is><t>客户名称</t></is></c></row>'


def sparse() -> bytes:
    rows = header_row() + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    return workbook(sheet_xml(rows, "A1:XFD1048576"))


def sparse_undeclared() -> bytes:
    rows = header_row() + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    return workbook(sheet_xml(rows, "A1"))


def shared_strings_bomb(cells: int = 200_000, length: int = 30_000) -> bytes:
    rows = header_row() + "".join(f'<row r="{n}"><c r="A{n}" t="s"><v>0</v></c></row>' for n in range(2, cells + 2))
    return workbook(sheet_xml(rows, f"A1:A{cells + 1}"), shared_strings_xml(["X" * length]))


def many_strings(count: int) -> bytes:
    return workbook(sheet_xml(header_row(), "A1"), shared_strings_xml(["x"] * count))


@functools.cache
def deflate_bomb(padding_mb: int = 50) -> bytes:
    return workbook(sheet_xml(header_row(), "A1", padding=b" " * (padding_mb * 1_000_000)))


def deflate_lying(padding_mb: int = 50, claimed: int = 10_000) -> bytes:
    """The deflate bomb with the sheet's uncompressed size rewritten to `claimed` bytes in both the
    local header and the central directory, so that only reading the data shows its true size."""
    data = bytearray(deflate_bomb(padding_mb))
    name = b"xl/worksheets/sheet1.xml"
    local = -1
    pos = 0
    while (pos := data.find(b"PK\x03\x04", pos)) != -1:
        name_len = struct.unpack_from("<H", data, pos + 26)[0]
        if data[pos + 30: pos + 30 + name_len] == name:
            struct.pack_into("<I", data, pos + 22, claimed)
            local = pos
            break
        pos += 4
    assert local >= 0
    pos = 0
    while (pos := data.find(b"PK\x01\x02", pos)) != -1:
        name_len = struct.unpack_from("<H", data, pos + 28)[0]
        if data[pos + 46: pos + 46 + name_len] == name:
            struct.pack_into("<I", data, pos + 24, claimed)
            break
        pos += 4
    return bytes(data)


LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % ("" if i == 1 else i - 1)) * 10}">' for i in range(1, 10))
    + "]>"
)


def billion_laughs() -> bytes:
    return workbook(sheet_xml('<row r="1"><c r="A1" t="s"><v>0</v></c></row>', "A1"),
                    shared_strings_xml(["&lol9;"], prolog=LAUGHS))


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89" * 40
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504


# name → (filename, bytes factory, words the refusal names)
CORPUS = {
    "sparse": ("稀疏.xlsx", sparse, "used range"),
    "sparse_undeclared": ("稀疏未声明.xlsx", sparse_undeclared, "used range"),
    "shared_strings": ("共享字符串.xlsx", shared_strings_bomb, "shared strings"),
    "deflate": ("压缩炸弹.xlsx", deflate_bomb, "compressed"),
    "deflate_lying": ("压缩炸弹2.xlsx", deflate_lying, "zip directory"),
    "laughs": ("实体扩展.xlsx", billion_laughs, "DTD"),
    "not_zip": ("不是压缩包.xlsx", lambda: "客户名称\n一\n".encode() * 50, "not an .xlsx workbook"),
    "old_xls": ("旧格式.xlsx", lambda: OLE, "Old .xls"),
    "binary_csv": ("图片.csv", lambda: PNG, "binary"),
    "nul_csv": ("空字符.csv", lambda: b"\xef\xbb\xbf\xe5\xae\xa2\xe6\x88\xb7,x\n\x00\x00a,b\n", "binary"),
}


def corpus_file(name: str) -> tuple[str, bytes]:
    filename, factory, _words = CORPUS[name]
    return filename, factory()
