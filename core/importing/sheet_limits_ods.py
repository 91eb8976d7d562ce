"""Sheet size of ODS workbooks: every table of ``content.xml`` sized as the reader
(calamine) builds it, from the tags as its XML parser (quick-xml) reads them
(:class:`~core.importing.sheet_limits_common.Markup`). See
:mod:`core.importing.sheet_limits`.

:class:`_OdsReader` is the reader's reading, step for step: a table is a
``<table:table>`` with a name; its rows are the ``<table:table-row>`` it meets (in
groups or not); a row's cells are the cells it holds, and what a cell holds is stepped
over as the reader steps over it (to the matching end tag, or, for a text cell, to the
first cell end outside an annotation), so that rows or tables written inside a cell
count for nothing, here as in the reader. :func:`_ods_tables` sizes a file that way,
exactly (a few microseconds a cell).

:func:`_ods_rows` reads the same way but sizes runs of plain rows, as office programs
write them, a buffer at a time with numpy (:func:`_plain_runs`): a row is plain when its
bytes are plain markup (every tag ends at its first ``>``, nothing hidden in comments,
quotes or the like), it holds cells only, and a cell holds no row or cell tag but its own
end (so the reader steps over exactly its content). Such a row counts up to its last
cell that may hold a value (with the repeats of the cells up to there; the empty cells
after it, like LibreOffice's padding, do not count, for the reader as here): an upper
bound of the exact size (a cell may look valued and not be), checked exactly when over a
limit.
"""

from __future__ import annotations

import html
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from core.importing.sheet_limits_common import (
    _HUGE,
    _ZIP_ERRORS,
    MAX_ODS_SHEET_CELLS,
    Extent,
    Markup,
    _open_chunks,
    _Unsure,
    attribute,
    attributes,
    refusal,
    unsure,
)

_TABLE = b"table:table"
_ROW = b"table:table-row"
_CELL = b"table:table-cell"
_COVERED = b"table:covered-table-cell"
_ANNOTATION = b"office:annotation"
#: the tags the reader looks at: the table namespace, and annotations in text cells
_ODS_WANTED = rb"table:|office:annotation[ \t\r\n/>]"
#: attributes that give a cell a value for the reader
_VALUE_KEYS = frozenset(
    (b"office:value", b"office:string-value", b"office:date-value", b"office:time-value",
     b"office:boolean-value")
)  # fmt: skip


def _check_ods(path: Path) -> None:
    """Size every table of ``content.xml`` (the reader builds them all when it opens
    the file): with plain rows sized in bulk, and exactly when that is over a limit."""
    try:
        zf = zipfile.ZipFile(path)
    except _ZIP_ERRORS:
        return  # the reader says what is wrong
    with zf:
        try:
            info = zf.getinfo("content.xml")
        except KeyError:
            return
        try:
            tables = _ods_rows(_open_chunks(zf, info))
            if all(e.fits(MAX_ODS_SHEET_CELLS) for _, e in tables):
                return
            for name, extent in _ods_tables(_open_chunks(zf, info)):
                if not extent.fits(MAX_ODS_SHEET_CELLS):
                    raise refusal(path, f"sheet {name}", extent, MAX_ODS_SHEET_CELLS)
        except _Unsure as exc:
            raise unsure(path.name, str(exc)) from None


def _count(raw: bytes) -> int:
    """A repeat count as the reader parses it (an unsigned integer, "+" allowed; 1 when
    it cannot: the reader then fails); character references are resolved (the reader
    resolves them for rows), past 12 digits it is huge."""
    text = html.unescape(raw.decode("utf-8", "replace"))
    if text.startswith("+"):
        text = text[1:]
    if text.isascii() and text.isdigit():
        return int(text) if len(text) <= 12 else _HUGE
    return 1


class _OdsSizer:
    """Running size of the current table, fed a row at a time."""

    def __init__(self) -> None:
        self.out: list[tuple[str, Extent]] = []
        self.name, self.in_table = "", False
        self.height = self.pending = self.width = 0

    def start(self, name: str) -> None:
        self.end()
        self.name, self.in_table = name, True
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


# -- the reader's reading ----------------------------------------------------------------

_OUTSIDE, _IN_TABLE, _IN_ROW, _IN_CELL, _IN_TEXT, _IN_NOTE = range(6)


class _OdsReader:
    """calamine's reading of ``content.xml``, fed the tags of interest in order
    (``(end, name, content, empty)``, an empty element being its start and its end).

    Outside a table, only a named ``<table:table>`` starts one. In a table, only a row
    start and the table's end count (cells outside rows, groups, columns: nothing). In
    a row, a cell's repeats and whether it has a value; anything else makes the reader
    fail (nothing after it counts for it, so it is passed over here). In a cell, the
    reader steps over its content to the matching end tag (nested cells of the same
    name counted), or, for a text cell, to the first cell end outside an
    annotation."""

    def __init__(self, sizer: _OdsSizer):
        self.sizer = sizer
        self.state = _OUTSIDE
        self.repeat = 1  # the current row's repeats
        self.pos = 0  # cells of the current row so far, repeats counted
        self.last = 0  # ... up to the last with a value
        self.skip = b""  # the name of the cell whose content is stepped over
        self.depth = 0  # cells of that name open inside it
        self.done = False  # nothing more to read

    def read(self, event: tuple[bool, bytes, bytes, bool]) -> None:
        """Take the next tag."""
        end, name, content, empty = event
        if end:
            self._end(name)
            return
        self._start(name, content)
        if empty:
            self._end(name)

    def _start(self, name: bytes, content: bytes) -> None:
        state = self.state
        if state == _IN_ROW:
            if name in (_CELL, _COVERED):
                self._cell(name, content)
        elif state == _IN_TABLE:
            if name == _ROW:
                raw = attribute(content, len(name), b"table:number-rows-repeated")
                self.repeat = 1 if raw is None else _count(raw)
                self.pos = self.last = 0
                self.state = _IN_ROW
                self._row_start()
        elif state == _IN_CELL:
            if name == self.skip:
                self.depth += 1
        elif state == _IN_TEXT:
            if name == _ANNOTATION:
                self.state = _IN_NOTE
        elif state == _OUTSIDE and name == _TABLE:
            table = _table_name(content)
            if table is not None:
                self.state = _IN_TABLE
                self._table_start(table)

    def _end(self, name: bytes) -> None:
        state = self.state
        if state == _IN_CELL:
            if name == self.skip:
                if self.depth:
                    self.depth -= 1
                else:
                    self.state = _IN_ROW
        elif state == _IN_ROW:
            if name == _ROW:
                self.state = _IN_TABLE
                self._row_end()
        elif state == _IN_TABLE:
            if name == _TABLE:
                self.state = _OUTSIDE
                self._table_end()
        elif state == _IN_TEXT:
            if name in (_CELL, _COVERED):
                self.state = _IN_ROW
        elif state == _IN_NOTE and name == _ANNOTATION:
            self.state = _IN_TEXT

    def _cell(self, name: bytes, content: bytes) -> None:
        repeat, valued, text = _cell_value(content, len(name))
        self._cell_at(content, len(name), repeat)
        self.pos += repeat
        if valued:
            self.last = self.pos
        if text:
            self.state = _IN_TEXT
        else:
            self.state, self.skip, self.depth = _IN_CELL, name, 0

    # what is done with what is read: here, sizing (other readings override these)

    def fast(self, runs: _Runs, pos: int) -> int:
        """Step over the run of plain rows at ``pos`` if there is one (sizing it): the
        position after it, or ``pos``."""
        return runs.take(pos, self.sizer)[0]

    def _table_start(self, name: str) -> None:
        self.sizer.start(name)

    def _table_end(self) -> None:
        self.sizer.end()

    def _row_start(self) -> None:
        pass

    def _row_end(self) -> None:
        self.sizer.row(self.repeat, self.last)

    def _cell_at(self, content: bytes, start: int, repeat: int) -> None:
        """A cell at :attr:`pos` of the row (before its repeats are added)."""


def _table_name(content: bytes) -> str | None:
    """A table's name; "?" when its attributes are not all readable (the reader may
    still find the name past the unreadable ones); None when it has none."""
    pos = len(_TABLE)
    for key, value in attributes(content, pos):
        if key == b"table:name":
            return html.unescape(value.decode("utf-8", "replace"))
    if content[pos:].strip(b" \t\r\n") and not _all_read(content, pos):
        return "?"
    return None


def _all_read(content: bytes, start: int) -> bool:
    end = start
    for m in _ATTRIBUTES_RE.finditer(content, start):
        if m.start() != end:
            break
        end = m.end()
    return not content[end:].strip(b" \t\r\n")


_ATTRIBUTES_RE = re.compile(rb"[ \t\r\n]*[^ \t\r\n=]+[ \t\r\n]*=[ \t\r\n]*(?:\"[^\"]*\"|'[^']*')")


def _cell_value(content: bytes, start: int) -> tuple[int, bool, bool]:
    """``(repeats, has a value, is a text cell read from its content)`` of a cell, as
    the reader takes them from its attributes (the first repeat count; a value, a
    formula or a text type make a value)."""
    if b"=" not in content:
        return 1, False, False
    repeat, counted = 1, False
    value_set = is_string = formula = False
    for key, value in attributes(content, start):
        if key == b"table:number-columns-repeated":
            if not counted:
                repeat, counted = _count(value), True
        elif key in _VALUE_KEYS:
            value_set = True
        elif key == b"office:value-type":
            if not value_set:
                is_string = value == b"string"
        elif key == b"table:formula":
            formula = True
    return repeat, value_set or formula or is_string, is_string and not value_set


def _ods_tables(chunks: Iterator[bytes]) -> list[tuple[str, Extent]]:
    """``(sheet name, grid)`` per table of ``content.xml``, exactly as the reader sizes
    it: rows from the first to the last with a valued cell (repeats counted, empty rows
    between them too), columns up to the last valued cell of the widest row (empty
    cells before it counted with their repeats, empty ones after it not)."""
    sizer = _OdsSizer()
    reader = _OdsReader(sizer)
    for event in Markup(chunks, _ODS_WANTED):
        reader.read(event)
    sizer.end()
    return sizer.out


# -- runs of plain rows, sized in bulk ----------------------------------------------------

#: bytes of content.xml sized at a time by :func:`_plain_runs` (each array operation
#: then does enough work to be worth its call)
_GROUP_BYTES = 4 << 20
#: a row cut by the end of a buffer is carried into the next, to be sized whole, when
#: no longer than this (a longer one is read tag by tag)
_HOLD = 8 << 20


def _ods_rows(chunks: Iterator[bytes]) -> list[tuple[str, Extent]]:
    """``(sheet name, grid)`` per table, an upper bound of :func:`_ods_tables`: read the
    same way, but each run of plain rows found where the reader is about to read a row
    is sized at once from :func:`_plain_runs` and stepped over."""
    sizer = _OdsSizer()
    _walk(chunks, _OdsReader(sizer), Markup(None, _ODS_WANTED), _GROUP_BYTES)
    sizer.end()
    return sizer.out


def _walk(chunks: Iterator[bytes], reader: _OdsReader, markup: Markup, group: int = 0) -> None:
    """Feed ``reader`` the tags of ``chunks``, letting it step over runs of plain rows
    (:meth:`_OdsReader.fast`) where it is about to read a row; until it is done. The
    chunks are joined into buffers of ``group`` bytes (0: each chunk is read as it
    comes, and no further chunk is pulled once the reader is done)."""
    kept = [b""]  # what the last buffer leaves for the next
    for buf, final in _buffers(chunks, kept, group):
        runs: _Runs | bool | None = False  # worked out when first needed
        pos: int | None = 0
        hold = -1
        while pos is not None:
            resume, pos = pos, None
            for start, _, event in markup.scan(buf, resume, final):
                if reader.state == _IN_TABLE and not event[0] and event[1] == _ROW and not final:
                    if buf.find(b"</table:table-row", start) < 0 and len(buf) - start <= _HOLD:
                        hold = start  # a row cut by the end of the buffer: read it whole next
                        break
                    if runs is False:
                        runs = _plain_runs(buf)
                    if runs is not None:
                        after = reader.fast(runs, start)  # type: ignore[arg-type]
                        if after > start:
                            pos = after
                            break
                reader.read(event)
                if reader.done:
                    return
        if reader.done:
            return
        kept[0] = buf[hold:] if hold >= 0 else markup.carry


def _buffers(
    chunks: Iterator[bytes], kept: list[bytes], group: int
) -> Iterator[tuple[bytes, bool]]:
    """``(buffer, final)``: what ``kept[0]`` holds from the last buffer joined to about
    ``group`` bytes of the next chunks (so that array operations do enough work to be
    worth their call), then ``(kept[0], True)`` at the end."""
    held: list[bytes] = []
    size = 0
    for chunk in chunks:
        held.append(chunk)
        size += len(chunk)
        if size >= group:
            yield b"".join([kept[0], *held]), False
            held, size = [], 0
    yield b"".join([kept[0], *held]), False
    yield kept[0], True


class _Runs:
    """The plain rows of a buffer: for each, where its start tag starts and its end tag
    ends, the end of the run of plain rows it starts (rows written one after the other),
    and its width (its cells with their repeats, up to its last that may hold a
    value)."""

    def __init__(self, buf: bytes, opens: np.ndarray, ends: np.ndarray, run_end: np.ndarray,
                 widths: np.ndarray):  # fmt: skip
        self.buf, self.opens, self.ends, self.run_end, self.widths = (
            buf, opens, ends, run_end, widths)  # fmt: skip
        self.next_span: np.ndarray | None = None

    def take(self, pos: int, sizer: _OdsSizer | None = None, spanless: bool = False
             ) -> tuple[int, int]:  # fmt: skip
        """Size the run of plain rows starting at ``pos`` (``spanless``: only as far as
        the first row with a merged cell); ``(the position after it, its rows)``, or
        ``(pos, 0)`` when no plain row starts there."""
        r = int(np.searchsorted(self.opens, pos))
        if r >= len(self.opens) or self.opens[r] != pos:
            return pos, 0
        e = int(self.run_end[r])
        if spanless:
            e = min(e, int(self._spans()[r]))
            if e <= r:
                return pos, 0
        if sizer is not None:
            sizer.rows(self.widths[r:e])
        return int(self.ends[e - 1]), e - r

    def _spans(self) -> np.ndarray:
        """For each row, the first row from it that holds a merged cell (``spanned``
        anywhere between its tags)."""
        if self.next_span is None:
            found = []
            at = self.buf.find(b"spanned", int(self.opens[0]))
            while 0 <= at < self.ends[-1]:
                found.append(at)
                at = self.buf.find(b"spanned", at + 7)
            rows = np.zeros(len(self.opens), dtype=bool)
            if found:
                row = np.searchsorted(self.opens, np.array(found), side="right") - 1
                rows[row[(row >= 0) & (np.array(found) < self.ends[np.maximum(row, 0)])]] = True
            flagged = np.append(np.flatnonzero(rows), len(rows))
            self.next_span = flagged[np.searchsorted(flagged, np.arange(len(rows)))]
        return self.next_span


def _word(text: bytes) -> int:
    """``text`` (at most 8 bytes) as the little-endian word it starts, for matching 8
    bytes at a time."""
    return int.from_bytes(text, "little")


#: the bytes that end an element's name for the reader (white space), or its tag
_NAME_END = np.zeros(256, dtype=bool)
_NAME_END[list(b" \t\n\r/>")] = True
_DIGIT = np.zeros(256, dtype=bool)
_DIGIT[list(b"0123456789")] = True
#: a tag (start or end: no "<", ">" in quotes) and the text after it, checked byte by
#: byte where the quick test is not enough
_SEGMENT = re.compile(
    rb"<(?:/[^<>]*|[^!?/<>\"'][^<>\"']*(?:(?:\"[^\"<>]*\"|'[^'<>]*')[^<>\"']*)*)>[^<]*"
)
#: an empty cell (no value for the reader) not in the plainest form
_PAD_CELL = re.compile(
    rb'<table:table-cell(?: (?:table:style-name|table:number-columns-repeated)="[^"<>]*")*/>'
)
#: a repeat count as plain rows write it, before the "=" (its first byte is white space)
_COLUMNS_REPEATED = np.frombuffer(b"table:number-columns-repeated", dtype=np.uint8)
#: longest row style name (``ro12``) a plain row start may carry
_MAX_STYLE = 16
#: share of a buffer's tags checked one by one (beyond the quick test: text holding
#: quotes or ">") past which its rows are left to the exact reading
_MAX_SLOW_SHARE = 4
_OPEN, _CLOSE, _SELF, _CELL_OPEN, _COVERED_OPEN, _CELL_END, _COVERED_END = range(1, 8)


def _plain_runs(buf: bytes) -> _Runs | None:
    """The plain rows of ``buf`` (see the module's docstring), worked out with array
    operations: every ``<``, ``>`` and quote is found once, each tag is told apart by
    the bytes after its ``<``, and what makes a row plain is checked for all rows at
    once. A row is left to the exact reading when anything in it is not plain: a tag
    that does not end at its first ``>`` (or at all before the next ``<``), markup
    starting ``<!`` or ``<?``, a row start other than ``<table:table-row>`` (with a
    style name at most), a row or cell tag inside a cell, a cell end that is not its
    own, a repeat count written other than as a cell's
    ``table:number-columns-repeated="N"``. A cell counts as holding a value unless it
    is written empty: ``<table:table-cell/>``, with a repeat count or a style name at
    most. Tags in the last 96 bytes are left to the next buffer."""
    n = len(buf)
    if n < 256:
        return None
    a = np.frombuffer(buf, dtype=np.uint8)
    aligned = np.frombuffer(buf, dtype="<u8", count=n // 8)

    def words(at: np.ndarray) -> np.ndarray:
        """``buf[i : i + 8]`` as a little-endian word for each ``i`` of ``at`` (from the
        two aligned words it spans: a gather from an unaligned view is far slower)."""
        index, shift = at >> 3, (at & 7).astype(np.uint64) << np.uint64(3)
        high = aligned[index + 1] << (np.uint64(64) - shift)
        return (aligned[index] >> shift) | np.where(shift == 0, np.uint64(0), high)

    # the markup characters in order: "<", ">" and quotes
    mask = (a & 0xFD) == 60
    mask |= a == 34
    if buf.find(b"'") >= 0:
        mask |= a == 39
    marks = np.flatnonzero(mask)
    kinds = a[marks]
    li = np.flatnonzero(kinds == 60)  # the "<" among them
    lt = marks[li]
    k_max = int(np.searchsorted(lt, n - 96))
    if k_max < 4:
        return None

    # -- every tag ends at the first ">" after its "<", before the next "<" -----------
    nxt = li[1 : k_max + 1] if k_max < len(li) else np.append(li[1:], len(kinds))
    lt = lt[:k_max]
    last = kinds[nxt - 1]  # the last mark before the next "<": the tag's ">"
    between = nxt - li[:k_max] - 1
    w0 = words(lt)  # the first 8 bytes of each tag
    first = (w0 >> np.uint64(8)).astype(np.uint8)
    plain = (last == 62) & ((between & 1) == 1)  # an even number of quotes before it
    others = int(np.count_nonzero(kinds[li[0] : nxt[-1]] != 34)) - k_max
    if others != int(np.count_nonzero(last == 62)):
        # not one ">" or "'" per tag, its last mark: check each tag's other marks
        cum = np.cumsum(kinds != 34, dtype=np.int32)
        plain &= cum[nxt - 2] - cum[li[:k_max]] == 0
    bang = (first == 33) | (first == 63)
    plain &= ~bang
    tag_end = marks[nxt - 1]  # the ">" of each tag, where plain
    slow = np.flatnonzero(~plain & ~bang)
    if len(slow) * _MAX_SLOW_SHARE > k_max:
        return None
    for k in slow.tolist():  # text holding quotes or ">", and the like: byte by byte
        start = int(lt[k])
        stop = int(lt[k + 1]) if k + 1 < k_max else n
        if _SEGMENT.fullmatch(buf, start, stop):
            plain[k] = True
            if buf[start + 1] == 47:  # an end tag: to its first ">"
                tag_end[k] = buf.index(b">", start)
            else:
                tag_end[k] = _TAG_END.match(buf, start + 1).end() - 1  # type: ignore[union-attr]
    rough = lt[~plain]  # where tags are not plain: no row holding one is

    # -- the tags the reader's rows are made of ----------------------------------------
    # (other tags of the table namespace make no difference to it inside a row or a cell)
    kind = np.zeros(k_max, dtype=np.int8)
    found = np.flatnonzero(w0 == _word(b"<table:t"))
    at = lt[found]
    w8 = words(at + 8)
    is_row = (w8 == _word(b"able-row")) & _NAME_END[a[at + 16]]
    is_cell = (w8 == _word(b"able-cel")) & (a[at + 16] == 108) & _NAME_END[a[at + 17]]
    empty = a[tag_end[found] - 1] == 47
    kind[found] = np.where(is_row, _OPEN, np.where(is_cell, np.where(empty, _SELF, _CELL_OPEN), 0))
    found = np.flatnonzero(w0 == _word(b"<table:c"))
    if len(found):  # merged cells: <table:covered-table-cell
        at = lt[found]
        is_cell = (
            (words(at + 8) == _word(b"overed-t"))
            & (words(at + 16) == _word(b"able-cel"))
            & (a[at + 24] == 108)
            & _NAME_END[a[at + 25]]
        )
        empty = a[tag_end[found] - 1] == 47
        kind[found] = np.where(is_cell, np.where(empty, _SELF, _COVERED_OPEN), 0)
    found = np.flatnonzero(w0 == _word(b"</table:"))
    at = lt[found]
    w8 = words(at + 8)
    cell_end = np.flatnonzero(w8 == _word(b"table-ce"))
    at_e = at[cell_end]
    kind[found[cell_end[(words(at_e + 13) & 0xFFFFFFFFFFFF) == _word(b"-cell>")]]] = _CELL_END
    row_end = np.flatnonzero(w8 == _word(b"table-ro"))
    at_e = at[row_end]
    kind[found[row_end[(a[at_e + 16] == 119) & (a[at_e + 17] == 62)]]] = _CLOSE
    covered = np.flatnonzero(w8 == _word(b"covered-"))
    if len(covered):
        at_e = at[covered]
        kind[found[covered[
            (words(at_e + 16) == _word(b"table-ce"))
            & ((words(at_e + 21) & 0xFFFFFFFFFFFF) == _word(b"-cell>"))
        ]]] = _COVERED_END  # fmt: skip

    # -- rows: a start and the next row tag its end ---------------------------------------
    events = np.flatnonzero(kind)  # tag indices, in order
    ek = kind[events]
    rowish = np.flatnonzero((ek == _OPEN) | (ek == _CLOSE))
    if len(rowish) < 2:
        return None
    pair = (ek[rowish[:-1]] == _OPEN) & (ek[rowish[1:]] == _CLOSE)
    o_ev, c_ev = rowish[:-1][pair], rowish[1:][pair]  # event indices of each row
    if not len(o_ev):
        return None
    o_tag, c_tag = events[o_ev], events[c_ev]
    o_at, c_at = lt[o_tag], lt[c_tag]

    # in a row: cells, each alone or with its own end right after it
    prev_k = np.concatenate(([0], ek[:-1]))
    next_k = np.concatenate((ek[1:], [0]))
    bad = (
        ((ek == _CELL_OPEN) & (next_k != _CELL_END))
        | ((ek == _COVERED_OPEN) & (next_k != _COVERED_END))
        | ((ek == _CELL_END) & (prev_k != _CELL_OPEN))
        | ((ek == _COVERED_END) & (prev_k != _COVERED_OPEN))
    )
    ok = np.ones(len(o_ev), dtype=bool)
    bad_at = lt[events[np.flatnonzero(bad)]]
    # a row holding a bad tag or one that is not plain (its end tag included)
    for where in (bad_at, rough):
        if len(where):
            row = np.searchsorted(o_at, where, side="right") - 1
            inside = (row >= 0) & (where <= c_at[np.maximum(row, 0)])
            ok[row[inside]] = False

    # a row start is <table:table-row> or <table:table-row table:style-name="...">
    after = lt[o_tag + 1]
    bare = (after - o_at == 17) & (a[o_at + 16] == 62)
    style = after - o_at - 37
    styled = (
        (words(o_at + 16) == _word(b" table:s"))
        & (words(o_at + 24) == _word(b"tyle-nam"))
        & ((words(o_at + 32) & 0xFFFFFF) == _word(b'e="'))
        & (a[after - 1] == 62)
        & (a[after - 2] == 34)
        & (style >= 0)
        & (style <= _MAX_STYLE)
    )
    if np.any(styled):
        window = np.stack([words(o_at + 35), words(o_at + 43)], axis=1).view(np.uint8)
        inside = np.arange(_MAX_STYLE) < style[:, None]
        styled &= ~np.any(inside & ((window == 34) | (window == 60) | (window == 62)), axis=1)
    ok &= bare | styled

    # -- empty cells (no value for the reader): <table:table-cell/>, or with a repeat count
    # only (LibreOffice's padding), or a style name (checked one by one)
    is_cell_ev = (ek == _SELF) | (ek == _CELL_OPEN) | (ek == _COVERED_OPEN)
    repeat = is_cell_ev.astype(np.int64)  # per event
    selfs = np.flatnonzero(ek == _SELF)
    tag = events[selfs]
    at, stop = lt[tag], tag_end[tag] + 1
    bare = (stop - at == 19) & (words(at + 9) == _word(b"ble-cell"))
    digits = stop - 3 - (at + 49)
    counted = (
        (words(at + 9) == _word(b"ble-cell"))
        & (words(at + 17) == _word(b" table:n"))
        & (words(at + 25) == _word(b"umber-co"))
        & (words(at + 33) == _word(b"lumns-re"))
        & (words(at + 41) == _word(b'peated="'))
        & (digits >= 1)
        & (digits <= 12)
        & (a[stop - 3] == 34)
    )
    if np.any(counted):
        window = np.stack([words(at + 49), words(at + 57)], axis=1).view(np.uint8)
        inside = np.arange(16) < digits[:, None]
        counted &= ~np.any(inside & ~_DIGIT[window], axis=1)
        # the count matters only where a cell follows in the row (not for the padding)
        inner = np.flatnonzero(counted & (ek[np.minimum(selfs + 1, len(ek) - 1)] != _CLOSE))
        if len(inner):
            d, w = digits[inner, None], window[inner].astype(np.int64) - 48
            power = np.where(inside[inner], 10 ** np.clip(d - 1 - np.arange(16), 0, 15), 0)
            repeat[selfs[inner]] = np.sum(w * power, axis=1)
    empty = bare | counted
    for k in np.flatnonzero(~empty).tolist():  # a style name, and the like
        if _PAD_CELL.fullmatch(buf, int(at[k]), int(stop[k])):
            empty[k] = True
    valued = is_cell_ev.copy()
    valued[selfs[empty]] = False
    checked = np.zeros(k_max, dtype=bool)  # cells whose repeat count is read above
    checked[tag[counted]] = True

    # -- repeat counts: each a cell's table:number-columns-repeated="N" ---------------
    wrong: list[int] = []  # where a repeat count is written otherwise
    lo, hi = max(int(o_at[0]), 40), int(c_at[-1])
    eq = np.flatnonzero(a[lo:hi] == 61) + lo
    before = a[eq - 1]
    for at_eq in eq[_SPACE[before]].tolist():  # "x = y" in a text, or a spaced attribute
        end = at_eq
        while end and buf[end - 1] in b" \t\r\n\x0b\x0c":
            end -= 1
        if buf.endswith(b"repeated", 0, end):
            wrong.append(at_eq)
    reps = eq[before == 100]
    reps = reps[words(reps - 8) == _word(b"repeated")]
    tag = np.searchsorted(lt, reps, side="right") - 1
    others = (tag >= 0) & ~checked[np.maximum(tag, 0)]
    reps, tag = reps[others], tag[others]
    if len(reps):
        ev = np.searchsorted(events, tag)
        ev = np.minimum(ev, len(events) - 1)
        head = np.stack([words(reps - 30 + 8 * i) for i in range(4)], axis=1).view(np.uint8)
        named = np.all(head[:, 1:30] == _COLUMNS_REPEATED, axis=1)
        named &= _SPACE[head[:, 0]] & (a[reps + 1] == 34)
        window = np.stack([words(reps + 2), words(reps + 10)], axis=1).view(np.uint8)
        quote = window == 34
        digits = np.argmax(quote, axis=1)
        lead = np.arange(16) < digits[:, None]
        good = (
            named
            & np.any(quote, axis=1)
            & (digits >= 1)
            & (digits <= 12)
            & ~np.any(lead & ~_DIGIT[window], axis=1)
            & (events[ev] == tag)
            & is_cell_ev[ev]
            & (reps < tag_end[tag])
        )
        power = np.where(lead, 10 ** np.clip(digits[:, None] - 1 - np.arange(16), 0, 15), 0)
        value = np.sum((window.astype(np.int64) - 48) * power, axis=1)
        wrong.extend(reps[~good].tolist())
        repeat[ev[good]] = np.maximum(repeat[ev[good]], value[good])  # twice: the reader fails
    if wrong:
        where = np.array(wrong)
        row = np.searchsorted(o_at, where, side="right") - 1
        inside = (row >= 0) & (where <= c_at[np.maximum(row, 0)])
        ok[row[inside]] = False

    # -- widths: the cells with their repeats, up to the last with a value -----------
    cum = np.concatenate(([0], np.cumsum(repeat)))
    with_value = np.flatnonzero(valued)
    last = np.append(-1, with_value)[np.searchsorted(with_value, c_ev)]  # the row's last
    widths = np.where(last > o_ev, cum[np.maximum(last, 0) + 1] - cum[o_ev], 0)

    rows = np.flatnonzero(ok)
    if not len(rows):
        return None
    starts_at = o_at[rows]
    ends = c_at[rows] + 18
    widths = widths[rows]
    joined = np.zeros(len(rows), dtype=bool)
    joined[:-1] = starts_at[1:] == ends[:-1]  # the next plain row follows at once
    breaks = np.flatnonzero(~joined)
    run_end = breaks[np.searchsorted(breaks, np.arange(len(rows)))] + 1
    return _Runs(buf, starts_at, ends, run_end, widths)


#: what the reader takes for white space before "=" (and what plain rows may hold)
_SPACE = np.zeros(256, dtype=bool)
_SPACE[list(b" \t\n\r\x0b\x0c")] = True
#: the rest of a start tag after "<": up to its first ">" outside quotes
_TAG_END = re.compile(rb"[^\"'>]*+(?:(?:\"[^\"]*+\"|'[^']*+')[^\"'>]*+)*+>")
