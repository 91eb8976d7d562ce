"""Sheet size of XLSX/XLSM packages (and the sheet names of any OOXML workbook, XLSB
included): the box around the cells that hold a value, from a fast pass over the cell
references or, when that cannot vouch for a part, an exact walk of the tags as the
reader reads them (:class:`_XlsxReader`). See :mod:`core.importing.sheet_limits`."""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Callable, Iterator

from core.importing.sheet_limits_binary import _xlsb_sheet_names
from core.importing.sheet_limits_common import (
    _ATTRS,
    _HUGE,
    MAX_SHEET_CELLS,
    Extent,
    Markup,
    _attr,
    _read_small,
    _Unsure,
    _with_end,
    attribute,
    attributes,
    column_name,
    unsure,
)

#: a cell tag other than ``<c r="A1"`` .. ``<c r="Z99999"``: one past Z99999 (looked at
#: closer) or one not written ``<c r="...`` (the exact walk is needed); per prefix
_FAST_TEMPLATE = rb'<%sc(?! r="[A-Z][0-9]{1,5}")[\s/>]'
_XLSX_FAST = re.compile(_FAST_TEMPLATE % b"")
#: a cell tag with a namespace prefix (``<x:c``)
_PREFIXED_CELL = re.compile(rb":c[\s/>]")
_PREFIX_BEFORE = re.compile(rb"<([A-Za-z_][\w.-]*)$")
#: what the fast path assumes of the cells it did not look at: up to row 99,999, column Z
_QUIET_ROWS, _QUIET_COLUMNS = 99_999, 26
#: the tags the reader's cell reading looks at (by their name after the prefix)
_XLSX_WANTED = rb"(?:[^ \t\r\n/>:]*:)?(?:row|c|v|is|f|sheetData)[ \t\r\n/>]"
#: the rest of a start tag: up to its first ">" outside quotes
_TAG_END = re.compile(rb"[^\"'>]*+(?:(?:\"[^\"]*+\"|'[^']*+')[^\"'>]*+)*+>")
_REF = re.compile(rb"([A-Za-z]*)([0-9]*)")


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
    chunks = open_part()
    try:
        return _xlsx_exact(chunks)
    except _Unsure as exc:
        raise unsure(getattr(chunks, "source", "the workbook"), str(exc)) from None


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
            close = _TAG_END.match(buf, end + 1, end + 256)  # its first ">" outside quotes
            if close and buf[close.end() - 2] == 0x2F:
                continue  # <c r="..." s="1"/>: an empty formatted cell, skipped
            if ref[0] + 1 > rows or ref[1] + 1 > cols:
                rows, cols = max(rows, ref[0] + 1), max(cols, ref[1] + 1)
                far = f"{column_name(cols - 1)}{rows}"
        tail = buf[max(0, stop - 64) :]
        skip = stop - max(0, stop - 64)
    if seen_cells:
        rows, cols = max(rows, _QUIET_ROWS), max(cols, _QUIET_COLUMNS)
    return Extent(rows, cols, far)


def _xlsx_exact(chunks: Iterator[bytes]) -> Extent:
    """The box around the cells holding a value, placed as the reader places them: by
    their ``r``, else one right of the previous cell of the row (rows by their ``r``,
    else one below the previous row)."""
    reader = _XlsxReader()
    markup = Markup(None, _XLSX_WANTED)
    last = offset = 0  # where the last event ended, where the buffer starts
    for chunk in _with_end(chunks):
        final = chunk is None
        buf = markup.carry + (chunk or b"")
        offset -= len(markup.carry)
        for start, end, event in markup.scan(buf, 0, final):
            reader.feed(event, offset + start > last)  # anything in between?
            last = offset + end
            if reader.state == _DONE:
                return reader.extent()
        offset += len(buf)
    return reader.extent()


_BEFORE, _SHEET, _CELL, _FIRST, _NESTED, _TEXT, _DONE = range(7)
#: a cell tag's content in its most usual form, read at once
_PLAIN_CELL = re.compile(
    rb'c r="([A-Z]{1,3}[0-9]{1,7})"(?: s="[0-9]{1,5}")?(?: t="([a-zA-Z]{1,9})")?\Z'
)
#: cell types whose <v> the reader reads as plain ASCII: one event, then to its end tag
_PLAIN_TYPES = frozenset((None, b"n", b"s", b"b", b"e"))


def _local(name: bytes) -> bytes:
    """An element's name without its prefix (after the first ":", as quick-xml cuts)."""
    colon = name.find(b":")
    return name[colon + 1 :] if colon >= 0 else name


class _XlsxReader:
    """calamine's reading of a worksheet's cells (XlsxCellReader), fed the tags of
    interest in order with, for each, whether anything (text, other markup) came
    before it since the last one.

    Cells count from ``<sheetData>`` to its end. A row sets the row by its ``r``; its
    end moves to the next row. A cell is placed by its ``r``, else after the previous
    cell; it holds a value when it has a ``<v>`` or ``<is>`` (an upper bound: an empty
    one counts too). What a value holds is stepped over as the reader steps over it
    (checked against it): an ``<f>`` or an inline string's ``<v>`` to its matching
    end tag, a number's ``<v>`` past its first event then to its matching end tag, an
    ``<is>`` or another ``<v>`` to the first end tag of its name; so that rows or
    cells written inside a value count for nothing, or for what they count for in the
    reader."""

    def __init__(self) -> None:
        self.state = _BEFORE
        self.row = self.col = 0
        self.cell: tuple[int, int] | None = None
        self.valued = False
        self.type: bytes | None = None
        self.inner = b""  # the full name of the <v>, <is> or <f> being stepped over
        self.depth = 0
        self.lo_r = self.lo_c = self.hi_r = self.hi_c = -1

    def feed(self, event: tuple[bool, bytes, bytes, bool], gap: bool) -> None:
        end, name, content, empty = event
        if end:
            self._end(name, gap)
            return
        self._start(name, content, gap)
        if empty:
            self._end(name, False)

    def _start(self, name: bytes, content: bytes, gap: bool) -> None:
        state = self.state
        if state == _FIRST:  # the first event in a plain <v>: passed over whatever it is
            self.state, self.depth = _NESTED, 0 if not gap or name != self.inner else 1
            return
        if state == _NESTED:
            if name == self.inner:
                self.depth += 1
            return
        if state == _TEXT:
            return
        local = _local(name)
        if state == _SHEET:
            if local == b"row":
                r = attribute(content, len(name), b"r")
                ref = parse_reference(r) if r is not None else None
                if ref is not None:
                    self.row = ref[0]
            elif local == b"c":
                self._cell_start(name, content)
        elif state == _CELL:
            if local in (b"v", b"is", b"f"):
                self.inner = name
                self.depth = 0
                if local == b"f" or (local == b"v" and self.type in (b"inlineStr", b"is")):
                    self.state = _NESTED  # to its matching end tag
                elif local == b"v" and self.type in _PLAIN_TYPES:
                    self.state = _FIRST  # past one event, then to its matching end tag
                else:
                    self.state = _TEXT  # <is>, a text <v>: to the first end tag of its name
                if local != b"f":
                    self.valued = True
        elif state == _BEFORE and local == b"sheetData":
            self.state = _SHEET

    def _cell_start(self, name: bytes, content: bytes) -> None:
        r = t = None
        plain = _PLAIN_CELL.match(content)
        if plain:  # <c r="B2" s="1" t="n">, as most writers write it
            r, t = plain.group(1), plain.group(2)
        else:
            for key, value in attributes(content, len(name)):
                if key == b"r":
                    r = value
                elif key == b"t":
                    t = value
        if r is None:
            self.cell = (self.row, self.col)
        else:
            ref = parse_reference(r)
            if ref is None or ref[1] is None:
                self.cell = None  # the reader rejects the sheet: it allocates nothing
            else:
                self.cell = (ref[0], ref[1])
                self.col = ref[1]
        self.type, self.valued, self.state = t, False, _CELL

    def _end(self, name: bytes, gap: bool) -> None:
        state = self.state
        if state == _FIRST:
            if name == self.inner and not gap:
                self.state = _CELL  # <v></v>: nothing in it
            else:
                self.state, self.depth = _NESTED, 0
                if name == self.inner:
                    self.state = _CELL
            return
        if state == _NESTED:
            if name == self.inner:
                if self.depth:
                    self.depth -= 1
                else:
                    self.state = _CELL
            return
        if state == _TEXT:
            if name == self.inner:
                self.state = _CELL
            return
        local = _local(name)
        if state == _CELL:
            if local == b"c":
                self._cell_end()
        elif state == _SHEET:
            if local == b"row":
                self.row += 1
                self.col = 0
            elif local == b"sheetData":
                self.state = _DONE

    def _cell_end(self) -> None:
        self.col += 1
        self.state = _SHEET
        if self.cell is None or not self.valued:
            return
        r0, c0 = self.cell
        if self.hi_r < 0:
            self.lo_r, self.hi_r, self.lo_c, self.hi_c = r0, r0, c0, c0
        else:
            self.lo_r, self.hi_r = min(self.lo_r, r0), max(self.hi_r, r0)
            self.lo_c, self.hi_c = min(self.lo_c, c0), max(self.hi_c, c0)

    def extent(self) -> Extent:
        if self.hi_r < 0:
            return Extent()
        far = f"{column_name(self.hi_c)}{self.hi_r + 1}" if self.hi_c < _HUGE else None
        return Extent(self.hi_r - self.lo_r + 1, self.hi_c - self.lo_c + 1, far)


# -- the shared strings ------------------------------------------------------------------

#: the part the reader reads its shared strings from (always this name)
SHARED_STRINGS = "xl/sharedStrings.xml"
#: the ``sst`` start tag, with or without a namespace prefix
_SST_WANTED = rb"(?:[^ \t\r\n/>:]*:)?sst[ \t\r\n/>]"
#: the most different strings a workbook may claim: as many as a sheet may have cells
MAX_SHARED_STRINGS = MAX_SHEET_CELLS


def shared_strings_claim(zf: zipfile.ZipFile, open_part: Callable[[], Iterator[bytes]]) -> int:
    """How many different strings the workbook's shared strings claim (the
    ``uniqueCount`` of their ``sst`` tag, read as the reader reads it: plain digits in
    either quotes, any prefix on the tag), 0 when they claim none.

    The reader sets aside room for that many strings before reading one: a damaged
    ``uniqueCount="99999999999"`` made it ask for 2.4 TB and abort the process (found
    by the random fuzz run); a sign, a space or a character reference in the number
    and it reads none of it (checked by hand)."""
    if SHARED_STRINGS not in zf.namelist():
        return 0
    most = 0
    for end, name, content, _empty in Markup(open_part(), _SST_WANTED):
        if end or name.rpartition(b":")[2] != b"sst":
            continue
        value = attribute(content, len(name), b"uniqueCount")
        if value is not None and value.isdigit():
            most = max(most, int(value))
    return most
