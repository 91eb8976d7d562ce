"""Sheet size of ODS workbooks: every table of ``content.xml`` sized row by row (repeats
counted, the empty padding after the data not), or tag by tag when that is not enough
to be sure. See :mod:`core.importing.sheet_limits`."""

from __future__ import annotations

import html
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

from core.importing.sheet_limits_common import (
    _ATTRS,
    _HUGE,
    _ZIP_ERRORS,
    MAX_ODS_SHEET_CELLS,
    Extent,
    _attr,
    _open_chunks,
    _Tags,
    _with_end,
    refusal,
)

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
