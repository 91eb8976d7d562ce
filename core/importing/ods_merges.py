"""Merged cells at the top of ODS sheets, read from ``content.xml``.

The workbook reader reports merged cell ranges for XLSX only, so without this an ODS
sheet whose header is split over two rows under merged group cells ("Energy" over
"kWh" | "boundary") would lose its group row. A merged cell is written in ODS as a cell
with ``table:number-columns-spanned`` / ``table:number-rows-spanned`` followed by the
covered cells it hides; positions count every cell and covered cell with its
``table:number-columns-repeated`` and every row with its ``table:number-rows-repeated``,
as the reader counts them.

``content.xml`` is untrusted input: it is scanned as bytes, a chunk at a time, with the
tag-matching helpers of the sheet-size check (no XML parser, so no DTD and no entity
expansion). Only the first rows of each wanted table are looked at, tag by tag only
where a row holds a merged cell; the rest of a table is skipped by searching for its end
tag. Memory stays bounded by the chunk size, the longest tag accepted and
:data:`MAX_MERGES` ranges per sheet; the work by :data:`MAX_HEAD_TAGS` per sheet.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from core.importing.sheet_limits_common import (
    _ATTRS,
    _HUGE,
    _ZIP_ERRORS,
    MAX_SHEET_COLUMNS,
    MAX_TAG_BYTES,
    _attr,
    _open_chunks,
    _with_end,
)
from core.importing.sheet_limits_ods import _ODS_TAG, _ODS_TAG_START

#: ``((first row, first column), (last row, last column))``, 0-based and inclusive, as
#: the reader gives merged ranges for XLSX: rows from the top of the sheet, columns
#: from column A (not from the sheet's first used column)
Merge = tuple[tuple[int, int], tuple[int, int]]

#: most merged ranges kept per sheet: a real header has a handful; more than this is
#: not a header worth joining, and the cap bounds the memory and the header search
MAX_MERGES = 4_096
#: most tags of a sheet's first rows looked at one by one (rows without merged cells are
#: skipped whole); past this the sheet keeps the ranges found so far. A real header row
#: has tens of cells, so this only bounds the work on a forged file
MAX_HEAD_TAGS = 65_536
#: longest row without merged cells carried over chunks to be skipped in one step (a
#: longer one is followed tag by tag, within :data:`MAX_HEAD_TAGS`)
MAX_ROW_BYTES = 8 << 20

_TABLE_START = re.compile(rb"<table:table(?=[\s/>])(" + _ATTRS + rb")\s*(/?)>")
#: the end of a row or of the table, whichever comes first (skipping a long row)
_ROW_OR_TABLE_END = re.compile(rb"</table:table(-row)?\s*>")
_TABLE_END = re.compile(rb"</table:table\s*>")
#: an end tag is short; a tail longer than this after the last "<" is not one
_MAX_END_TAG = 256

_OUTSIDE, _HEAD, _SKIP_ROW, _SKIP_TABLE = range(4)


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


class _Scan:
    """The state of one pass over ``content.xml``: outside any table, reading the first
    rows of a wanted table, skipping the rest of a long row, or skipping a table."""

    def __init__(self, wanted: set[str], rows: int) -> None:
        self.wanted = wanted
        self.rows = rows
        self.out: dict[str, list[Merge]] = {}
        self.state = _OUTSIDE
        self.merges: list[Merge] = []
        self.row = 0  # index of the current (or next) row, repeats counted
        self.repeat = 1  # the current row's repeat count
        self.col = 0  # index of the next cell of the current row
        self.in_row = False
        self.name = ""
        self.tags = 0  # tags of the current table looked at one by one
        self.hold = False  # carry a whole row start into the next chunk
        self.done = False  # every wanted table seen, or a tag too long to follow

    # -- the stream ---------------------------------------------------------------------

    def feed(self, chunks: Iterator[bytes]) -> None:
        carry = b""
        for chunk in _with_end(chunks):
            final = chunk is None
            buf = carry + (chunk or b"")
            pos, more = 0, False
            while not (self.done or more):
                pos, more = self._step(buf, pos)
            if self.done or final:
                return
            carry = self._carry(buf, pos)

    def _carry(self, buf: bytes, pos: int) -> bytes:
        """What of ``buf`` after ``pos`` may begin a tag (or a plain row) cut by the
        chunk's end."""
        if self.hold:
            self.hold = False
            return buf[pos:]
        lt = buf.rfind(b"<", pos)
        if lt < 0:
            return b""
        tail = buf[lt:]
        if self.state in (_SKIP_ROW, _SKIP_TABLE):
            return tail if len(tail) <= _MAX_END_TAG else b""
        if len(tail) > MAX_TAG_BYTES:
            if _ODS_TAG_START.match(tail) or tail.startswith(b"<table:table"):
                self.done = True  # a tag of interest longer than any real one: stop here
            return b""
        return tail

    def _step(self, buf: bytes, pos: int) -> tuple[int, bool]:
        """Handle what comes next in ``buf`` from ``pos``: ``(position after it, whether
        the rest of buf needs the next chunk)``."""
        if self.state == _OUTSIDE:
            m = _TABLE_START.search(buf, pos)
            if m is None:
                return pos, True
            if not m.group(2):
                self._start_table(m.group(1))
            return m.end(), False
        if self.state == _SKIP_TABLE:
            m = _TABLE_END.search(buf, pos)
            if m is None:
                return pos, True
            self.state = _OUTSIDE
            return m.end(), False
        if self.state == _SKIP_ROW:
            m = _ROW_OR_TABLE_END.search(buf, pos)
            if m is None:
                return pos, True
            if m.group(1):
                self._end_row()
            else:
                self._end_table(_OUTSIDE)
            return m.end(), False
        for m in _ODS_TAG.finditer(buf, pos):
            pos = m.end()
            self.tags += 1
            if self.tags > MAX_HEAD_TAGS:
                self._end_table(_SKIP_TABLE)
                return pos, False
            opened = not self.in_row
            if self._tag(m):
                return pos, False  # the state changed: go on in the new one
            if opened and self.in_row:
                end = self._plain_row(buf, pos)
                if end > 0:
                    return end, False
                if end < 0 and len(buf) - m.start() <= MAX_ROW_BYTES:
                    # a plain row cut by the chunk's end: read again whole with the next
                    self.in_row, self.tags, self.hold = False, self.tags - 1, True
                    return m.start(), True
        return pos, True

    def _plain_row(self, buf: bytes, pos: int) -> int:
        """Skip the row that starts at ``pos`` in one step if it is whole in ``buf`` and
        merges nothing (the common case): the position after its end tag; -1 when no
        merged cell is in sight but the row goes on past ``buf``; else 0."""
        end = buf.find(b"</table:table-row", pos)
        if end < 0:
            return -1 if buf.find(b"spanned", pos) < 0 else 0
        if buf.find(b"spanned", pos, end) >= 0:
            return 0
        if _TABLE_END.search(buf, pos, end):
            return 0  # the table ends inside the row: followed tag by tag
        m = _ROW_OR_TABLE_END.match(buf, end)
        if m is None:
            return 0
        self._end_row()
        return m.end()

    # -- tables, rows and cells ---------------------------------------------------------

    def _start_table(self, attrs: bytes) -> None:
        name = _attr(attrs, rb"table:name")
        if name is None or name not in self.wanted or name in self.out:
            self.state = _SKIP_TABLE
            return
        self.state = _HEAD
        self.name = name
        self.merges = []
        self.tags = 0
        self.row, self.repeat, self.col, self.in_row = 0, 1, 0, False

    def _end_table(self, state: int) -> None:
        self.out[self.name] = self.merges
        self.state = state
        if self.wanted.issubset(self.out):
            self.done = True

    def _end_row(self) -> None:
        self.row += self.repeat
        self.in_row = False
        if self.row >= self.rows:
            self._end_table(_SKIP_TABLE)
        else:
            self.state = _HEAD

    def _tag(self, m: re.Match[bytes]) -> bool:
        """Take one tag of a wanted table's first rows; True when the state changed."""
        closing, tag, attrs, empty = m.group(1), m.group(2), m.group(3), m.group(4)
        if tag == b"table":
            if closing:
                self._end_table(_OUTSIDE)
                return True
            return False  # a table inside the table: the reader reads on as one
        if tag == b"table-row":
            if not closing and not self.in_row:
                self.repeat = _number(attrs, b"table:number-rows-repeated")
                self.col, self.in_row = 0, True
            if (closing or empty) and self.in_row:
                self._end_row()
                return self.state != _HEAD
            return False
        if closing or not self.in_row:
            return False
        repeat = _number(attrs, b"table:number-columns-repeated") if b"repeated" in attrs else 1
        if b"spanned" in attrs:
            self._merge(attrs, repeat)
            if len(self.merges) >= MAX_MERGES:
                self._end_table(_SKIP_TABLE)  # no more are kept: the rest is not read
                return True
        self.col += repeat
        if self.col >= MAX_SHEET_COLUMNS:
            self.state = _SKIP_ROW  # past the widest sheet: the rest of the row is not read
            return True
        return False

    def _merge(self, attrs: bytes, repeat: int) -> None:
        """The ranges of a spanned cell, once per repeat of the cell and of its row."""
        cols = _number(attrs, b"table:number-columns-spanned")
        rows = _number(attrs, b"table:number-rows-spanned")
        if cols == 1 and rows == 1:
            return
        last_row = min(self.row + self.repeat, self.rows)
        last_col = min(self.col + repeat, MAX_SHEET_COLUMNS)
        for r in range(self.row, last_row):
            for c in range(self.col, last_col):
                if len(self.merges) >= MAX_MERGES:
                    return
                self.merges.append(((r, c), (r + rows - 1, c + cols - 1)))


_DIGITS = re.compile(r"\+?[0-9]+")


def _number(attrs: bytes, name: bytes) -> int:
    """A count attribute (a repeat or a span): 1 when absent, unreadable or below 1, a
    huge value capped at a size past anything real."""
    raw = _attr(attrs, name)
    if raw is None:
        return 1
    text = raw.strip()
    if not _DIGITS.fullmatch(text):
        return 1
    digits = text.lstrip("+").lstrip("0")
    if len(digits) > 12:
        return _HUGE
    return max(1, int(digits or "0"))
