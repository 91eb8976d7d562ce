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
:data:`MAX_SHEET_COLUMNS` columns. Nothing is built on the way: the XML is read as
bytes, one part at a time in pieces of :data:`CHUNK_BYTES`, by a small tokenizer
(``sheet_limits_common.Markup``) that ends each tag exactly where the reader's XML parser
does (at the first ``>`` outside quotes; comments, CDATA and processing instructions
stepped over; no DOM, no entity resolved, no DTD read), so that nothing hidden in an
attribute value, a comment or a cell's content can make the check see rows, cells or
repeat counts the reader does not, or miss ones it does. Parts are unpacked from their
raw data up to their declared size, whatever their checksum (the reader checks it only
after it has built the sheet).

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

* XLSX, 100,000 rows x 8 columns (34 MB of sheet XML): 0.12 to 0.18 s against the
  reader's 0.8 s (15 to 22%); most of it is unpacking the XML, which the reader does
  again. Cells written ``<c r="A1"`` (as office programs and libraries write them) are
  checked with one fast pattern that only looks closer at references past Z99999; cells
  that all carry one namespace prefix (``<x:c r="A1"``) take a second pass (0.5 s, 48%).
  A part written otherwise (cells without ``r``, ``r`` after other attributes, mixed
  prefixes), or whose quick estimate is over a limit, is walked tag by tag: exact, but
  about ten times slower than the reader (7 s for this file; rare in practice, as
  office programs and the common libraries write ``r`` first).
* ODS, 100,000 rows x 8 columns as LibreOffice writes them: 0.66 to 0.70 s when equal
  neighbouring cells are written as repeats (3.3 to 3.6 s before the tokenizer, which
  sized such rows one by one), 0.6 to 1.0 s for a sheet without repeats (0.4 to 0.7 s
  before: finding the quotes, so that tags end where the reader ends them, costs about
  0.1 s per 120 MB, and the cells' content is looked at). Runs of plain rows are sized
  about a thousand at a time with numpy once checked (tags ending where they seem to,
  no comments, no row or cell tags inside cells, repeat counts read as the reader reads
  them); anything else is read tag by tag as the reader reads it. The check runs once per
  version of a file (``core.importing.reading`` remembers it).
* XLS and XLSB: the records are walked one by one (small files in practice).
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

from core.errors import ImportReadError

# The scans live in modules by format; every name stays importable from here.
from core.importing.sheet_limits_binary import _check_xls, _xlsb_part_extent
from core.importing.sheet_limits_common import (  # noqa: F401  (re-exported)
    _ZIP_ERRORS,
    CHUNK_BYTES,
    MAX_INDEX_BYTES,
    MAX_ODS_SHEET_CELLS,
    MAX_SHEET_CELLS,
    MAX_SHEET_COLUMNS,
    MAX_TAG_BYTES,
    Extent,
    _open_chunks,
    _TagTooLong,
    column_name,
    refusal,
)
from core.importing.sheet_limits_ods import _check_ods
from core.importing.sheet_limits_xlsx import (  # noqa: F401  (re-exported)
    MAX_SHARED_STRINGS,
    SHARED_STRINGS,
    _xlsx_part_extent,
    _xlsx_sheet_names,
    parse_reference,
    shared_strings_claim,
)


def check_workbook(path: Path) -> None:
    """Refuse ``path`` (:class:`ImportReadError` naming the file and the sheet) if the
    workbook reader would build a sheet grid over the limits; return otherwise.

    The kind of file is taken from the suffix, as the reader takes it. Damage that the
    scan cannot get past (a broken zip entry) is left for the reader to report."""
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            _check_shared_strings(path)
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


def _check_shared_strings(path: Path) -> None:
    """Refuse an XLSX whose shared strings claim more different strings than
    :data:`MAX_SHARED_STRINGS` (see :func:`shared_strings_claim`)."""
    try:
        zf = zipfile.ZipFile(path)
    except _ZIP_ERRORS:
        return  # not a zip the scan can open: the reader says so in its own words
    with zf:
        try:
            info = zf.getinfo(SHARED_STRINGS)
        except KeyError:
            return
        claim = shared_strings_claim(zf, lambda: _open_chunks(zf, info))
    if claim > MAX_SHARED_STRINGS:
        raise ImportReadError(
            f"{path.name}: the workbook's shared strings claim {claim:,} different strings "
            f"(a workbook may have at most {MAX_SHARED_STRINGS:,}); refusing to read it. "
            "The file is damaged or was not written by an office program: open it in your "
            "spreadsheet program, save it again and import that copy."
        )


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
