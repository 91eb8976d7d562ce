"""Reading sheets of rows from workbooks (XLSX, XLSM, XLS, ODS) and text files (CSV, TSV).

Workbooks go through python-calamine: formulas give their cached values, numbers come
back as floats, date-formatted cells as ``date``/``datetime``. Text files are sniffed by
:mod:`core.importing.csvsniff` and read as strings. Either way rows are streamed: a
sheet is never held whole as Python objects.

Above the data there may be title rows, blank rows and a header split over two rows
with merged cells; :func:`open_source` finds the header row and cleans the headers.
"""

from __future__ import annotations

import csv
import itertools
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import ImportCancelled, ImportReadError
from core.importing.csvsniff import CsvDialect, sniff
from core.importing.ods_merges import ods_merged_ranges
from core.importing.sheet_limits import check_workbook

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
TEXT_SUFFIXES = (".csv", ".tsv", ".txt", ".bak")
#: how far down to look for the header row
HEADER_SEARCH_ROWS = 30
#: longest cell accepted (Excel's own limit); a longer one is refused, not truncated
MAX_CELL_CHARS = 32_767
#: a workbook whose parts unpack to more than this is refused (zip bombs)
MAX_UNPACKED_BYTES = 2 * 1024**3
MAX_COMPRESSION_RATIO = 200

Progress = Callable[[int, int | None], None]
Cancel = Callable[[], bool]


@dataclass
class SheetInfo:
    """One sheet (or a whole CSV file) ready to import.

    ``header_row`` is the 0-based row of the (last) header row; data starts below it.
    ``headers`` are cleaned: merged header cells filled, two-row headers joined
    ("Energy MWh"), trailing empty columns dropped, blanks named "Column C".
    ``n_rows`` counts data rows when known cheaply (workbooks), else ``None``.
    """

    file: Path
    name: str
    hidden: bool
    header_row: int
    headers: list[str]
    n_rows: int | None
    #: 0-based column of the first header cell (workbooks may start at column B)
    first_column: int = 0
    #: how a text file is written (None for workbooks)
    dialect: CsvDialect | None = None
    #: file size in bytes (progress for text files)
    size: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_text(self) -> bool:
        return self.dialect is not None

    @property
    def label(self) -> str:
        """``"file.xlsx, sheet Usage"`` or ``"file.csv"`` for messages."""
        return self.file.name if self.is_text else f"{self.file.name}, sheet {self.name}"

    def column_letter(self, index: int) -> str:
        """Spreadsheet column letter of header ``index`` ("A", "AB")."""
        return column_letter(self.first_column + index)


def column_letter(index: int) -> str:
    """0 -> "A", 27 -> "AB"."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def open_source(
    path: str | Path, *, progress: Progress | None = None, cancel: Cancel | None = None
) -> list[SheetInfo]:
    """The importable sheets of ``path`` with their detected header rows.

    CSV/TSV (and CodeCarbon ``.bak`` files) give one sheet named after the file; workbooks
    give every worksheet, hidden ones flagged. Empty sheets are left out. Raises
    :class:`ImportReadError` with a message naming the file for files that are missing,
    of an unknown type, encrypted, corrupt, empty or suspiciously large when unpacked, and
    for workbooks with a sheet larger than the reader can hold
    (:mod:`core.importing.sheet_limits`, checked before the reader sees the file).
    """
    path = Path(path)
    if not path.exists():
        raise ImportReadError(f"{path}: no such file.")
    if path.is_dir():
        raise ImportReadError(f"{path}: is a folder, not a file to import.")
    size = path.stat().st_size
    if size == 0:
        raise ImportReadError(f"{path.name}: the file is empty; there is nothing to import.")
    suffix = path.suffix.lower()
    if suffix == ".json":
        # the JSON export is for other programs; its text is not neutralised for
        # spreadsheets as XLSX/CSV cells are, so it cannot come back identical through
        # the spreadsheet reader, and it is one document, not a stream of rows
        raise ImportReadError(
            f"{path.name}: JSON files cannot be imported. To move an inventory between "
            "files, export it to XLSX (or CSV) and import that: the round trip is exact."
        )
    if suffix in WORKBOOK_SUFFIXES:
        sheets = _open_workbook(path, size, cancel)
    elif suffix in TEXT_SUFFIXES or _looks_like_text(path):
        sheets = [_open_text(path, size)]
    else:
        raise ImportReadError(
            f"{path.name}: cannot import '{suffix or 'files without an extension'}' files. "
            "Use XLSX, XLSM, XLS, ODS, CSV or TSV."
        )
    with_header = [s for s in sheets if s.headers]
    if not with_header:
        raise ImportReadError(
            f"{path.name}: the file has no data (no sheet with a header row was found)."
        )
    sheets = [s for s in with_header if next(iter_rows(s), None) is not None]
    if not sheets:
        raise ImportReadError(
            f"{path.name}: the file has no data (a header row but no rows below it)."
        )
    if progress:
        progress(len(sheets), len(sheets))
    return sheets


def _looks_like_text(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(4096)
    return b"\x00" not in head and head.count(b"\n") >= 1


# -- text files ---------------------------------------------------------------------------


def _open_text(path: Path, size: int) -> SheetInfo:
    dialect = sniff(path)
    sheet = SheetInfo(path, path.stem, False, 0, [], None, dialect=dialect, size=size)
    head = []
    for _, row in _iter_text(sheet, start=0):
        head.append(row)
        if len(head) >= HEADER_SEARCH_ROWS:
            break
    header_row, headers = detect_header(head, merged=[])
    sheet.header_row, sheet.headers = header_row, headers
    return sheet


def _open_text_handle(sheet: SheetInfo) -> Any:
    assert sheet.dialect is not None
    return open(sheet.file, encoding=sheet.dialect.encoding, errors="strict", newline="")


def _iter_text(sheet: SheetInfo, start: int) -> Iterator[tuple[int, list[Any]]]:
    """``(line number, cells)`` from row index ``start`` (0-based); blank cells are None."""
    assert sheet.dialect is not None
    limit = csv.field_size_limit()
    try:
        with _open_text_handle(sheet) as fh:
            reader = csv.reader(fh, delimiter=sheet.dialect.delimiter)
            index = -1
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                index += 1
                if index < start:
                    continue
                yield reader.line_num, [c if c.strip() else None for c in row]
    except (csv.Error, UnicodeDecodeError) as exc:
        raise _csv_read_error(sheet, reader.line_num, limit, exc) from exc


# -- workbooks ----------------------------------------------------------------------------


def _check_zip(path: Path, size: int) -> None:
    """Refuse zip bombs before calamine unpacks anything."""
    try:
        with zipfile.ZipFile(path) as zf:
            total = sum(i.file_size for i in zf.infolist())
    except zipfile.BadZipFile as exc:
        raise ImportReadError(
            f"{path.name}: the workbook is damaged or not really a {path.suffix} file "
            "(it is not a valid zip package)."
        ) from exc
    if total > MAX_UNPACKED_BYTES or (
        total > 100 * 1024**2 and total > MAX_COMPRESSION_RATIO * size
    ):
        raise ImportReadError(
            f"{path.name}: the workbook would unpack to {total / 1024**2:,.0f} MB from "
            f"{size / 1024**2:,.1f} MB; refusing to open it (it looks like a zip bomb)."
        )


#: workbooks whose sheet sizes were checked: (path, size, mtime) -> True (see below)
_SIZES_CHECKED: OrderedDict[tuple, bool] = OrderedDict()


def _check_sizes(path: Path) -> None:
    """Refuse a workbook whose sheets the reader would build as grids too large to hold
    (:mod:`core.importing.sheet_limits`): the reader would abort the process. Done once
    per version of a file, as the sheets are read again and again while importing."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _SHEET_CACHE_LOCK:
        if key in _SIZES_CHECKED:
            return
    try:
        check_workbook(path)
    except ImportReadError:
        raise
    except Exception as exc:  # the scan met bytes it cannot follow: so would the reader
        raise ImportReadError(
            f"{path.name}: cannot read the workbook; it is damaged or not a "
            f"{path.suffix} file ({type(exc).__name__}: {exc})."
        ) from exc
    with _SHEET_CACHE_LOCK:
        _SIZES_CHECKED[key] = True
        while len(_SIZES_CHECKED) > 16:
            _SIZES_CHECKED.popitem(last=False)


def _is_panic(exc: BaseException) -> bool:
    """Whether ``exc`` is the reader's own failure (a Rust panic surfaces in Python as
    ``PanicException``, which is not an ``Exception``), not a request to stop."""
    return type(exc).__name__ == "PanicException"


def _calamine_workbook(path: Path, size: int) -> Any:
    import python_calamine as pc

    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(b"\xd0\xcf\x11\xe0") and path.suffix.lower() != ".xls":
        raise ImportReadError(
            f"{path.name}: the workbook is password-protected (encrypted). Remove the "
            "password in your spreadsheet program, save it again and import that copy."
        )
    if head.startswith(b"PK\x03\x04"):
        _check_zip(path, size)
    elif path.suffix.lower() != ".xls":
        what = "a PDF document" if head.startswith(b"%PDF") else "not a workbook"
        raise ImportReadError(
            f"{path.name}: this file is {what}, although its name ends in {path.suffix}."
        )
    _check_sizes(path)
    try:
        return pc.CalamineWorkbook.from_path(str(path))
    except pc.PasswordError as exc:
        raise ImportReadError(
            f"{path.name}: the workbook is password-protected. Remove the password in your "
            "spreadsheet program, save it again and import that copy."
        ) from exc
    except BaseException as exc:  # calamine raises several unrelated types, even panics
        if not isinstance(exc, Exception) and not _is_panic(exc):
            raise
        raise ImportReadError(
            f"{path.name}: cannot read the workbook; it is damaged or not a "
            f"{path.suffix} file ({exc})."
        ) from exc


#: parsed sheets kept for the next read of the same file (see :func:`_load_sheet`)
_SHEET_CACHE: OrderedDict[tuple, Any] = OrderedDict()
_SHEET_CACHE_SIZE = 4
_SHEET_CACHE_LOCK = threading.Lock()


def _load_sheet(path: Path, size: int, name: str, wb: Any = None) -> Any:
    """The parsed calamine sheet ``name`` of ``path``, from a small cache.

    Calamine parses a whole sheet when it is opened (about 1.3 s for 100,000 rows x 8
    columns); opening, proposing a mapping, planning and committing each read the sheet,
    so the parsed sheet (held by calamine, not as Python objects) is kept for the next
    read while the file's size and modification time are unchanged.
    """
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, name)
    with _SHEET_CACHE_LOCK:
        sheet = _SHEET_CACHE.get(key)
        if sheet is not None:
            _SHEET_CACHE.move_to_end(key)
            return sheet
    if wb is None:
        wb = _calamine_workbook(path, size)
    try:
        sheet = wb.get_sheet_by_name(name)
    except BaseException as exc:
        if isinstance(exc, Exception) or _is_panic(exc):
            raise ImportReadError(
                f"{path.name}, sheet {name}: cannot read the sheet; the workbook is "
                f"damaged ({exc})."
            ) from exc
        raise
    with _SHEET_CACHE_LOCK:
        _SHEET_CACHE[key] = sheet
        while len(_SHEET_CACHE) > _SHEET_CACHE_SIZE:
            _SHEET_CACHE.popitem(last=False)
    return sheet


def clear_sheet_cache() -> None:
    """Forget parsed sheets (after an import: their memory goes back)."""
    with _SHEET_CACHE_LOCK:
        _SHEET_CACHE.clear()


def _open_workbook(path: Path, size: int, cancel: Cancel | None) -> list[SheetInfo]:
    wb = _calamine_workbook(path, size)
    out: list[SheetInfo] = []
    try:
        # the reader gives merged ranges for XLSX only: an ODS header's are read here
        ods_merges = (
            ods_merged_ranges(path, (m.name for m in wb.sheets_metadata), HEADER_SEARCH_ROWS)
            if path.suffix.lower() == ".ods"
            else {}
        )
        for meta in wb.sheets_metadata:
            if cancel and cancel():
                raise ImportCancelled("Opening the file was cancelled.")
            if "WorkSheet" not in str(meta.typ):
                continue  # chart sheets, macro sheets
            sheet = _load_sheet(path, size, meta.name, wb)
            hidden = str(meta.visible).rsplit(".", 1)[-1] != "Visible"
            info = SheetInfo(path, meta.name, hidden, 0, [], None, size=size)
            if sheet.height == 0 or sheet.width == 0:
                out.append(info)
                continue
            info.first_column = sheet.start[1] if sheet.start else 0
            head = []
            for i, row in enumerate(sheet.iter_rows()):
                if i >= HEADER_SEARCH_ROWS:
                    break
                head.append([_clean_cell(c) for c in row])
            merged = [
                ((r0, c0 - info.first_column), (r1, c1 - info.first_column))
                for (r0, c0), (r1, c1) in (
                    sheet.merged_cell_ranges or ods_merges.get(meta.name, [])
                )
                if c0 >= info.first_column  # one left of the data starts at an empty cell
            ]
            info.header_row, info.headers = detect_header(head, merged)
            last = sheet.end[0] if sheet.end else info.header_row
            info.n_rows = max(0, last - info.header_row)
            out.append(info)
    except BaseException as exc:
        if isinstance(exc, (ImportReadError, ImportCancelled)) or not (
            isinstance(exc, Exception) or _is_panic(exc)
        ):
            raise
        raise ImportReadError(f"{path.name}: cannot read the workbook ({exc}).") from exc
    return out


def _clean_cell(value: Any) -> Any:
    if isinstance(value, str):
        return value if value.strip() else None
    return value


# -- headers ------------------------------------------------------------------------------


def _is_label(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    text = value.strip().replace(",", ".")
    try:
        float(text)
        return False
    except ValueError:
        return True


def detect_header(
    rows: list[list[Any]], merged: list[tuple[tuple[int, int], tuple[int, int]]]
) -> tuple[int, list[str]]:
    """``(header row index, cleaned headers)`` for the first rows of a sheet.

    The header is the first row with at least two cells (or the widest row's worth) that
    are all labels, not numbers: a title row above has one cell, blank rows none. If the
    header has merged cells spanning several columns and the next row is labels too,
    the two rows form one header ("Energy" over "kWh" | "MWh" gives "Energy kWh").
    Returns ``(0, [])`` when no row looks like a header.
    """
    filled = [_fill_merged(list(r), i, merged) for i, r in enumerate(rows)]
    widths = [sum(1 for c in r if c is not None) for r in filled]
    if not widths or max(widths) == 0:
        return 0, []
    widest = max(widths)
    need = 1 if widest == 1 else max(2, (widest + 1) // 2)
    header_index = None
    for i, row in enumerate(filled):
        cells = [c for c in row if c is not None]
        if len(cells) >= need and all(_is_label(c) for c in cells):
            header_index = i
            break
    if header_index is None:
        return 0, []
    header = filled[header_index]
    spans = any(r0 == header_index and c1 > c0 for (r0, c0), (_, c1) in merged)
    if spans and header_index + 1 < len(filled):
        below = filled[header_index + 1]
        cells = [c for c in below if c is not None]
        if len(cells) >= 2 and all(_is_label(c) for c in cells):
            width = max(len(header), len(below))
            joined = []
            for j in range(width):
                top = header[j] if j < len(header) else None
                sub = below[j] if j < len(below) else None
                parts = [str(p).strip() for p in (top, sub) if p is not None]
                if len(parts) == 2 and parts[0] == parts[1]:
                    parts = parts[:1]
                joined.append(" ".join(parts) if parts else None)
            header, header_index = joined, header_index + 1
    last = max((j for j, c in enumerate(header) if c is not None), default=-1)
    headers = []
    seen: dict[str, int] = {}
    for j in range(last + 1):
        text = " ".join(str(header[j]).split()) if header[j] is not None else ""
        text = text or f"Column {column_letter(j)}"
        if text in seen:  # two columns with the same header: keep both, tell them apart
            seen[text] += 1
            text = f"{text} ({seen[text]})"
        else:
            seen[text] = 1
        headers.append(text)
    return header_index, headers


def _fill_merged(
    row: list[Any], index: int, merged: list[tuple[tuple[int, int], tuple[int, int]]]
) -> list[Any]:
    """Cells of a merged range take the value of its top-left cell."""
    for (r0, c0), (r1, c1) in merged:
        if r0 <= index <= r1 and c0 < len(row):
            value = row[c0] if index == r0 else None
            if index != r0:
                continue  # vertically merged cells below the first stay empty
            for j in range(c0 + 1, min(c1 + 1, len(row))):
                if row[j] is None:
                    row[j] = value
    return row


# -- rows ---------------------------------------------------------------------------------


def preview_rows(sheet: SheetInfo, n: int = 50) -> list[list[Any]]:
    """The first ``n`` data rows as raw cells (``str``/``float``/``int``/``bool``/
    ``date``/``datetime``/``None``), one cell per header."""
    out = []
    for _, cells in iter_rows(sheet):
        out.append(cells)
        if len(out) >= n:
            break
    return out


def iter_rows(sheet: SheetInfo) -> Iterator[tuple[int, list[Any]]]:
    """``(row number as the user sees it, cells)`` for every data row, streaming.

    Each row has exactly ``len(sheet.headers)`` cells (padded or cut); blank rows are
    skipped. Text-file cells are strings; workbook cells are calamine's values with
    blanks as ``None``. A cell longer than :data:`MAX_CELL_CHARS` raises
    :class:`ImportReadError` naming the row.
    """
    width = len(sheet.headers)
    if sheet.is_text:
        source: Iterator[tuple[int, list[Any]]] = _iter_text(sheet, sheet.header_row + 1)
    else:
        source = _iter_workbook(sheet)
    for number, cells in source:
        if len(cells) != width:
            cells = (cells + [None] * width)[:width]
        if cells.count(None) == width:
            continue
        yield number, cells


def _sheet_rows(sheet: SheetInfo) -> Iterator[tuple[int, list[Any]]]:
    """``(0-based index, cells)`` of every row of a workbook sheet as the reader gives
    them; a value the reader cannot convert (a date-formatted number past any calendar)
    is a read error naming the row, not an exception."""
    index = 0
    for chunk in _sheet_row_chunks(sheet, 1_000):
        for row in chunk:
            yield index, row
            index += 1


def _iter_workbook(sheet: SheetInfo) -> Iterator[tuple[int, list[Any]]]:
    first = sheet.header_row + 1
    for i, row in _sheet_rows(sheet):
        if i < first:
            continue
        # only text cells need a look (blank -> None, too long -> refused)
        yield i + 1, [c if c.__class__ is not str else _text_cell(sheet, i, c) for c in row]


def _text_cell(sheet: SheetInfo, index: int, c: str) -> str | None:
    if len(c) > MAX_CELL_CHARS:
        raise ImportReadError(
            f"{sheet.label}, row {index + 1}: a cell holds {len(c):,} characters "
            f"(more than {MAX_CELL_CHARS:,}); this is not an inventory table."
        )
    return c if c.strip() else None


def iter_chunks(sheet: SheetInfo, size: int) -> Iterator[tuple[list[int], list[list[Any]]]]:
    """``(row numbers, rows)`` of up to ``size`` data rows at a time, streaming.

    The same rows as :func:`iter_rows` (padded or cut to the headers, blank rows
    skipped) with one difference, for speed: cells of text files are the strings as
    read, so a blank cell is ``""`` or white space rather than ``None`` (callers treat
    both as blank; :func:`normalise_cells` gives :func:`iter_rows`' form).
    """
    if not sheet.is_text:
        yield from _workbook_chunks(sheet, size)
        return
    width = len(sheet.headers)
    numbers: list[int] = []
    rows: list[list[Any]] = []
    limit = csv.field_size_limit()
    assert sheet.dialect is not None
    try:
        with _open_text_handle(sheet) as fh:
            reader = csv.reader(fh, delimiter=sheet.dialect.delimiter)
            for _ in range(sheet.header_row + 1):
                if next(reader, None) is None:
                    return
            add_row, add_number = rows.append, numbers.append
            for row in reader:
                if len(row) != width:
                    row = (row + [""] * width)[:width]
                if not (row[0].strip() or "".join(row).strip()):
                    continue  # a blank row (the first test settles almost every row)
                add_row(row)
                add_number(reader.line_num)
                if len(rows) >= size:
                    yield numbers, rows
                    numbers, rows = [], []
                    add_row, add_number = rows.append, numbers.append
    except (csv.Error, UnicodeDecodeError) as exc:
        raise _csv_read_error(sheet, reader.line_num, limit, exc) from exc
    if rows:
        yield numbers, rows


def _workbook_chunks(sheet: SheetInfo, size: int) -> Iterator[tuple[list[int], list[list[Any]]]]:
    """:func:`iter_chunks` of a workbook sheet: calamine's rows as they are (a blank text
    cell stays ``""``), padded or cut to the headers, blank rows skipped, and a cell
    longer than :data:`MAX_CELL_CHARS` refused as :func:`iter_rows` refuses it.

    Rows are taken ``size`` at a time and checked a chunk at a time (widths, blank rows
    and text lengths column by column), not cell by cell.
    """
    width = len(sheet.headers)
    first = sheet.header_row + 1
    rows = _sheet_row_chunks(sheet, size)
    start = 0
    for chunk in rows:
        if start + len(chunk) <= first:
            start += len(chunk)
            continue
        if start < first:
            chunk = chunk[first - start :]
            start = first
        numbers = range(start + 1, start + 1 + len(chunk))
        start += len(chunk)
        if any(n != width for n in set(map(len, chunk))):
            chunk = [row if len(row) == width else (row + [None] * width)[:width] for row in chunk]
        blank = _blank_rows(chunk)
        if blank:
            numbers = [n for i, n in enumerate(numbers) if i not in blank]
            chunk = [row for i, row in enumerate(chunk) if i not in blank]
        if not chunk:
            continue
        _refuse_long_cells(sheet, list(numbers), chunk)
        yield list(numbers), chunk


def _sheet_row_chunks(sheet: SheetInfo, size: int) -> Iterator[list[list[Any]]]:
    """Every row of a workbook sheet as the reader gives them, ``size`` rows at a time;
    a value the reader cannot convert (a date-formatted number past any calendar) is a
    read error naming its row, not an exception."""
    ws = _load_sheet(sheet.file, sheet.size, sheet.name)
    rows = iter(ws.iter_rows())
    index = 0
    while True:
        chunk: list[list[Any]] = []
        add = chunk.append
        try:
            for row in itertools.islice(rows, size):
                add(row)
        except BaseException as exc:
            if not (isinstance(exc, Exception) or _is_panic(exc)):
                raise
            raise ImportReadError(
                f"{sheet.label}, row {index + len(chunk) + 1}: cannot read the row ({exc})."
            ) from exc
        if not chunk:
            return
        yield chunk
        index += len(chunk)


def _blank_rows(rows: list[list[Any]]) -> set[int]:
    """Positions of the rows whose every cell is empty or white space. Only rows whose
    first cell is blank are looked at further (in an inventory that is almost none)."""
    if not rows or not rows[0]:
        return set(range(len(rows)))  # no columns: nothing in any row
    firsts = [row[0] for row in rows]
    kinds = set(map(type, firsts))
    if kinds == {str} and all(map(str.strip, firsts)):
        return set()  # the usual case: a name in every first cell
    candidates = [
        i for i, c in enumerate(firsts) if c is None or (c.__class__ is str and not c.strip())
    ]
    return {i for i in candidates if _blank_row(rows[i])}


def _blank_row(row: list[Any]) -> bool:
    """Whether every cell is empty or white space (the first cell usually settles it)."""
    for c in row:
        if c is None:
            continue
        if c.__class__ is str:
            if c.strip():
                return False
            continue
        return False
    return True


def _refuse_long_cells(sheet: SheetInfo, numbers: list[int], rows: list[list[Any]]) -> None:
    """Refuse the first cell longer than :data:`MAX_CELL_CHARS`. The longest text cell of
    the chunk is found in one pass in C over all its cells (no transposing, no Python
    step per cell: about twice as fast as going column by column)."""
    cells = itertools.chain.from_iterable(rows)
    longest = max(map(len, filter(str.__instancecheck__, cells)), default=0)
    if longest <= MAX_CELL_CHARS:
        return
    for number, row in zip(numbers, rows, strict=True):
        for c in row:
            if c.__class__ is str:
                _text_cell(sheet, number - 1, c)  # raises for the first long cell


def normalise_cells(cells: list[Any]) -> list[Any]:
    """Blank text cells (empty or white space) as ``None``, as :func:`iter_rows` gives them."""
    return [None if isinstance(c, str) and not c.strip() else c for c in cells]


def _csv_read_error(
    sheet: SheetInfo, line: int, limit: int, exc: csv.Error | UnicodeDecodeError
) -> ImportReadError:
    """The message for a CSV that cannot be read past ``line``: what is wrong and what to do."""
    name = sheet.file.name
    if isinstance(exc, UnicodeDecodeError):
        # exc.start counts from the block being decoded, not from the start of the file;
        # the file was checked whole when it was opened, so it changed since
        return ImportReadError(
            f"{name}, after line {line}: the text is not valid {sheet.dialect.encoding} "
            "(the file changed while it was being read?); save it as UTF-8 and try again."
        )
    if "field larger than field limit" in str(exc):
        return ImportReadError(
            f"{name}, line {line}: a cell is longer than {limit:,} characters; "
            "this is not an inventory table (or the quotes in the file do not match)."
        )
    return ImportReadError(f"{name}, line {line}: not valid CSV ({exc}).")
