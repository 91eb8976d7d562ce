"""Sheet size of XLSX/XLSM packages (and the sheet names of any OOXML workbook, XLSB
included): the box around the cells that hold a value, from a fast pass over the cell
references or, when that cannot vouch for a part, an exact walk tag by tag. See
:mod:`core.importing.sheet_limits`."""

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
    _attr,
    _read_small,
    _Tags,
    _with_end,
    column_name,
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
_XLSX_TAG = re.compile(
    rb"<(/?)(?:[A-Za-z_][\w.-]*:)?(row|c|v|is)(?=[\s/>])(" + _ATTRS + rb")\s*(/?)>"
)
_XLSX_TAG_START = re.compile(rb"</?(?:[A-Za-z_][\w.-]*:)?(?:row|c|v|is)[\s/>]")
_R_ATTR = re.compile(rb"(?:^|\s)r\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
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
