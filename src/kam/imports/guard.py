"""The workbook guard: an upload is checked for what would hurt the reader before it is read.

An .xlsx file is a zip of XML parts; the reader (python-calamine) trusts what it finds there:
it reserves memory for the sheet's declared used range, lays the cells out over their actual
range, copies a shared string into every cell that uses it, and inflates whatever the zip holds.
A workbook of a few kilobytes can therefore ask for hundreds of gigabytes. The guard reads the
zip's directory and then streams every part in chunks of CHUNK bytes — in bounded memory, the
parts never held whole — and refuses the file, with a message naming the rule, when

- it is not a zip at all (or is an old / password-protected .xls), or its directory is damaged;
- it has more than IMPORT_XLSX_MAX_MEMBERS parts, unpacks (as declared, and as actually read)
  to more than IMPORT_XLSX_MAX_UNPACKED_BYTES, or a part larger than
  IMPORT_XLSX_RATIO_MIN_BYTES is compressed more than IMPORT_XLSX_MAX_RATIO to 1 (a deflate
  bomb); a part that inflates to more (or other) data than its directory says is refused too;
- an XML part has a document type declaration (DTD), the vehicle of entity expansion:
  Excel never writes one (openpyxl, used elsewhere, parses with defusedxml as well);
- the first sheet's used range — declared in <dimension>, and actual, from the cells' positions —
  is wider than IMPORT_SHEET_MAX_COLUMNS or larger than IMPORT_SHEET_MAX_CELLS, or it holds
  more cells than that;
- the shared strings number more than IMPORT_XLSX_MAX_SHARED_STRINGS, or the sheet's cells,
  each copying the string it refers to, add up to more than IMPORT_XLSX_MAX_TEXT_BYTES.

The scan does not parse the XML (that is the reader's job, once the file is known to be safe):
it counts tags with regular expressions over each chunk, cut at a tag boundary.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from array import array
from dataclasses import dataclass
from posixpath import normpath

from django.utils.translation import gettext as _

from kam.core.conf import config
from kam.core.errors import ValidationFailed

CHUNK = 1 << 20
# What may be left over between two chunks (an unfinished row or element) before the file is
# refused as malformed: far more than any row Excel writes.
MAX_CARRY = 8 << 20
# Parts read whole (workbook.xml and its relationships) must be smaller than this.
MAX_META_BYTES = 10_000_000

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class FileProblem(ValidationFailed):
    """The file as a whole cannot be read."""


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_members: int
    max_unpacked: int
    max_ratio: int
    ratio_min_bytes: int
    max_columns: int
    max_cells: int
    max_shared_strings: int
    max_text_bytes: int

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(
            max_bytes=config().IMPORT_MAX_BYTES,
            max_members=config().IMPORT_XLSX_MAX_MEMBERS,
            max_unpacked=config().IMPORT_XLSX_MAX_UNPACKED_BYTES,
            max_ratio=config().IMPORT_XLSX_MAX_RATIO,
            ratio_min_bytes=config().IMPORT_XLSX_RATIO_MIN_BYTES,
            max_columns=config().IMPORT_SHEET_MAX_COLUMNS,
            max_cells=config().IMPORT_SHEET_MAX_CELLS,
            max_shared_strings=config().IMPORT_XLSX_MAX_SHARED_STRINGS,
            max_text_bytes=config().IMPORT_XLSX_MAX_TEXT_BYTES,
        )


def _mb(n: int) -> str:
    if n < 1_000_000:
        return f"{n / 1_000_000:.3g}"
    return f"{n / 1_000_000:,.0f}" if n >= 10_000_000 else f"{n / 1_000_000:,.1f}"


def check_size(size: int, limits: Limits | None = None) -> None:
    limits = limits or Limits.from_settings()
    if size > limits.max_bytes:
        message = (_("The file is %(size)s MB; at most %(max)s MB can be uploaded (upload size limit).")
                   % {"size": _mb(size), "max": _mb(limits.max_bytes)})
        raise FileProblem(message, errors={"file": [message]})


# --- text files --------------------------------------------------------------------------------

def check_csv(data: bytes) -> None:
    """A CSV is text: NUL bytes (outside UTF-16) mean an image, a zip or another binary file."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return
    if b"\x00" in data:
        raise FileProblem(_("The file holds binary data (NUL bytes), so it is not a text CSV file. "
                            "Save it from Excel as CSV or as .xlsx and upload it again."))


# --- workbooks -------------------------------------------------------------------------------

def _refuse_magic(data: bytes) -> None:
    if data.startswith(OLE_MAGIC):
        raise FileProblem(_("Old .xls workbooks (and password-protected workbooks) cannot be read. "
                            "Save the file as .xlsx or .csv in Excel, without a password, and upload it again."))
    if not data.startswith(ZIP_MAGIC):
        raise FileProblem(_("This file is not an .xlsx workbook (an .xlsx file is a zip archive, and this "
                            "one is not). Save it from Excel as .xlsx or .csv and upload it again."))


def _damaged() -> FileProblem:
    return FileProblem(_("This is not a valid .xlsx workbook."))


def _directory_entries(data: bytes) -> int:
    """The number of parts as the end of the zip directory states it, read before the directory
    itself (which zipfile would load whole)."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if end < 0 or end + 22 > len(data):
        raise _damaged()
    entries, size = struct.unpack_from("<HI", data, end + 10)
    # zip64 (only archives far beyond any limit need it), or a directory larger than its count
    # of parts can fill (zipfile reads entries for as long as the directory goes on).
    if entries == 0xFFFF or size == 0xFFFFFFFF or size > max(entries, 1) * 4096:
        return 1 << 32
    return entries


def _members_limit(n: int, limits: Limits) -> FileProblem:
    return FileProblem(_("The workbook holds %(n)s parts; at most %(max)d are read (zip member limit).")
                       % {"n": f"{n:,}" if n < 1 << 32 else _("too many"), "max": limits.max_members})


def check_xlsx(data: bytes, limits: Limits | None = None) -> None:
    limits = limits or Limits.from_settings()
    check_size(len(data), limits)
    _refuse_magic(data)
    entries = _directory_entries(data)
    if entries > limits.max_members:
        raise _members_limit(entries, limits)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise _damaged() from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_members:
            raise _members_limit(len(infos), limits)
        _check_directory(infos, limits)
        scan = _Scan(archive, limits)
        scan.run(infos)


def _check_directory(infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise FileProblem(_("The workbook is encrypted; remove its password in Excel and upload it again."))
        total += info.file_size
        if total > limits.max_unpacked:
            raise _unpacked_limit(limits)
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > limits.ratio_min_bytes and ratio > limits.max_ratio:
            raise FileProblem(
                _("A part of the workbook (%(name)s) is compressed %(ratio)s to 1; more than %(max)d to 1 "
                  "is refused as a zip bomb (compression ratio limit).")
                % {"name": info.filename[:80], "ratio": f"{ratio:,.0f}", "max": limits.max_ratio}
            )


def _unpacked_limit(limits: Limits) -> FileProblem:
    return FileProblem(_("The workbook unpacks to more than %(max)s MB; at most %(max)s MB are read "
                         "(decompressed size limit).") % {"max": _mb(limits.max_unpacked)})


def _mismatch(name: str) -> FileProblem:
    return FileProblem(_("A part of the workbook (%(name)s) does not match its zip directory (size or "
                         "checksum): the file is damaged or was altered.") % {"name": name[:80]})


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


def _column_letters(n: int) -> str:
    out = ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


P = rb"<(?:[A-Za-z_][\w.-]*:)?"
DTD = re.compile(rb"<!DOCTYPE|<!ENTITY")
DIMENSION = re.compile(P + rb'dimension\b[^>]*?\bref="([^"]*)"')
ROW = re.compile(P + rb'row(?=[\s>/])(?:[^>]*?\sr="(\d+)")?')
CELL = re.compile(P + rb'c(?=[\s>/])(?:[^>]*?\sr="([A-Za-z]{1,4})(\d{1,9})")?')
# The sheet as Excel and openpyxl write it (see _Sheet._fast), and what rules that out.
FAST_ROW = re.compile(rb'<row r="(\d{1,9})"')
FAST_CELL = re.compile(rb'<c r="([A-Z]{1,4})(\d{1,9})"')
FAST_SHARED_REF = re.compile(rb'<c r="[A-Z]{1,4}\d{1,9}"(?: s="\d{1,9}")? t="s"><v>(\d{1,12})</v>')
ODD = (b":c ", b":c>", b":c/", b":row", b"<c\t", b"<c\n", b"<c\r", b"<row\t", b"<row\n", b"<row\r")
TAG = re.compile(rb'<((?:[A-Za-z_][\w.-]*:)?(?:row|c))(?=[\s>/])(?:[^>]*?\sr="([A-Za-z]{1,4})(\d{1,9})")?')
SHARED_REF = re.compile(P + rb'c\s[^>]*?\bt="s"[^>]*>\s*' + P + rb"v>\s*(\d{1,12})")
SI = re.compile(P + rb"si(?=[\s>/])")
REF = re.compile(r"^\$?([A-Za-z]{1,4})\$?(\d{1,9})(?::\$?([A-Za-z]{1,4})\$?(\d{1,9}))?$")


def _cut_at_tag(buffer: bytes) -> int:
    """Where a chunk may be cut: before its last '<', so that no tag is split."""
    return max(buffer.rfind(b"<"), 0)


def _cut_at_cell(buffer: bytes) -> int:
    """Before the last cell or row that starts in the chunk, so that a cell's <c> and its <v> are
    read together."""
    at = max(buffer.rfind(b"<c "), buffer.rfind(b"<c>"), buffer.rfind(b"<row "), buffer.rfind(b"<row>"))
    prefixed = max(buffer.rfind(b":c "), buffer.rfind(b":row "))
    if prefixed > at:
        at = max(buffer.rfind(b"<", 0, prefixed), at)
    return max(at, 0)


class _SharedStrings:
    """Counts the shared strings and keeps each one's size (an upper bound of its text)."""

    def __init__(self, limits: Limits, lengths: array):
        self.limit, self.lengths, self.open = limits.max_shared_strings, lengths, False

    def feed(self, block: bytes) -> None:
        pieces = SI.split(block)
        # pieces[0] continues the string opened in an earlier block; each later piece starts one.
        if self.open:
            self.lengths[-1] += len(pieces[0])
        if len(pieces) > 1:
            self.lengths.extend(map(len, pieces[1:]))
            self.open = True
        if len(self.lengths) > self.limit:
            raise FileProblem(_("The workbook holds more than %(max)s shared strings; at most %(max)s are "
                                "read (shared strings limit).") % {"max": f"{self.limit:,}"})


class _Sheet:
    """The sheet's declared and actual used range, its cells, and the text its shared-string cells copy."""

    def __init__(self, limits: Limits, lengths: array):
        self.limits, self.lengths = limits, lengths
        self.cells = self.text = self.max_row = self.max_col = self.row = 0
        self.dimension_seen = False
        # Once a cell without a position turns up, cells are followed one by one (a cell without
        # a position is the one after the cell before it), from the widest column seen so far.
        self.sequential = False
        self.col = 0

    def _walk(self, block: bytes) -> None:
        if not self.sequential:
            self.sequential, self.col = True, self.max_col
        for tag, letters, _number in TAG.findall(block):
            if tag.endswith(b"row"):
                self.col = 0
            else:
                self.col = _column_number(letters) if letters else self.col + 1
                self.max_col = max(self.max_col, self.col)

    def _fast(self, block: bytes):
        """(row numbers, cells, shared-string indices) when the block is written the way Excel and
        openpyxl write sheets — no prefixes, the position first in every row and cell — checked by
        counting; None otherwise (the general expressions, slower, then read it)."""
        if any(odd in block for odd in ODD):
            return None
        rows, cells, shared = FAST_ROW.findall(block), FAST_CELL.findall(block), FAST_SHARED_REF.findall(block)
        if (len(rows) != block.count(b"<row ") + block.count(b"<row>") + block.count(b"<row/")
                or len(cells) != block.count(b"<c ") + block.count(b"<c>") + block.count(b"<c/")
                or len(shared) != block.count(b't="s"')):
            return None
        return rows, cells, shared

    def feed(self, block: bytes) -> None:
        limits = self.limits
        if not self.dimension_seen and (match := DIMENSION.search(block)):
            self.dimension_seen = True
            _check_range(limits, match.group(1).decode("ascii", "replace"))
        fast = None if self.sequential else self._fast(block)
        rows, found, shared = fast or (ROW.findall(block), CELL.findall(block), SHARED_REF.findall(block))
        for number in rows:
            self.row = int(number) if number else self.row + 1
        if rows:
            self.max_row = max(self.max_row, self.row, *(int(n) for n in rows if n))
        self.cells += len(found)
        if self.cells > limits.max_cells:
            raise FileProblem(_("The sheet holds more than %(max)s cells; at most %(max)s are read "
                                "(cell count limit).") % {"max": f"{limits.max_cells:,}"})
        letters = {c for c, _n in found}
        if b"" in letters or self.sequential:
            self._walk(block)
            letters.discard(b"")
        if letters:
            self.max_col = max(self.max_col, max(_column_number(c) for c in letters))
            self.max_row = max(self.max_row, max(int(n) for n in {n for _c, n in found if n}))
        if self.max_col > limits.max_columns or self.max_row * self.max_col > limits.max_cells:
            _refuse_range(limits, self.max_row, self.max_col, declared=False)
        lengths, size = self.lengths, len(self.lengths)
        self.text += sum(lengths[i] for i in map(int, shared) if i < size)
        if self.text > limits.max_text_bytes:
            raise FileProblem(
                _("The sheet's cells repeat the workbook's shared strings to more than %(max)s MB of text; "
                  "at most %(max)s MB are read (shared strings size limit).") % {"max": _mb(limits.max_text_bytes)}
            )


class _Scan:
    """One pass over the parts: shared strings first, then the first sheet, then the rest."""

    def __init__(self, archive: zipfile.ZipFile, limits: Limits):
        self.archive, self.limits = archive, limits
        self.unpacked = 0
        self.string_lengths = array("Q")

    def run(self, infos: list[zipfile.ZipInfo]) -> None:
        by_name = {info.filename: info for info in infos}
        sheets = self._first_sheet(by_name)
        shared = [i for i in infos if i.filename.lower().endswith("sharedstrings.xml")]
        rest = [i for i in infos if i not in shared and i.filename not in sheets]
        for info in shared:
            self._stream(info, _SharedStrings(self.limits, self.string_lengths))
        for name in sheets:
            self._stream(by_name[name], _Sheet(self.limits, self.string_lengths), cut=_cut_at_cell)
        for info in rest:
            self._stream(info)

    def _first_sheet(self, by_name: dict[str, zipfile.ZipInfo]) -> list[str]:
        """The part holding the workbook's first sheet (the one read); every worksheet part when
        that cannot be told."""
        every = [n for n in by_name if n.lower().startswith("xl/worksheets/") and n.lower().endswith(".xml")]
        if "xl/workbook.xml" not in by_name or "xl/_rels/workbook.xml.rels" not in by_name:
            return every
        workbook = self._small(by_name["xl/workbook.xml"])
        rels = self._small(by_name["xl/_rels/workbook.xml.rels"])
        try:
            from defusedxml.ElementTree import fromstring

            sheet = next(e for e in fromstring(workbook).iter() if e.tag.rpartition("}")[2] == "sheet")
            rid = next(v for k, v in sheet.attrib.items() if k.rpartition("}")[2] == "id")
            target = next(e.get("Target") for e in fromstring(rels).iter() if e.get("Id") == rid)
        except Exception:  # whatever is wrong here, the reader says so; the guard checks every sheet
            return every
        name = target.lstrip("/") if target.startswith("/") else normpath("xl/" + target)
        return [name] if name in by_name else every

    def _small(self, info: zipfile.ZipInfo) -> bytes:
        if info.file_size > MAX_META_BYTES:
            raise FileProblem(_("A part of the workbook (%(name)s) is larger than %(max)s MB.")
                              % {"name": info.filename, "max": _mb(MAX_META_BYTES)})
        try:
            with self.archive.open(info) as handle:
                data = handle.read(MAX_META_BYTES + 1)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, zlib.error) as exc:
            raise _mismatch(info.filename) from exc
        if len(data) != info.file_size:
            raise _mismatch(info.filename)
        if DTD.search(data):
            raise _dtd(info.filename)
        return data

    def _stream(self, info: zipfile.ZipInfo, consumer=None, cut=_cut_at_tag) -> None:
        """Inflate one part chunk by chunk, counting what it really holds; an XML part is checked for
        a DTD and fed to `consumer` in blocks cut where `cut` says."""
        xml = info.filename.lower().endswith((".xml", ".rels", ".vml"))
        carry = b""
        seen = 0
        try:
            with self.archive.open(info) as handle:
                while chunk := handle.read(CHUNK):
                    seen += len(chunk)
                    self.unpacked += len(chunk)
                    if seen > info.file_size:
                        raise _mismatch(info.filename)
                    if self.unpacked > self.limits.max_unpacked:
                        raise _unpacked_limit(self.limits)
                    if not xml:
                        continue
                    buffer = carry + chunk
                    at = cut(buffer)
                    block, carry = buffer[:at], buffer[at:]
                    if b"<!DOCTYPE" in block or b"<!ENTITY" in block:
                        raise _dtd(info.filename)
                    if consumer is not None:
                        consumer.feed(block)
                    if len(carry) > MAX_CARRY:
                        raise FileProblem(_("The workbook's XML is malformed: one element of %(name)s is larger "
                                            "than %(max)s MB.") % {"name": info.filename[:80], "max": _mb(MAX_CARRY)})
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, zlib.error) as exc:
            raise _mismatch(info.filename) from exc
        if seen != info.file_size:
            raise _mismatch(info.filename)
        if xml and carry:
            if DTD.search(carry):
                raise _dtd(info.filename)
            if consumer is not None:
                consumer.feed(carry)


def _check_range(limits: Limits, ref: str) -> None:
    """The <dimension> a sheet declares, which the reader reserves memory for."""
    match = REF.match(ref.strip())
    if not match:
        return
    first_col, first_row = _column_number(match.group(1).encode()), int(match.group(2))
    last_col = _column_number(match.group(3).encode()) if match.group(3) else first_col
    last_row = int(match.group(4)) if match.group(4) else first_row
    rows, cols = max(first_row, last_row), max(first_col, last_col)
    if cols > limits.max_columns or rows * cols > limits.max_cells:
        _refuse_range(limits, rows, cols, declared=True, ref=ref)


def _refuse_range(limits: Limits, rows: int, cols: int, *, declared: bool, ref: str = "") -> None:
    """Ranges are measured from A1, as the reader lays the cells out."""
    values = {"rows": f"{rows:,}", "cols": f"{cols:,}", "max_cols": f"{limits.max_columns:,}",
              "max": f"{limits.max_cells:,}", "ref": ref or f"A1:{_column_letters(cols)}{rows}"}
    if declared:
        message = _("The sheet declares its used range as %(ref)s: %(rows)s rows × %(cols)s columns. At most "
                    "%(max_cols)s columns and %(max)s cells are read (sheet dimension limit).")
    else:
        message = _("The sheet's used range reaches %(ref)s: %(rows)s rows × %(cols)s columns. At most "
                    "%(max_cols)s columns and %(max)s cells are read (sheet dimension limit).")
    remedy = _("Delete the empty rows and columns after the data, or copy the data into a new workbook.")
    raise FileProblem(f"{message % values} {remedy}")


def _dtd(name: str) -> FileProblem:
    return FileProblem(_("A part of the workbook (%(name)s) contains an XML document type declaration (DTD). "
                         "Excel never writes one, and entity expansion can exhaust the server, so the file is "
                         "refused (XML entity rule).") % {"name": name[:80]})
