"""Small workbooks written by hand, as an attacker (or an odd program) would write them.

Each writer makes the least a reader accepts, so that a test can put any cell anywhere:
an ODS ``content.xml`` from rows of cells (with repeats), an XLS compound file holding
one BIFF8 sheet (with any DIMENSIONS record), an XLSB package of binary records, and a
way to rewrite one part of a zip package (an XLSX sheet, say) with the rest unchanged.
"""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

# -- ODS ----------------------------------------------------------------------------------

_ODS_CONTENT = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
    ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
    ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
    "<office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body>"
    "</office:document-content>"
)
_ODS_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
    ' manifest:version="1.2">'
    '<manifest:file-entry manifest:full-path="/"'
    ' manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)


def _xml_text(text: str) -> str:
    """``text`` as XML character data: escaped, and without the characters XML 1.0 cannot
    hold at all (an ODS cannot carry a NUL; a spreadsheet program would not write one)."""
    kept = "".join(
        c
        for c in text
        if c in "\t\n\r" or (" " <= c <= "\ud7ff") or ("\ue000" <= c <= "\ufffd") or c > "\uffff"
    )
    return escape(kept)


def ods_cell(value: object = None, repeat: int = 1) -> str:
    """One cell: text, a number (float, int, bool) or None (empty), ``repeat`` times."""
    rep = f' table:number-columns-repeated="{repeat}"' if repeat != 1 else ""
    if value is None:
        return f"<table:table-cell{rep}/>"
    if isinstance(value, bool):
        flag = "true" if value else "false"
        return (
            f'<table:table-cell{rep} office:value-type="boolean" office:boolean-value="{flag}">'
            "</table:table-cell>"
        )
    if isinstance(value, int | float):
        return (
            f'<table:table-cell{rep} office:value-type="float" office:value="{value!r}">'
            "</table:table-cell>"
        )
    return (
        f'<table:table-cell{rep} office:value-type="string">'
        f"<text:p>{_xml_text(str(value))}</text:p></table:table-cell>"
    )


def ods_row(cells: Iterable[str], repeat: int = 1) -> str:
    rep = f' table:number-rows-repeated="{repeat}"' if repeat != 1 else ""
    return f"<table:table-row{rep}>{''.join(cells)}</table:table-row>"


def ods_values(rows: Iterable[Iterable[object]]) -> str:
    """Rows of plain values, each row ended as LibreOffice ends it: an empty cell repeated
    to the sheet's width (16,384 columns)."""
    out = []
    for row in rows:
        cells = [ods_cell(v) for v in row]
        out.append(ods_row([*cells, ods_cell(None, 16_384 - len(cells))]))
    return "".join(out)


def ods(path: Path, tables: dict[str, str]) -> Path:
    """An OpenDocument spreadsheet of ``{sheet name: rows XML}``."""
    body = "".join(
        f"<table:table table:name={quoteattr(name)}>{rows}</table:table>"
        for name, rows in tables.items()
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        z.writestr("META-INF/manifest.xml", _ODS_MANIFEST, zipfile.ZIP_DEFLATED)
        z.writestr("content.xml", _ODS_CONTENT.format(tables=body), zipfile.ZIP_DEFLATED)
    return path


# -- zip packages -------------------------------------------------------------------------


def rewrite_part(src: Path, dest: Path, name: str, change: Callable[[bytes], bytes]) -> Path:
    """A copy of the zip package ``src`` with part ``name`` passed through ``change``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as out:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == name:
                data = change(data)
            out.writestr(item, data)
    return dest


# -- XLS (BIFF8 in a compound file) -------------------------------------------------------


def _biff(typ: int, data: bytes = b"") -> bytes:
    return struct.pack("<HH", typ, len(data)) + data


def _biff_cell(row: int, col: int, value: object) -> bytes:
    if isinstance(value, str):
        text = value.encode("utf-16-le")
        return _biff(0x0204, struct.pack("<HHHHB", row, col, 15, len(value), 1) + text)
    return _biff(0x0203, struct.pack("<HHHd", row, col, 15, float(value)))  # type: ignore[arg-type]


def xls(
    path: Path,
    cells: Iterable[tuple[int, int, object]],
    *,
    sheet: str = "Models",
    dimensions: tuple[int, int, int, int] | None = None,
) -> Path:
    """A one-sheet XLS: ``(row, column, value)`` cells (0-based; text as Label records,
    numbers as Number records). ``dimensions`` is the DIMENSIONS record's (first row,
    row after the last, first column, column after the last), by default the cells' box;
    a forged one is written as given."""
    cells = list(cells)
    if dimensions is None:
        rows = [r for r, _, _ in cells] or [0]
        cols = [c for _, c, _ in cells] or [0]
        dimensions = (min(rows), max(rows) + 1, min(cols), max(cols) + 1)
    bof_globals = _biff(0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0, 1997, 0, 6))
    codepage = _biff(0x0042, struct.pack("<H", 1200))
    name = sheet.encode("utf-16-le")

    def boundsheet(offset: int) -> bytes:
        return _biff(0x0085, struct.pack("<IBBBB", offset, 0, 0, len(sheet), 1) + name)

    globals_len = len(bof_globals) + len(codepage) + len(boundsheet(0)) + len(_biff(0x000A))
    sheet_stream = (
        _biff(0x0809, struct.pack("<HHHHII", 0x0600, 0x0010, 0, 1997, 0, 6))
        + _biff(0x0200, struct.pack("<IIHHH", *dimensions, 0))
        + b"".join(_biff_cell(r, c, v) for r, c, v in cells)
        + _biff(0x000A)
    )
    stream = bof_globals + codepage + boundsheet(globals_len) + _biff(0x000A) + sheet_stream
    path.write_bytes(_compound_file(stream.ljust(max(4096, -(-len(stream) // 512) * 512), b"\0")))
    return path


def _compound_file(stream: bytes) -> bytes:
    """A version-3 compound file (512-byte sectors) whose only stream is ``Workbook``
    (at least 4,096 bytes, so it lives in ordinary sectors): sector 0 holds the FAT, 1
    the directory, the rest the stream."""
    free, end, fat_sector, none = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    n = len(stream) // 512
    assert n <= 126, "one FAT sector maps 128 sectors"
    fat = [fat_sector, end, *range(3, 2 + n), end]
    fat += [free] * (128 - len(fat))
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + bytes(16)
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + bytes(6)
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, end, 0, end, 0)
        + struct.pack("<I", 0)
        + struct.pack("<I", free) * 108
    )

    def entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
        raw = (name + "\0").encode("utf-16-le") if name else b""
        return (
            raw.ljust(64, b"\0")
            + struct.pack("<HBB", len(raw), kind, 1)
            + struct.pack("<III", none, none, child)
            + bytes(16 + 4 + 16)
            + struct.pack("<IQ", start, size)
        )

    directory = (
        entry("Root Entry", 5, 1, end, 0)
        + entry("Workbook", 2, none, 2, len(stream))
        + entry("", 0, none, 0, 0) * 2
    )
    return header + struct.pack("<128I", *fat) + directory + stream


# -- XLSB (binary records in a zip package) ------------------------------------------------


def xlsb_record(typ: int, data: bytes = b"") -> bytes:
    """One XLSB record: its type, its length (7 bits a byte) and ``data``."""
    return _record(typ, data)


def _record(typ: int, data: bytes = b"") -> bytes:
    head = bytes([typ]) if typ < 128 else bytes([(typ & 0x7F) | 0x80, typ >> 7])
    n, size = len(data), b""
    while True:
        low, n = n & 0x7F, n >> 7
        size += bytes([low | (0x80 if n else 0)])
        if not n:
            return head + size + data


def _wide(text: str) -> bytes:
    return struct.pack("<I", len(text)) + text.encode("utf-16-le")


_XLSB_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="bin"'
    ' ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/>'
    '<Default Extension="rels"'
    ' ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.bin"'
    ' ContentType="application/vnd.ms-excel.worksheet"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/{kind}" Target="{target}"/></Relationships>'
)


def xlsb(
    path: Path,
    cells: Iterable[tuple[int, int, object]],
    *,
    sheet: str = "Models",
    extra: bytes = b"",
) -> Path:
    """A one-sheet XLSB: ``(row, column, value)`` cells, text or numbers, then the raw
    records ``extra`` (made with :func:`xlsb_record`) at the end of the sheet data."""
    by_row: dict[int, list[tuple[int, object]]] = {}
    for r, c, v in cells:
        by_row.setdefault(r, []).append((c, v))
    records = _record(0x81) + _record(0x94, struct.pack("<IIII", 0, 0, 0, 0)) + _record(0x91)
    for r in sorted(by_row):
        records += _record(0x00, struct.pack("<IIHBBBI", r, 0, 0x12C, 0, 0, 0, 0))
        for c, v in by_row[r]:
            if isinstance(v, str):
                records += _record(0x06, struct.pack("<II", c, 0) + _wide(v))
            else:
                records += _record(0x05, struct.pack("<IId", c, 0, float(v)))  # type: ignore[arg-type]
    records += extra + _record(0x92) + _record(0x82)
    workbook = (
        _record(0x83)
        + _record(0x8F)
        + _record(0x9C, struct.pack("<II", 0, 1) + _wide("rId1") + _wide(sheet))
        + _record(0x90)
        + _record(0x84)
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _XLSB_TYPES)
        z.writestr("_rels/.rels", _RELS.format(kind="officeDocument", target="xl/workbook.bin"))
        z.writestr(
            "xl/_rels/workbook.bin.rels",
            _RELS.format(kind="worksheet", target="worksheets/sheet1.bin"),
        )
        z.writestr("xl/workbook.bin", workbook)
        z.writestr("xl/worksheets/sheet1.bin", records)
    return path
