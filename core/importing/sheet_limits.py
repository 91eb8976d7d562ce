"""How large a workbook's sheets really are, found before the workbook reader builds them.

The workbook reader (calamine) holds each sheet as one dense grid running from the first
used cell to the last. A 5 kB XLSX with a single cell at XFD1048576 therefore asks for
17 billion cells (550 GB), an 822-byte ODS with one cell repeated 90,000 rows x 1,000
columns for 90 million, and a 10 kB XLS whose DIMENSIONS record says 1,048,576 x 16,384
makes the reader reserve 690 GB: the allocation fails inside the reader and the process
is aborted before Python sees an error. The zip-bomb check only looks at unpacked sizes,
which are tiny here.

So before the reader opens a workbook, :func:`check_workbook` streams each sheet's cells
(the XML of an XLSX/XLSM/ODS part, the records of an XLS or XLSB) and works out the grid
the reader would build. It refuses the file, naming the sheet, when that grid has more
than :data:`MAX_SHEET_CELLS` cells (:data:`MAX_ODS_SHEET_CELLS` for ODS) or more than
:data:`MAX_SHEET_COLUMNS` columns. Nothing is built on the way: the XML is scanned as
bytes with regular expressions (no DOM, no entity is resolved, no DTD is read), one part
at a time in pieces of :data:`CHUNK_BYTES`.

What counts is what the reader allocates:

* XLSX/XLSM: the box around the cells that hold a value. Empty formatted cells
  (``<c r="X9" s="1"/>``) are skipped by the reader and here; ``<dimension>`` is not
  trusted (the reader uses it only as a size hint). Every part of the package is
  scanned, since the package's relationships decide which part the reader takes for a
  sheet.
* ODS: rows and cells repeated by ``number-rows-repeated`` / ``number-columns-repeated``
  count as often as they repeat, *except empty ones after the data*: LibreOffice writes
  every sheet out to column 16,384 and row 1,048,576 that way and the reader skips
  such padding, so it is not counted either. Empty rows between data rows do count
  (the reader fills them in).
* XLS: the DIMENSIONS record (the reader reserves rows x columns from it up front) and
  the box around the cell records. The format itself limits a sheet to 65,536 rows x
  256 columns, but the records can carry 65,536 columns and DIMENSIONS a 32-bit row
  count, so a forged file is not bounded by the format.
* XLSB: the box around the cell records (rows and columns are 32-bit there).

The limits, and why (measured with the reader this app uses):

* An XLSX or XLS sheet costs the reader about 32 bytes per cell of its box (10 million
  cells: 0.3 GB at the peak); an ODS sheet about 130 bytes (10 million cells: 1.2 GB),
  as the reader keeps a grid of formulas beside the values and copies both.
* The largest realistic inventory table is about 10 million cells (a million usage rows
  of ten columns). :data:`MAX_SHEET_CELLS`, 50 million (about 1.6 GB in the reader),
  leaves five times that; ODS gets 20 million (about 2.6 GB), as each cell costs four
  times as much.
* :data:`MAX_SHEET_COLUMNS` is the width of Excel and LibreOffice, 16,384 (column XFD):
  no office program saves a wider sheet, and each row the importer reads becomes a list
  of that many cells.

What the scan costs, measured on this machine against the reader opening the file and
building its first sheet:

* XLSX, 100,000 rows x 8 columns (34 MB of sheet XML): 0.15 to 0.2 s against the
  reader's 0.8 s (18 to 25%); half of it is unpacking the XML, which the reader does
  again. Cells written ``<c r="A1"`` (as office programs and libraries write them) are
  checked with one fast pattern that only looks closer at references past Z99999; cells
  that all carry one namespace prefix (``<x:c r="A1"``) take a second pass (0.5 s, 48%).
  A part written otherwise (cells without ``r``, ``r`` after other attributes, mixed
  prefixes), or whose quick estimate is over a limit, is walked tag by tag: exact, but
  about ten times slower than the reader (10 s for this file; rare in practice, as
  office programs and the common libraries write ``r`` first).
* ODS, 100,000 rows x 8 columns as LibreOffice writes them (116 MB of content.xml):
  about 0.9 s against the reader's 0.5 to 0.8 s. The rows are sized one by one from
  their bytes; ODS is verbose and the reader is fast on it. The check runs once per
  version of a file (``core.importing.reading`` remembers it).
* XLS and XLSB: the records are walked one by one (small files in practice).
"""

from __future__ import annotations

import array
import html
import mmap
import posixpath
import re
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from core.errors import ImportReadError

#: most cells a sheet's grid may have (XLSX, XLSM, XLS, XLSB): 5x the largest inventory
MAX_SHEET_CELLS = 50_000_000
#: most cells an ODS sheet's grid may have (each costs the reader ~4x an XLSX cell)
MAX_ODS_SHEET_CELLS = 20_000_000
#: widest sheet accepted: Excel's and LibreOffice's own limit (column XFD)
MAX_SHEET_COLUMNS = 16_384
#: bytes of a part unpacked and scanned at a time
CHUNK_BYTES = 1 << 20
#: an element tag longer than this is not from an office program (nor a cell's text)
MAX_TAG_BYTES = 1 << 20
#: most bytes of a small part (workbook.xml, relationships) read to name the sheets
MAX_INDEX_BYTES = 16 << 20

#: a start tag's attributes, quoted values may hold ">" (as the reader allows)
_ATTRS = rb"(?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*"


@dataclass
class Extent:
    """The grid the reader would build for one sheet: ``rows`` x ``columns`` cells.

    ``far`` names the cell farthest from the top-left when known (``"XFD1048576"``),
    ``what`` says where the size comes from when it is not the cells themselves."""

    rows: int = 0
    columns: int = 0
    far: str | None = None
    what: str = ""

    @property
    def cells(self) -> int:
        return self.rows * self.columns

    def fits(self, limit: int) -> bool:
        return self.columns <= MAX_SHEET_COLUMNS and self.cells <= limit


def check_workbook(path: Path) -> None:
    """Refuse ``path`` (:class:`ImportReadError` naming the file and the sheet) if the
    workbook reader would build a sheet grid over the limits; return otherwise.

    The kind of file is taken from the suffix, as the reader takes it. Damage that the
    scan cannot get past (a broken zip entry) is left for the reader to report."""
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            _check_zip_parts(path, _xlsx_part_extent, MAX_SHEET_CELLS, _xlsx_sheet_names)
        elif suffix == ".xlsb":
            _check_zip_parts(path, _xlsb_part_extent, MAX_SHEET_CELLS, _xlsx_sheet_names)
        elif suffix == ".ods":
            _check_ods(path)
        elif suffix == ".xls":
            _check_xls(path)
    except _TagTooLong:
        raise ImportReadError(
            f"{path.name}: an element of the workbook's XML is longer than "
            f"{MAX_TAG_BYTES // 1024**2} MiB, which no office program writes; refusing to "
            "read it (the file is damaged or forged)."
        ) from None


def refusal(path: Path, where: str, extent: Extent, limit: int) -> ImportReadError:
    """The message for a sheet over the limits; ``where`` is ``"sheet Usage"``."""
    far = f", its farthest cell is {extent.far}" if extent.far else ""
    what = f" ({extent.what})" if extent.what else ""
    return ImportReadError(
        f"{path.name}, {where}: the sheet claims {extent.rows:,} rows x "
        f"{extent.columns:,} columns{what} = {extent.cells:,} cells{far}; refusing to "
        f"read it. A sheet may have at most {limit:,} cells and {MAX_SHEET_COLUMNS:,} "
        "columns. If the data is smaller, delete the rows and columns after it (or the "
        "stray cell), save the file and import it again; if it really is that large, "
        "split it into several files."
    )


def column_name(index: int) -> str:
    """0 -> "A", 16383 -> "XFD" (any size)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


# -- zip packages -------------------------------------------------------------------------


#: what unpacking a damaged or unsupported zip entry raises
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, NotImplementedError,
               RuntimeError, EOFError, OSError, ValueError)  # fmt: skip


def _chunks(fh: IO[bytes]) -> Iterator[bytes]:
    """The bytes of ``fh`` a chunk at a time, ending early where the entry is damaged:
    the reader fails at the same place, so it allocates nothing for what follows."""
    try:
        while chunk := fh.read(CHUNK_BYTES):
            yield chunk
    except _ZIP_ERRORS:
        return


def _open_chunks(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    try:
        fh = zf.open(info)
    except (*_ZIP_ERRORS, KeyError):
        return
    with fh:
        yield from _chunks(fh)


def _check_zip_parts(
    path: Path,
    part_extent: Callable[[Callable[[], Iterator[bytes]]], Extent],
    limit: int,
    names: Callable[[zipfile.ZipFile], dict[str, str]],
) -> None:
    """Scan every part of the package (the relationships choose which part is read as
    a sheet, so any part may be one); name the sheet from the workbook when it is one.
    ``part_extent`` gets a function that opens the part afresh (it may read it twice)."""
    try:
        zf = zipfile.ZipFile(path)
    except _ZIP_ERRORS:
        return  # not a zip the scan can open: the reader says so in its own words
    with zf:
        for info in zf.infolist():
            if info.is_dir() or info.file_size == 0:
                continue
            extent = part_extent(lambda info=info: _open_chunks(zf, info))
            if not extent.fits(limit):
                sheet = names(zf).get(info.filename)
                where = f"sheet {sheet}" if sheet else f"part {info.filename}"
                raise refusal(path, where, extent, limit)


def _read_small(zf: zipfile.ZipFile, name: str) -> bytes:
    try:
        with zf.open(name) as fh:
            return fh.read(MAX_INDEX_BYTES)
    except (*_ZIP_ERRORS, KeyError):
        return b""


def _attr(attrs: bytes, name: bytes) -> str | None:
    m = re.search(rb"(?:^|\s)" + name + rb"\s*=\s*(?:\"([^\"]*)\"|'([^']*)')", attrs)
    if m is None:
        return None
    raw = m.group(1) if m.group(1) is not None else m.group(2)
    return html.unescape(raw.decode("utf-8", "replace"))


def _xlsx_sheet_names(zf: zipfile.ZipFile) -> dict[str, str]:
    """``{part name: sheet name}`` from the workbook and its relationships (best effort:
    only used to word the message)."""
    workbook = "xl/workbook.xml"
    package_rels = _read_small(zf, "_rels/.rels")
    for tag in re.finditer(rb"<(?:\w+:)?Relationship\b(" + _ATTRS + rb")", package_rels):
        target = _attr(tag.group(1), rb"Target") or ""
        if (_attr(tag.group(1), rb"Type") or "").endswith("/officeDocument") and target:
            workbook = target.lstrip("/")
    folder, base = posixpath.split(workbook)
    rels = _read_small(zf, posixpath.join(folder, "_rels", base + ".rels"))
    targets = {}
    for tag in re.finditer(rb"<(?:\w+:)?Relationship\b(" + _ATTRS + rb")", rels):
        rid, target = _attr(tag.group(1), rb"Id"), _attr(tag.group(1), rb"Target")
        if rid and target:
            part = target[1:] if target.startswith("/") else posixpath.join(folder, target)
            targets[rid] = posixpath.normpath(part)
    names = {}
    data = _read_small(zf, workbook)
    if workbook.endswith(".bin"):  # XLSB: BrtBundleSh records hold the ids and names
        return _xlsb_sheet_names(data, targets)
    for tag in re.finditer(rb"<(?:\w+:)?sheet\b(" + _ATTRS + rb")", data):
        rid = _attr(tag.group(1), rb"[\w.-]+:id")
        name = _attr(tag.group(1), rb"name")
        if rid in targets and name is not None:
            names[targets[rid]] = name
    return names


# -- XLSX / XLSM --------------------------------------------------------------------------

#: a cell tag other than ``<c r="A1"`` .. ``<c r="Z99999"``: one past Z99999 (looked at
#: closer) or one not written ``<c r="...`` (the exact walk is needed); per prefix
_FAST_TEMPLATE = rb'<%sc(?! r="[A-Z][0-9]{1,5}")[\s/>]'
_XLSX_FAST = re.compile(_FAST_TEMPLATE % b"")
#: a cell tag with a namespace prefix (``<x:c``)
_PREFIXED_CELL = re.compile(rb":c[\s/>]")
_PREFIX_BEFORE = re.compile(rb"<([A-Za-z_][\w.-]*)$")
#: what the fast path assumes of the cells it did not look at: up to row 99,999, column Z
_QUIET_ROWS, _QUIET_COLUMNS = 99_999, 26
_XLSX_TAG = re.compile(
    rb"<(/?)(?:[A-Za-z_][\w.-]*:)?(row|c|v|is)(?=[\s/>])(" + _ATTRS + rb")\s*(/?)>"
)
_XLSX_TAG_START = re.compile(rb"</?(?:[A-Za-z_][\w.-]*:)?(?:row|c|v|is)[\s/>]")
_R_ATTR = re.compile(rb"(?:^|\s)r\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_REF = re.compile(rb"([A-Za-z]*)([0-9]*)")
_HUGE = 10**12


def parse_reference(value: bytes) -> tuple[int, int | None] | None:
    """``(row, column or None)``, 0-based, of a cell reference as the reader reads it
    ("B3" -> (2, 1), "7" -> (6, None)); None when the reader rejects it (other
    characters, no row, row 0). Rows and columns past any real sheet come out as they
    are (the reader's 32-bit arithmetic would wrap them; they are refused either way)."""
    m = _REF.fullmatch(value)
    if m is None:
        return None
    letters, digits = m.groups()
    if not digits:
        return None
    row = int(digits) if len(digits) <= 12 else _HUGE
    if row == 0:
        return None
    if not letters:
        return row - 1, None
    if len(letters) > 8:
        return row - 1, _HUGE
    col = 0
    for ch in letters.upper():
        col = col * 26 + ch - 64
    return row - 1, col - 1


def _xlsx_part_extent(open_part: Callable[[], Iterator[bytes]]) -> Extent:
    """The grid of one XLSX part: the fast estimate, or the exact walk (the part read
    again) when the fast path cannot vouch for it: unusual cell tags, or an estimate
    over a limit. Cells written with a namespace prefix (``<x:c r="A1"``, as some .NET
    libraries write them) get a second fast pass for that prefix."""
    fast = _xlsx_fast(open_part(), b"")
    if isinstance(fast, bytes):
        fast = _xlsx_fast(open_part(), fast)
    if isinstance(fast, Extent) and fast.fits(MAX_SHEET_CELLS):
        return fast
    return _xlsx_exact(open_part())


def _xlsx_fast(chunks: Iterator[bytes], prefix: bytes) -> Extent | bytes | None:
    """An upper bound from cells written ``<c r="...`` (``<{prefix}:c r="...``), looking
    only at references past Z99999. None as soon as a cell is written otherwise; the
    prefix of the cells when they all carry one and ``prefix`` is empty."""
    lead = b"<" + (prefix + b":" if prefix else b"") + b'c r="'
    fast = re.compile(_FAST_TEMPLATE % (prefix + b":" if prefix else b""))
    other = (
        re.compile(rb"<(?!" + re.escape(prefix) + rb":c[\s/>])(?:[A-Za-z_][\w.-]*:)?c[\s/>]")
        if prefix
        else None
    )
    rows = cols = 0
    far = None
    seen_cells = False
    tail = b""
    skip = 0  # bytes at the start of ``buf`` already looked at
    for chunk in _with_end(chunks):
        final = chunk is None
        buf = tail + (chunk or b"")
        stop = len(buf) if final else max(skip, len(buf) - 64)
        if not seen_cells and buf.find(lead, max(0, skip - len(lead))) >= 0:
            seen_cells = True
        if other is not None:
            m = other.search(buf, skip)
            if m is not None and m.start() < stop:
                return None  # cells without the prefix, or with another
        else:
            for m in _PREFIXED_CELL.finditer(buf, skip):
                if m.start() >= stop:
                    break
                found = _PREFIX_BEFORE.search(buf, max(0, m.start() - 64), m.start())
                if found:
                    return None if seen_cells else found.group(1)
        for m in fast.finditer(buf, skip):
            if m.start() >= stop:
                break
            start = m.start() + len(lead)
            if buf[m.start() : start] != lead:
                return None  # a cell tag not written <c r="...
            end = buf.find(b'"', start, start + 40)
            if end < 0:
                return None  # a reference of 40 characters or more
            ref = parse_reference(buf[start:end])
            if ref is None or ref[1] is None:
                continue  # the reader rejects the sheet: it allocates nothing
            close = buf.find(b">", end, end + 256)
            if close > 0 and buf[close - 1 : close] == b"/":
                continue  # <c r="..." s="1"/>: an empty formatted cell, skipped
            if ref[0] + 1 > rows or ref[1] + 1 > cols:
                rows, cols = max(rows, ref[0] + 1), max(cols, ref[1] + 1)
                far = f"{column_name(cols - 1)}{rows}"
        tail = buf[max(0, stop - 64) :]
        skip = stop - max(0, stop - 64)
    if seen_cells:
        rows, cols = max(rows, _QUIET_ROWS), max(cols, _QUIET_COLUMNS)
    return Extent(rows, cols, far)


def _with_end(chunks: Iterator[bytes]) -> Iterator[bytes | None]:
    yield from chunks
    yield None


class _Tags:
    """Tags matched by ``pattern`` in a stream of chunks, in order, each whole.

    What follows the last whole tag of a chunk is carried into the next. A tag of
    interest (``start`` matches its beginning) longer than :data:`MAX_TAG_BYTES` is
    refused; anything else that long (a long text, binary data) is dropped from the
    carry, as it cannot hide a tag of interest."""

    def __init__(self, pattern: re.Pattern[bytes], start: re.Pattern[bytes]):
        self.pattern = pattern
        self.start = start

    def __call__(self, chunks: Iterator[bytes]) -> Iterator[re.Match[bytes]]:
        carry = b""
        for chunk in chunks:
            buf = carry + chunk
            done = 0
            for m in self.pattern.finditer(buf):
                yield m
                done = m.end()
            lt = buf.rfind(b"<", done)
            carry = buf[lt:] if lt >= 0 else b""
            if len(carry) > MAX_TAG_BYTES:
                if self.start.match(carry):
                    raise _TagTooLong
                carry = carry[-64:]
        for m in self.pattern.finditer(carry):
            yield m


class _TagTooLong(Exception):
    pass


def _xlsx_exact(chunks: Iterator[bytes]) -> Extent:
    """The box around the cells holding a value, placed as the reader places them: by
    their ``r``, else one right of the previous cell of the row (rows by their ``r``,
    else one below the previous row)."""
    row_index = col_index = 0
    open_cell: tuple[int, int] | None = None
    lo_r = lo_c = hi_r = hi_c = -1
    for m in _Tags(_XLSX_TAG, _XLSX_TAG_START)(chunks):
        closing, name, attrs, empty = m.group(1), m.group(2), m.group(3), m.group(4)
        if name == b"row":
            if not closing:
                r = _R_ATTR.search(attrs)
                ref = parse_reference(r.group(1) or r.group(2) or b"") if r else None
                if ref is not None:
                    row_index = ref[0]
            if closing or empty:
                row_index += 1
                col_index = 0
        elif name == b"c":
            open_cell = None
            if closing:
                continue
            r = _R_ATTR.search(attrs)
            if r:
                ref = parse_reference(r.group(1) or r.group(2) or b"")
                if ref is None or ref[1] is None:
                    continue  # the reader rejects the sheet: it allocates nothing
                pos = (ref[0], ref[1])
            else:
                pos = (row_index, col_index)
            col_index = pos[1] + 1
            if not empty:
                open_cell = pos
        elif open_cell is not None and not closing:  # <v> or <is>: the cell has a value
            r0, c0 = open_cell
            open_cell = None
            if hi_r < 0:
                lo_r, hi_r, lo_c, hi_c = r0, r0, c0, c0
            else:
                lo_r, hi_r = min(lo_r, r0), max(hi_r, r0)
                lo_c, hi_c = min(lo_c, c0), max(hi_c, c0)
    if hi_r < 0:
        return Extent()
    far = f"{column_name(hi_c)}{hi_r + 1}" if hi_c < _HUGE else None
    return Extent(hi_r - lo_r + 1, hi_c - lo_c + 1, far)


# -- ODS ----------------------------------------------------------------------------------

_ODS_TAG = re.compile(
    rb"<(/?)table:(table|table-row|table-cell|covered-table-cell)(?=[\s/>])("
    + _ATTRS
    + rb")\s*(/?)>"
)
_ODS_TAG_START = re.compile(rb"</?table:(?:table|table-row|table-cell|covered-table-cell)[\s/>]")
_REPEATED = re.compile(
    rb"(?:^|\s)table:number-(?:rows|columns)-repeated\s*=\s*(?:\"([^\"]*)\"|'([^']*)')"
)
#: attributes that give a cell a value for the reader (a formula, a typed value)
_ODS_VALUE = re.compile(rb"(?:^|\s)(?:office:[\w-]*value[\w-]*|table:formula)\s*=")


def _repeats(attrs: bytes) -> int:
    """A row's or cell's repeat count (1 when absent or unreadable: the reader then
    refuses the file)."""
    best = 1
    for m in _REPEATED.finditer(attrs):
        raw = m.group(1) if m.group(1) is not None else m.group(2)
        text = html.unescape(raw.decode("utf-8", "replace")).lstrip("+")
        if text.isdigit() and text.isascii():
            best = max(best, int(text) if len(text) <= 12 else _HUGE)
    return best


def _check_ods(path: Path) -> None:
    """Size every table of ``content.xml`` (the reader builds them all when it opens
    the file): row by row, or tag by tag when that is not enough to be sure."""
    try:
        zf = zipfile.ZipFile(path)
    except _ZIP_ERRORS:
        return  # the reader says what is wrong
    with zf:
        try:
            info = zf.getinfo("content.xml")
        except KeyError:
            return
        tables = _ods_rows(_open_chunks(zf, info))
        if tables is not None and all(e.fits(MAX_ODS_SHEET_CELLS) for _, e in tables):
            return
        for name, extent in _ods_tables(_open_chunks(zf, info)):
            if not extent.fits(MAX_ODS_SHEET_CELLS):
                raise refusal(path, f"sheet {name}", extent, MAX_ODS_SHEET_CELLS)


_ODS_START = re.compile(rb"<table:table(-row)?(?=[\s/>])(" + _ATTRS + rb")\s*(/?)>")
_ODS_END = re.compile(rb"</table:table\s*>")
_ODS_CELL = re.compile(rb"<table:(?:covered-)?table-cell(?=[\s/>])(" + _ATTRS + rb")")
#: a row longer than this is sized tag by tag (nothing real comes near it)
_MAX_ODS_ROW_BYTES = 32 << 20


class _OdsSizer:
    """Running size of the current table, fed a row at a time."""

    def __init__(self) -> None:
        self.out: list[tuple[str, Extent]] = []
        self.name, self.in_table = "", False
        self.height = self.pending = self.width = 0

    def start(self, attrs: bytes) -> None:
        self.end()
        raw = _attr(attrs, rb"table:name")
        self.name, self.in_table = (raw if raw is not None else "?"), True
        self.height = self.pending = self.width = 0

    def end(self) -> None:
        if self.in_table:
            self.out.append((self.name, Extent(self.height, self.width)))
            self.in_table = False

    def row(self, repeat: int, last: int) -> None:
        if not self.in_table:
            return
        if last:
            self.height += self.pending + repeat
            self.pending = 0
            self.width = max(self.width, last)
        elif self.height:
            self.pending += repeat  # empty rows: counted if data follows


def _ods_rows(chunks: Iterator[bytes]) -> list[tuple[str, Extent]] | None:
    """``(sheet name, grid)`` per table, a row at a time: the cells of a row are counted
    as bytes, and only a row with repeated cells other than the empty padding at its end
    is looked at cell by cell. The grid is an upper bound of the reader's (a cell
    counts when the row holds a value anywhere); None when a row holds a table of its
    own or is too long, for :func:`_ods_tables` to size exactly."""
    sizer = _OdsSizer()
    carry = b""
    for chunk in _with_end(chunks):
        final = chunk is None
        buf = carry + (chunk or b"")
        pos = 0
        while True:
            i = buf.find(b"<table:table", pos)
            if buf.find(b"</table:table", pos, i if i >= 0 else len(buf)) >= 0:
                for end in _ODS_END.finditer(buf, pos, i if i >= 0 else len(buf)):
                    sizer.end()
                    pos = end.end()
            if i < 0:
                break
            if sizer.in_table and buf.find(b"table-cell", pos, i if i >= 0 else len(buf)) >= 0:
                return None  # a cell between rows: after a stray end tag, say
            m = _ODS_START.match(buf, i)
            if m is None:
                if buf.find(b">", i) < 0 and not final:
                    break  # a tag cut by the chunk: carried over
                if buf.startswith(b"<table:table-cell", i):
                    return None
                pos = i + 12  # <table:table-column ... and the like
                continue
            if not m.group(1):  # a table
                if not m.group(3):
                    sizer.start(m.group(2))
                pos = m.end()
                continue
            attrs = m.group(2)
            repeat = _repeats(attrs) if b"repeated" in attrs else 1
            if m.group(3):  # <table:table-row/>: no cells
                sizer.row(repeat, 0)
                pos = m.end()
                continue
            j = buf.find(b"</table:table-row", m.end())
            if j < 0:
                if final:
                    break
                i = -1 if len(buf) - i > _MAX_ODS_ROW_BYTES else i
                if i < 0:
                    return None
                break
            last = _ods_row_width(buf[m.end() : j])
            if last < 0:
                return None
            sizer.row(repeat, last)
            pos = j + 17
        carry = b"" if final else buf[pos:] if i >= 0 else buf[max(pos, len(buf) - 64) :]
        if len(carry) > _MAX_ODS_ROW_BYTES:
            return None
    sizer.end()
    return sizer.out


#: the empty cell LibreOffice ends every row with, repeated to the sheet's width
_ODS_PADDING = re.compile(
    rb"<table:table-cell(?:\s+(?!office:|table:formula)[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*"
    rb"\s*/>\s*\Z"
)


def _ods_row_width(body: bytes) -> int:
    """How many cells of a row the reader keeps: up to its last cell with a value (0:
    an empty row; -1: the row holds another row, a table of its own or a lost end tag).
    Counted from the bytes; cell by cell when cells repeat other than as the empty
    padding at the row's end."""
    if body.find(b"<table:table-row") >= 0:
        return -1
    end = body.rfind(b"<table:table-cell")
    if end < 0 or not _ODS_PADDING.match(body, end):
        end = len(body)
    if body.find(b"repeated", 0, end) < 0:
        if body.find(b"value", 0, end) < 0 and body.find(b"formula", 0, end) < 0:
            return 0
        cells = body.count(b"<table:table-cell", 0, end)
        if body.find(b"covered", 0, end) >= 0:
            cells += body.count(b"<table:covered-table-cell", 0, end)
        return cells
    pos = last_value = 0
    for m in _ODS_CELL.finditer(body):
        attrs = m.group(1)
        pos += _repeats(attrs) if b"repeated" in attrs else 1
        if _ODS_VALUE.search(attrs):
            last_value = pos
    return last_value


def _ods_tables(chunks: Iterator[bytes]) -> Iterator[tuple[str, Extent]]:
    """``(sheet name, grid)`` per table of ``content.xml``, as the reader sizes it: rows
    from the first to the last with a valued cell (repeats counted, empty rows between
    them too), columns up to the last valued cell of the widest row (empty cells before
    it counted with their repeats, empty ones after it not)."""
    name = ""
    height = pending = width = 0
    repeat = pos = last = 0
    in_table = False
    for m in _Tags(_ODS_TAG, _ODS_TAG_START)(chunks):
        closing, tag, attrs, empty = m.group(1), m.group(2), m.group(3), m.group(4)
        if tag == b"table":
            if closing and in_table:
                yield name, Extent(height, width)
                in_table = False
            elif not closing and not empty:
                in_table, height, pending, width = True, 0, 0, 0
                raw = _attr(attrs, rb"table:name")
                name = raw if raw is not None else "?"
            continue
        if not in_table:
            continue
        if tag == b"table-row":
            if not closing:
                repeat, pos, last = _repeats(attrs), 0, 0
            if closing or empty:
                if last:
                    height += pending + repeat
                    pending = 0
                    width = max(width, last)
                elif height:
                    pending += repeat  # empty rows: counted if data follows
        elif not closing:  # a cell, or a covered (merged) cell
            pos += _repeats(attrs)
            if _ODS_VALUE.search(attrs):
                last = pos
    if in_table:
        yield name, Extent(height, width)


# -- XLS (BIFF in a compound file) --------------------------------------------------------

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_END_OF_CHAIN = 0xFFFFFFFA  # this and above: end of chain, free, FAT or DIFAT sector
#: BIFF records that place a cell: Number, Label, BoolErr, RK, LabelSst, Formula
_XLS_CELLS = frozenset({0x0203, 0x0204, 0x0205, 0x027E, 0x00FD, 0x0006})
_XLS_MULRK, _XLS_DIMENSIONS, _XLS_EOF, _XLS_BOUNDSHEET = 0x00BD, 0x0200, 0x000A, 0x0085


def _check_xls(path: Path) -> None:
    try:
        with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            stream = _cfb_stream(data)
    except (OSError, ValueError):
        return
    if stream is None:
        return  # not a compound file the scan can follow: the reader says what is wrong
    for name, extent in _xls_sheets(stream):
        if not extent.fits(MAX_SHEET_CELLS):
            raise refusal(path, f"sheet {name}", extent, MAX_SHEET_CELLS)


def _cfb_stream(data: mmap.mmap | bytes) -> bytes | None:
    """The ``Workbook`` (or BIFF5 ``Book``) stream of a compound file, following its
    sector chains with every loop and out-of-range pointer cut short; None if there is
    none to be found."""
    if len(data) < 512 or data[:8] != _OLE:
        return None
    shift, mini_shift = struct.unpack_from("<HH", data, 0x1E)
    if shift not in (9, 12) or mini_shift > 12:
        return None
    size = 1 << shift
    n_sectors = (len(data) - size) // size + (1 if (len(data) - size) % size else 0)
    (n_fat, dir_start, _, cutoff, mini_start, _, difat_start, n_difat) = struct.unpack_from(
        "<IIIIIIII", data, 0x2C
    )

    def sector(i: int) -> bytes:
        return bytes(data[(i + 1) * size : (i + 2) * size])

    def words(block: bytes) -> array.array:
        out = array.array("I")
        out.frombytes(block[: len(block) // 4 * 4])
        if sys.byteorder == "big":
            out.byteswap()
        return out

    difat = list(struct.unpack_from("<109I", data, 0x4C))
    nxt, seen = difat_start, set()
    while nxt < min(n_sectors, _END_OF_CHAIN) and nxt not in seen and len(seen) < n_difat + 1:
        seen.add(nxt)
        entries = words(sector(nxt))
        difat.extend(entries[:-1])
        nxt = entries[-1] if entries else _END_OF_CHAIN
    fat = array.array("I")
    for s in difat[: min(n_fat, n_sectors)]:
        if s < n_sectors:
            fat.extend(words(sector(s)))

    def chain(start: int, table: array.array, limit: int) -> Iterator[int]:
        seen: set[int] = set()
        while start < min(len(table), limit, _END_OF_CHAIN) and start not in seen:
            seen.add(start)
            yield start
            start = table[start]

    directory = b"".join(sector(s) for s in chain(dir_start, fat, n_sectors))
    entries = []
    for i in range(len(directory) // 128):
        e = directory[i * 128 : (i + 1) * 128]
        name_len = min(struct.unpack_from("<H", e, 0x40)[0], 64)
        name = e[: max(0, name_len - 2)].decode("utf-16-le", "replace")
        start, length = struct.unpack_from("<II", e, 0x74)
        entries.append((name, e[0x42], start, length))
    if not entries:
        return None
    wanted = next((e for e in entries if e[0] == "Workbook" and e[1] == 2), None)
    wanted = wanted or next((e for e in entries if e[0] == "Book" and e[1] == 2), None)
    if wanted is None:
        return None
    _, _, start, length = wanted
    if length < cutoff:
        root = entries[0]
        ministream = b"".join(sector(s) for s in chain(root[2], fat, n_sectors))
        minifat_bytes = b"".join(sector(s) for s in chain(mini_start, fat, n_sectors))
        minifat = words(minifat_bytes)
        msize = 1 << mini_shift
        stream = b"".join(
            ministream[s * msize : (s + 1) * msize]
            for s in chain(start, minifat, len(ministream) // msize)
        )
    else:
        stream = b"".join(sector(s) for s in chain(start, fat, n_sectors))
    return stream[:length]


def _records(stream: bytes, pos: int) -> Iterator[tuple[int, bytes]]:
    """``(type, data)`` of the BIFF records from ``pos`` to the end of the stream."""
    end = len(stream)
    while pos + 4 <= end:
        typ, length = struct.unpack_from("<HH", stream, pos)
        yield typ, stream[pos + 4 : pos + 4 + length]
        pos += 4 + length


def _xls_sheets(stream: bytes) -> Iterator[tuple[str, Extent]]:
    """``(sheet name, grid)`` per sheet: the larger of what DIMENSIONS makes the reader
    reserve and the box around the cells."""
    sheets = []
    for typ, data in _records(stream, 0):
        if typ == _XLS_BOUNDSHEET and len(data) >= 8:
            offset = struct.unpack_from("<I", data)[0]
            count, flags = data[6], data[7]
            raw = data[8 : 8 + count * (2 if flags & 1 else 1)]
            name = raw.decode("utf-16-le" if flags & 1 else "latin-1", "replace")
            sheets.append((offset, name))
        elif typ == _XLS_EOF:
            break
    for offset, name in sheets:
        yield name, _xls_sheet_extent(stream, offset)


def _xls_sheet_extent(stream: bytes, offset: int) -> Extent:
    reserve = Extent(what="as its DIMENSIONS record says")
    lo_r = lo_c = hi_r = hi_c = None
    for typ, data in _records(stream, offset):
        if typ == _XLS_EOF:
            break
        cells: tuple[int, int, int] | None = None  # (row, first column, last column)
        if typ in _XLS_CELLS and len(data) >= 4:
            row, col = struct.unpack_from("<HH", data)
            cells = (row, col, col)
        elif typ == _XLS_MULRK and len(data) >= 6:
            row, col = struct.unpack_from("<HH", data)
            cells = (row, col, col + max(1, (len(data) - 6) // 6) - 1)
        elif typ == _XLS_DIMENSIONS and len(data) in (10, 14):
            fmt = "<HHHH" if len(data) == 10 else "<IIHH"
            rf, rl, cf, cl = struct.unpack_from(fmt, data)
            er, ec = (rl - 1, cl - 1) if rl >= 1 and cl >= 1 else (rf, cf)
            rows, cols = (er - rf + 1) % 2**32, (ec - cf + 1) % 2**32  # the reader's u32
            if rows * cols > reserve.cells:
                reserve.rows, reserve.columns = rows, cols
        if cells is not None:
            row, c0, c1 = cells
            if hi_r is None:
                lo_r, hi_r, lo_c, hi_c = row, row, c0, c1
            else:
                lo_r, hi_r = min(lo_r, row), max(hi_r, row)
                lo_c, hi_c = min(lo_c, c0), max(hi_c, c1)
    if hi_r is None:
        return reserve
    box = Extent(hi_r - lo_r + 1, hi_c - lo_c + 1, f"{column_name(hi_c)}{hi_r + 1}")
    return box if box.cells >= reserve.cells and box.columns >= reserve.columns else reserve


# -- XLSB (binary records in a zip package) ------------------------------------------------

#: BrtRowHdr (the row of the cells that follow) and the cell records that hold a value
_XLSB_ROW = 0x0000
_XLSB_CELLS = frozenset(range(0x0002, 0x000C))
_XLSB_BEGIN_DATA, _XLSB_END_DATA, _XLSB_BUNDLE_SHEET = 0x0091, 0x0092, 0x009C
#: bytes of a record's data kept (cells need 4, a sheet's name and id a few hundred)
_XLSB_KEEP = 1024


def _xlsb_records(chunks: Iterator[bytes]) -> Iterator[tuple[int, bytes]]:
    """``(type, first bytes of the data)`` of the records of an XLSB part, streaming: a
    type is one or two bytes, a length one to four (7 bits each, high bit: more). Only
    the first :data:`_XLSB_KEEP` bytes of a record are kept; the rest is skipped."""
    source = iter(chunks)
    buf, pos = b"", 0

    def more() -> bool:
        nonlocal buf, pos
        chunk = next(source, None)
        if chunk is None:
            return False
        buf, pos = buf[pos:] + chunk, 0
        return True

    while True:
        head = _xlsb_header(buf, pos)
        if head is None:
            if not more():
                return
            continue
        typ, length, rel = head  # rel: where the data starts, from pos
        want = min(length, _XLSB_KEEP)
        while len(buf) - pos < rel + want:
            if not more():
                return  # cut off: the reader stops there too
        yield typ, buf[pos + rel : pos + rel + want]
        skip = rel + length
        while len(buf) - pos < skip:
            skip -= len(buf) - pos
            buf, pos = b"", 0
            if not more():
                return
        pos += skip


def _xlsb_header(buf: bytes, pos: int) -> tuple[int, int, int] | None:
    """``(type, length, offset of the data from pos)``, or None when ``buf`` ends first."""
    first = pos
    if pos >= len(buf):
        return None
    b = buf[pos]
    typ, pos = b & 0x7F, pos + 1
    if b & 0x80:
        if pos >= len(buf):
            return None
        typ |= (buf[pos] & 0x7F) << 7
        pos += 1
    length = 0
    for i in range(4):
        if pos >= len(buf):
            return None
        b = buf[pos]
        pos += 1
        length |= (b & 0x7F) << (7 * i)
        if not b & 0x80:
            break
    return typ, length, pos - first


def _xlsb_part_extent(open_part: Callable[[], Iterator[bytes]]) -> Extent:
    """The box around the cell records of one part (after BrtBeginSheetData, where the
    reader starts reading cells); 0 x 0 for parts that are not sheets."""
    row = 0
    in_data = False
    lo_r = lo_c = hi_r = hi_c = None
    for typ, data in _xlsb_records(open_part()):
        if not in_data:
            in_data = typ == _XLSB_BEGIN_DATA
            continue
        if typ == _XLSB_END_DATA:
            break
        if typ == _XLSB_ROW and len(data) >= 4:
            row = struct.unpack_from("<I", data)[0]
        elif typ in _XLSB_CELLS and len(data) >= 4:
            col = struct.unpack_from("<I", data)[0]
            if hi_r is None:
                lo_r, hi_r, lo_c, hi_c = row, row, col, col
            else:
                lo_r, hi_r = min(lo_r, row), max(hi_r, row)
                lo_c, hi_c = min(lo_c, col), max(hi_c, col)
    if hi_r is None:
        return Extent()
    return Extent(hi_r - lo_r + 1, hi_c - lo_c + 1, f"{column_name(hi_c)}{hi_r + 1}")


def _xlsb_sheet_names(workbook: bytes, targets: dict[str, str]) -> dict[str, str]:
    """``{part: sheet name}`` from the BrtBundleSh records of ``xl/workbook.bin``."""
    names = {}
    for typ, data in _xlsb_records(iter([workbook])):
        if typ != _XLSB_BUNDLE_SHEET or len(data) < 12:
            continue
        try:
            n = struct.unpack_from("<I", data, 8)[0]
            rid = data[12 : 12 + 2 * n].decode("utf-16-le")
            m = struct.unpack_from("<I", data, 12 + 2 * n)[0]
            name = data[16 + 2 * n : 16 + 2 * n + 2 * m].decode("utf-16-le")
        except (struct.error, UnicodeDecodeError):
            continue
        if rid in targets:
            names[targets[rid]] = name
    return names
