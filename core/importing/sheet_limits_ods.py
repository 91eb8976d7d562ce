"""Sheet size of ODS workbooks: every table of ``content.xml`` sized row by row (repeats
counted, the empty padding after the data not), or tag by tag when that is not enough
to be sure. See :mod:`core.importing.sheet_limits`."""

from __future__ import annotations

import html
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

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

    def rows(self, widths: np.ndarray) -> None:
        """Rows in order, each once (no repeats), ``widths`` their cells up to the last
        that may hold a value (0: an empty row): the same as :meth:`row` for each."""
        if not self.in_table or not len(widths):
            return
        valued = np.flatnonzero(widths)
        if not len(valued):
            if self.height:
                self.pending += len(widths)
            return
        first, last = int(valued[0]), int(valued[-1])
        if self.height:
            self.height += self.pending + last + 1
        else:
            self.height += last - first + 1
        self.pending = len(widths) - 1 - last
        self.width = max(self.width, int(widths.max()))


def _ods_rows(chunks: Iterator[bytes]) -> list[tuple[str, Extent]] | None:
    """``(sheet name, grid)`` per table, a row at a time: the cells of a row are counted
    as bytes, and only a row with repeated cells other than the empty padding at its end
    is looked at cell by cell. The grid is an upper bound of the reader's (a cell
    counts when the row holds a value anywhere); None when a row holds a table of its
    own or is too long, for :func:`_ods_tables` to size exactly.

    Runs of plain rows (as office programs write them) are sized a chunk at a time by
    :func:`_plain_rows`; whatever it is not sure of goes through :func:`_scan_rows`."""
    sizer = _OdsSizer()
    carry = b""
    for chunk in _with_end(_grouped(chunks)):
        final = chunk is None
        buf = carry + (chunk or b"")
        if not final and sizer.in_table:
            cut = _plain_rows(buf, sizer)
            if cut:
                carry = buf[cut:]
                continue
        rest = _scan_rows(buf, final, sizer)
        if rest is None:
            return None
        carry = rest
    sizer.end()
    return sizer.out


def _word(text: bytes) -> int:
    """``text`` (at most 8 bytes) as the little-endian word it starts, for matching 8
    bytes at a time."""
    return int.from_bytes(text, "little")


#: the bytes that may end an element's name (what ``(?=[\s/>])`` accepts)
_NAME_END = np.zeros(256, dtype=bool)
_NAME_END[list(b" \t\n\r\f\v/>")] = True
_DIGIT = np.zeros(256, dtype=bool)
_DIGIT[list(b"0123456789")] = True
_OPEN, _CLOSE, _CELL = 1, 2, 3
#: the last cell of a row when it is empty padding not in the plainest form
_PAD_CELL = re.compile(
    rb'<table:table-cell(?: (?:table:style-name|table:number-columns-repeated)="[^"<>]*")*/>'
)
#: what ``\s`` matches (whitespace may stand before an attribute's "=")
_SPACES = frozenset(b" \t\n\r\f\v")
#: longest row style name (``ro12``) a plain row start may carry
_MAX_STYLE = 16


def _plain_rows(buf: bytes, sizer: _OdsSizer) -> int:
    """Size the run of whole rows at the start of ``buf`` at once, if they are all
    plain, and return where the run ends (0: they are not; nothing was counted).

    Plain rows are what office programs write: a start tag with at most a style name,
    cells without repeats, and an end tag, the last cell maybe the empty padding
    LibreOffice repeats to the sheet's width. Every ``<`` is found and the elements are
    told apart by the bytes after it, all with array operations, so that the cost is
    a few passes over the chunk instead of Python work per cell. A row counts all its
    cells but the padding (an upper bound, as in :func:`_ods_row_width`). Anything
    else in the run (a table starting or ending, a repeat outside the padding, a row
    start with other attributes, whitespace before ``=``, a cell between rows) hands
    the chunk to :func:`_scan_rows`."""
    n = len(buf)
    if n < 64:
        return 0
    a = np.frombuffer(buf, dtype=np.uint8)
    aligned = np.frombuffer(buf, dtype="<u8", count=n // 8)

    def words(at: np.ndarray) -> np.ndarray:
        """``buf[i : i + 8]`` as a little-endian word for each ``i`` of ``at`` (from the
        two aligned words it spans: a gather from an unaligned view is far slower)."""
        index, shift = at >> 3, (at & 7).astype(np.uint64) << np.uint64(3)
        high = aligned[index + 1] << (np.uint64(64) - shift)
        return (aligned[index] >> shift) | np.where(shift == 0, np.uint64(0), high)

    lt = np.flatnonzero(a == 60)
    lt = lt[: np.searchsorted(lt, n - 64)]  # the tags near the end go with the next chunk
    if len(lt) < 2:
        return 0
    kind = np.zeros(len(lt), dtype=np.int8)
    # "<tab..." and "</tab...": the elements of the table namespace (and a few others)
    first = a[lt + 1]
    is_open = np.flatnonzero((first == 116) & (a[lt + 3] == 98))
    at = lt[is_open]
    name = a[at + 12]
    if np.any(_NAME_END[name]) and np.any(
        (words(at + 1) == _word(b"table:ta")) & (words(at + 9) & 0xFFFFFF == _word(b"ble"))
        & _NAME_END[name]
    ):  # fmt: skip
        return 0  # a table starts
    dash = name == 45
    # cells: any "<table:table-c" counts (a column among rows only adds a column)
    kind[is_open[dash & (a[at + 13] == 99)]] = _CELL
    rows = np.flatnonzero(dash & (a[at + 13] == 114))
    at = lt[is_open[rows]]
    row = (
        (words(at + 1) == _word(b"table:ta"))
        & (words(at + 9) & 0xFFFFFFFFFFFFFF == _word(b"ble-row"))
        & _NAME_END[a[at + 16]]
    )
    kind[is_open[rows[row]]] = _OPEN
    at = lt[is_open]
    covered = np.flatnonzero((a[at + 7] == 99) & (a[at + 8] == 111))
    if len(covered):
        at = at[covered]
        kind[
            is_open[
                covered[
                    (words(at + 1) == _word(b"table:co"))
                    & (words(at + 9) == _word(b"vered-ta"))
                    & (words(at + 17) == _word(b"ble-cell"))
                    & _NAME_END[a[at + 25]]
                ]
            ]
        ] = _CELL
    is_close = np.flatnonzero(first == 47)
    is_close = is_close[a[lt[is_close] + 4] == 98]
    at = lt[is_close]
    name = a[at + 13]
    if np.any(_NAME_END[name]) and np.any(
        (words(at + 1) == _word(b"/table:t")) & (words(at + 9) & 0xFFFFFFFF == _word(b"able"))
        & _NAME_END[name]
    ):  # fmt: skip
        return 0  # a table ends
    rows = np.flatnonzero((name == 45) & (a[at + 14] == 114))
    at = lt[is_close[rows]]
    row = (
        (words(at + 1) == _word(b"/table:t"))
        & (words(at + 9) == _word(b"able-row"))
        & _NAME_END[a[at + 17]]
    )
    if np.any(row & (a[at + 17] != 62)):
        return 0  # not </table:table-row>
    kind[is_close[rows[row]]] = _CLOSE

    events = np.flatnonzero(kind)  # indices into lt, in document order
    kinds = kind[events]
    closes = np.flatnonzero(kinds == _CLOSE)
    if not len(closes):
        return 0
    events, kinds = events[: closes[-1] + 1], kinds[: closes[-1] + 1]
    is_row = kinds != _CELL
    row_kinds = kinds[is_row]
    if (
        len(row_kinds) % 2
        or np.any(row_kinds[0::2] != _OPEN)
        or np.any(row_kinds[1::2] != _CLOSE)
        or np.any(np.cumsum(is_row)[~is_row] % 2 == 0)
    ):
        return 0  # rows not one after the other, or a cell outside a row
    cut = int(lt[events[-1]]) + 18

    # row starts: <table:table-row> or <table:table-row table:style-name="...">
    opens = events[kinds == _OPEN]
    at, nxt = lt[opens], lt[opens + 1]
    bare = (nxt - at == 17) & (a[at + 16] == 62)
    style = nxt - at - 37
    styled = (
        (words(at + 16) == _word(b" table:s"))
        & (words(at + 24) == _word(b"tyle-nam"))
        & (words(at + 32) & 0xFFFFFF == _word(b'e="'))
        & (a[nxt - 1] == 62)
        & (a[nxt - 2] == 34)
        & (style >= 0)
        & (style <= _MAX_STYLE)
    )
    if not np.all(bare | styled):
        return 0
    if np.any(styled):
        window = np.stack([words(at + 35), words(at + 43)], axis=1).view(np.uint8)
        inside = np.arange(_MAX_STYLE) < style[:, None]
        if np.any(inside & ((window == 34) | (window == 60) | (window == 62))):
            return 0

    # the empty padding that ends a row: <table:table-cell table:number-columns-repeated="N"/>
    ends = events[kinds == _CLOSE]
    last = ends - 1
    at, end = lt[last], lt[ends]
    digits = end - 3 - (at + 49)
    padded = (
        (kind[last] == _CELL)
        & (words(at + 9) == _word(b"ble-cell"))
        & (words(at + 17) == _word(b" table:n"))
        & (words(at + 25) == _word(b"umber-co"))
        & (words(at + 33) == _word(b"lumns-re"))
        & (words(at + 41) == _word(b'peated="'))
        & (digits >= 1)
        & (digits <= 12)
        & (a[end - 3] == 34)
        & (a[end - 2] == 47)
        & (a[end - 1] == 62)
    )
    if np.any(padded):
        window = np.stack([words(at + 49), words(at + 57)], axis=1).view(np.uint8)
        inside = np.arange(16) < digits[:, None]
        padded &= ~np.any(inside & ~_DIGIT[window], axis=1)
    for k in np.flatnonzero((kind[last] == _CELL) & ~padded):
        if _PAD_CELL.fullmatch(buf, int(at[k]), int(end[k])):
            padded[k] = True

    # every repeat must be a padding's: "repeated=" elsewhere, or "=" after whitespace
    eq = np.flatnonzero(a[:cut] == 61)
    eq = eq[eq >= 8]
    before = a[eq - 1]
    for at_eq in eq[before <= 32].tolist():  # "x = y" in a text, or a spaced attribute
        while at_eq and buf[at_eq - 1] in _SPACES:
            at_eq -= 1
        if buf.endswith(b"repeated", 0, at_eq):
            return 0
    repeats = eq[before == 100]
    repeats = repeats[words(repeats - 8) == _word(b"repeated")]
    if len(repeats):
        tag = np.searchsorted(lt, repeats) - 1
        is_pad = np.zeros(len(lt), dtype=bool)
        is_pad[last[padded]] = True
        if np.any(tag < 0) or not np.all(is_pad[tag]):
            return 0

    cells = np.cumsum(kinds == _CELL)
    row_cells = cells[is_row][1::2] - cells[is_row][0::2]
    sizer.rows(row_cells - padded)
    return cut


#: bytes of content.xml sized at a time by :func:`_plain_rows` (each array operation
#: then does enough work to be worth its call)
_GROUP_BYTES = 512 << 10


def _grouped(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The chunks cut into pieces of :data:`_GROUP_BYTES`."""
    for chunk in chunks:
        for start in range(0, len(chunk), _GROUP_BYTES):
            yield chunk[start : start + _GROUP_BYTES]


def _scan_rows(buf: bytes, final: bool, sizer: _OdsSizer) -> bytes | None:
    """Feed ``sizer`` the rows of ``buf`` one by one; return what to carry into the next
    chunk (a row cut by the chunk's end), or None when a row needs the exact scan."""
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
    return None if len(carry) > _MAX_ODS_ROW_BYTES else carry


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
