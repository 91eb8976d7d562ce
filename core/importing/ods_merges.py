"""Merged cells at the top of ODS sheets, read from ``content.xml``.

The workbook reader reports merged cell ranges for XLSX only, so without this an ODS
sheet whose header is split over two rows under merged group cells ("Energy" over
"kWh" | "boundary") would lose its group row. A merged cell is written in ODS as a cell
with ``table:number-columns-spanned`` / ``table:number-rows-spanned`` followed by the
covered cells it hides; positions count every cell and covered cell with its
``table:number-columns-repeated`` and every row with its ``table:number-rows-repeated``,
as the reader counts them.

``content.xml`` is untrusted input: it is read as the sheet-size check reads it
(:mod:`core.importing.sheet_limits_ods`): as bytes, a chunk at a time, its tags as the
reader's XML parser reads them (no DTD, no entity expansion; a ``>`` or ``<`` in a
quoted value, a comment or a CDATA section cannot pass for a tag) and its tables, rows
and cells as the reader reads them (what a cell holds is stepped over as the reader
steps over it). Only the first rows of each wanted table are looked at tag by tag, and
only where a row holds a merged cell; other runs of plain rows, and the rest of each
table, are stepped over in bulk. Memory stays bounded by the chunk size, the longest
tag accepted and :data:`MAX_MERGES` ranges per sheet; the work by :data:`MAX_HEAD_TAGS`
per sheet.
"""

from __future__ import annotations

import html
import re
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from core.importing.sheet_limits_common import (
    _HUGE,
    _ZIP_ERRORS,
    MAX_SHEET_COLUMNS,
    MAX_TAG_BYTES,
    Markup,
    _open_chunks,
    _TagTooLong,
    _Unsure,
    attributes,
)
from core.importing.sheet_limits_ods import (
    _ODS_WANTED,
    _OdsReader,
    _OdsSizer,
    _Runs,
    _walk,
)

#: ``((first row, first column), (last row, last column))``, 0-based and inclusive, as
#: the reader gives merged ranges for XLSX: rows from the top of the sheet, columns
#: from column A (not from the sheet's first used column)
Merge = tuple[tuple[int, int], tuple[int, int]]

#: most merged ranges kept per sheet: a real header has a handful; more than this is
#: not a header worth joining, and the cap bounds the memory and the header search
MAX_MERGES = 4_096
#: most tags of a sheet's first rows looked at one by one (runs of rows without merged
#: cells are stepped over whole); past this the sheet keeps the ranges found so far. A
#: real header row has tens of cells, so this only bounds the work on a forged file
MAX_HEAD_TAGS = 65_536


def ods_merged_ranges(path: str | Path, names: Iterable[str], rows: int) -> dict[str, list[Merge]]:
    """Merged ranges of the first ``rows`` rows (0-based indices below ``rows``) of each
    sheet of the ODS file ``path`` named in ``names``.

    Sheets without merged cells there are left out; so is everything when the package
    cannot be read (the reader reports that). A range starting in those rows is
    returned whole, even when it runs further down. Ranges are in the reader's
    coordinates: rows from the top of the sheet, columns from column A.
    """
    wanted = set(names)
    if not wanted or rows <= 0:
        return {}
    try:
        zf = zipfile.ZipFile(path)
    except _ZIP_ERRORS:
        return {}
    with zf:
        try:
            info = zf.getinfo("content.xml")
        except KeyError:
            return {}
        scan = _Scan(wanted, rows)
        scan.feed(_open_chunks(zf, info))
    return {name: merges for name, merges in scan.out.items() if merges}


class _Scan(_OdsReader):
    """One pass over ``content.xml``: the reader's reading (:class:`_OdsReader`), which
    collects the merged ranges of the first rows of each wanted table and is done once
    every wanted table has been seen. :attr:`out` has a table once its first rows are
    read (an empty list: no merged cells there)."""

    def __init__(self, wanted: set[str], rows: int) -> None:
        super().__init__(_OdsSizer())
        self.wanted = wanted
        self.rows = rows
        self.out: dict[str, list[Merge]] = {}
        self.name = ""
        self.head = False  # reading a wanted table's first rows
        self.merges: list[Merge] = []
        self.row = 0  # index of the current (or next) row, repeats counted
        self.tags = 0  # tags of the current table looked at one by one

    def feed(self, chunks: Iterator[bytes]) -> None:  # type: ignore[override]
        """Read ``chunks`` (stopping as soon as nothing more is wanted, or where a tag
        is too long to follow or the markup could be read two ways)."""
        try:
            _walk(chunks, self, _Counted(self, Markup(None, _ODS_WANTED, MAX_TAG_BYTES)))
        except (_TagTooLong, _Unsure):
            return

    def fast(self, runs: _Runs, pos: int) -> int:
        if not self.head:
            return runs.take(pos)[0]
        after, taken = runs.take(pos, spanless=True)
        if taken:
            self.row += taken
            if self.row >= self.rows:
                self._head_done()
        return after

    # -- tables, rows and cells ---------------------------------------------------------

    def _table_start(self, name: str) -> None:
        self.head = name in self.wanted and name not in self.out
        self.name, self.merges, self.row, self.tags = name, [], 0, 0

    def _table_end(self) -> None:
        if self.head:
            self._head_done()

    def _row_end(self) -> None:
        self.row += self.repeat
        if self.head and self.row >= self.rows:
            self._head_done()

    def _head_done(self) -> None:
        self.out[self.name] = self.merges
        self.head = False
        if self.wanted.issubset(self.out):
            self.done = True

    def _cell_at(self, content: bytes, start: int, repeat: int) -> None:
        if not self.head or b"spanned" not in content or self.pos >= MAX_SHEET_COLUMNS:
            return  # past the widest sheet nothing counts
        cols = rows = 1
        for key, value in attributes(content, start):
            if key == b"table:number-columns-spanned":
                cols = _number(value)
            elif key == b"table:number-rows-spanned":
                rows = _number(value)
        if cols == 1 and rows == 1:
            return
        last_row = min(self.row + self.repeat, self.rows)
        last_col = min(self.pos + repeat, MAX_SHEET_COLUMNS)
        for r in range(self.row, last_row):
            for c in range(self.pos, last_col):
                if len(self.merges) >= MAX_MERGES:
                    self._head_done()
                    return
                self.merges.append(((r, c), (r + rows - 1, c + cols - 1)))
        if len(self.merges) >= MAX_MERGES:
            self._head_done()  # no more are kept: the rest is not read


class _Counted:
    """The tags of ``markup``, counted against :data:`MAX_HEAD_TAGS` while ``scan``
    reads a wanted table's first rows: past it, the table keeps what it has."""

    def __init__(self, scan: _Scan, markup: Markup):
        self.scan_, self.markup = scan, markup

    @property
    def carry(self) -> bytes:
        return self.markup.carry

    def scan(self, buf: bytes, pos: int, final: bool) -> Iterator[tuple[int, int, tuple]]:
        reader = self.scan_
        for item in self.markup.scan(buf, pos, final):
            if reader.head:
                reader.tags += 1
                if reader.tags > MAX_HEAD_TAGS:
                    reader._head_done()
            yield item


_DIGITS = re.compile(r"\+?[0-9]+")


def _number(raw: bytes) -> int:
    """A count attribute (a repeat or a span): 1 when unreadable or below 1, a huge
    value capped at a size past anything real."""
    text = html.unescape(raw.decode("utf-8", "replace")).strip()
    if not _DIGITS.fullmatch(text):
        return 1
    digits = text.lstrip("+").lstrip("0")
    if len(digits) > 12:
        return _HUGE
    return max(1, int(digits or "0"))
