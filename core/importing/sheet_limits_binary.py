"""Sheet size of the binary workbooks: XLS (BIFF records in a compound file: the
DIMENSIONS record and the box around the cell records) and XLSB (binary records in a
zip package: the box around the cell records). See :mod:`core.importing.sheet_limits`."""

from __future__ import annotations

import array
import mmap
import struct
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from core.importing.sheet_limits_common import MAX_SHEET_CELLS, Extent, column_name, refusal

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
#: the reader ends a sheet at a row header past this row (0-based)
_XLSB_LAST_ROW = 0x0010_0000


def _xlsb_records(chunks: Iterator[bytes]) -> Iterator[tuple[int, int, bytes]]:
    """``(type, length, first bytes of the data)`` of the records of an XLSB part,
    streaming: a type is one or two bytes, a length one to four (7 bits each, high bit:
    more). Only the first :data:`_XLSB_KEEP` bytes of a record are kept; the rest is
    skipped."""
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
        yield typ, length, buf[pos + rel : pos + rel + want]
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
    reader starts reading cells), placed as the reader places them; 0 x 0 for parts
    that are not sheets.

    The reader reads every record into one buffer that it only replaces (zeroed) when a
    longer record comes: a record shorter than 4 bytes leaves the bytes of an earlier,
    longer one behind it, and the reader takes its row or column from those. A damaged
    sheet whose 0-length cell record followed a long row record so put a cell at
    column 10,496 and made the reader ask for 3.5 GB for a 3-column sheet (found by the
    random fuzz run). The first 4 bytes of that buffer are followed here as the reader
    has them; a row number past 1,048,576 ends the sheet, as it does for the reader.
    """
    row = 0
    in_data = False
    lo_r = lo_c = hi_r = hi_c = None
    head, size = b"", 0  # the reader's buffer: its first 4 bytes, its length
    for typ, length, data in _xlsb_records(open_part()):
        if length > size:  # a new zeroed buffer of this length, filled with the record
            head, size = data[:4], length
        else:  # the record overwrites the start of the buffer; the rest stays
            head = data[:4] + head[len(data[:4]) :]
        if not in_data:
            in_data = typ == _XLSB_BEGIN_DATA
            continue
        if typ == _XLSB_END_DATA:
            break
        if len(head) < 4:
            continue  # the reader stops there (it cannot read 4 bytes)
        if typ == _XLSB_ROW:
            row = struct.unpack_from("<I", head)[0]
            if row > _XLSB_LAST_ROW:
                break  # the reader ends the sheet at an impossible row
        elif typ in _XLSB_CELLS:
            col = struct.unpack_from("<I", head)[0]
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
    for typ, _length, data in _xlsb_records(iter([workbook])):
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
