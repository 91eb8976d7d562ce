"""Office files as an attacker would write them, and exports that a spreadsheet would run.

* XML inside an XLSX or ODS with entity tricks: the "billion laughs" (nested entities,
  3 GB once expanded), the quadratic blow-up (one large entity used many times), an
  external entity naming a local file, and an external DTD on a local port. The
  workbook reader (calamine) does not expand DTD entities: the import is refused at
  once with a message naming the file, nothing is expanded, fetched or read, and the
  inventory is unchanged. A DTD that is declared but not used changes nothing.
* Sheets larger than the reader can hold: a few kilobytes that claim billions of cells
  (one cell at XFD1048576, one cell repeated 90,000 x 1,000 times in an ODS, a forged
  XLS DIMENSIONS record or far cell record, a far XLSB cell) are refused before the
  reader builds them, with a message naming the sheet, and the inventory is unchanged.
  These run in a child process with a capped address space, so that a regression shows
  as a failed test, not a dead test runner. LibreOffice's padding (empty rows and
  columns repeated to the sheet's full size) and empty formatted far cells are not
  counted, as the reader does not build them either.
* Formula neutralisation: every CSV the app writes for a spreadsheet (the export, the
  import's errors file, the command line's ``list`` and ``estimate`` in CSV, a chart's
  data) and the XLSX export start text cells beginning with ``= + - @`` (or a tab or
  carriage return) with ``'``, so that a spreadsheet shows them instead of running
  them; the importer takes the ``'`` off again. (``tests/core/test_export.py`` already
  checks ``=`` and ``+`` in the XLSX export and the exact round trip.)
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import socket
import struct
import time
import zipfile
from pathlib import Path

import pytest
import python_calamine as pc
import workbook_files as wf
import xlsxwriter
from robustness_support import ROOT, cli_limited, table_digests

from core import cli
from core.errors import ImportReadError
from core.importing import export_inventory, open_source
from core.importing.sheet_limits import (
    MAX_ODS_SHEET_CELLS,
    MAX_SHEET_CELLS,
    MAX_SHEET_COLUMNS,
    check_workbook,
)
from core.inventory import Inventory

#: nine levels of ten: "lol" x 10^9 once expanded (3 GB)
BILLION_LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "' + (f"&lol{i - 1};" if i > 1 else "&lol;") * 10 + '">'
        for i in range(1, 10)
    )
    + "]>"
)
#: one 100 kB entity used 10,000 times in a cell: 1 GB once expanded
QUADRATIC = '<!DOCTYPE q [<!ENTITY a "' + "a" * 100_000 + '">]>'
SECRET = "TOP-SECRET-7f3a"
#: seconds a refused file may take, all in (reading it should take milliseconds)
FAST_S = 5.0


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def inventory(tmp_path) -> Path:
    path = tmp_path / "inv.aicl"
    with Inventory.create(path) as inv:
        inv.insert_logged("models", [{"name": "Support bot", "version": "2"}], "fixture")
    return path


@pytest.fixture
def listener():
    """A TCP port on this machine that records whether anything connected."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.setblocking(False)
    yield server
    server.close()


def _connected(server: socket.socket) -> bool:
    try:
        conn, _ = server.accept()
    except BlockingIOError:
        return False
    conn.close()
    return True


# -- hostile XML in workbooks -------------------------------------------------------------


def _attacks(tmp_path: Path, port: int) -> dict[str, tuple[str, str]]:
    """(DTD, the cell's XML text) per attack."""
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    return {
        "billion laughs": (BILLION_LAUGHS, "&lol9;"),
        "quadratic blow-up": (QUADRATIC, "&a;" * 10_000),
        "external entity (local file)": (
            f'<!DOCTYPE x [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>',
            "&xxe;",
        ),
        "external DTD (local port)": (
            f'<!DOCTYPE x SYSTEM "http://127.0.0.1:{port}/evil.dtd">',
            "&remote;",
        ),
    }


def _xlsx_with(path: Path, dtd: str, cell: str) -> Path:
    """A real workbook (xlsxwriter) whose shared strings carry ``dtd`` and whose model
    name is ``cell`` (raw XML)."""
    plain = path.with_suffix(".plain.xlsx")
    book = xlsxwriter.Workbook(str(plain))
    sheet = book.add_worksheet("Models")
    sheet.write_row(0, 0, ["Name", "Version"])
    sheet.write_row(1, 0, ["PAYLOAD", "1"])
    book.close()
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/sharedStrings.xml":
                text = data.decode()
                text = re.sub(r"(<\?xml[^>]*\?>)", lambda m: m.group(1) + dtd, text, count=1)
                data = text.replace("PAYLOAD", cell).encode()
            out.writestr(item, data)
    plain.unlink()
    return path


_ODS_CONTENT = (
    '<?xml version="1.0" encoding="UTF-8"?>{dtd}'
    '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
    ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
    ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
    '<office:body><office:spreadsheet><table:table table:name="Models">'
    "{rows}</table:table></office:spreadsheet></office:body></office:document-content>"
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


def _ods_with(path: Path, dtd: str, cell: str) -> Path:
    """An OpenDocument spreadsheet (written by hand, as the format allows) whose
    content carries ``dtd`` and whose model name is ``cell`` (raw XML)."""

    def row(*cells: str) -> str:
        return (
            "<table:table-row>"
            + "".join(
                f'<table:table-cell office:value-type="string"><text:p>{c}</text:p>'
                "</table:table-cell>"
                for c in cells
            )
            + "</table:table-row>"
        )

    content = _ODS_CONTENT.format(dtd=dtd, rows=row("Name", "Version") + row(cell, "1"))
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        z.writestr("META-INF/manifest.xml", _ODS_MANIFEST, zipfile.ZIP_DEFLATED)
        z.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return path


WRITERS = {"xlsx": _xlsx_with, "ods": _ods_with}
ATTACKS = (
    "billion laughs",
    "quadratic blow-up",
    "external entity (local file)",
    "external DTD (local port)",
)


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_the_files_are_well_formed_without_the_attack(inventory, tmp_path, fmt):
    """The same files with a plain cell import: the refusals below are the entities'."""
    path = WRITERS[fmt](tmp_path / f"models.{fmt}", "", "Plain model")
    out = io.StringIO()
    assert cli.main(["import", str(inventory), str(path)], out=out) == 0, out.getvalue()
    with Inventory.open(inventory) as inv:
        assert inv.conn.execute("SELECT count(*) FROM models WHERE name = 'Plain model'").fetchone()


@pytest.mark.parametrize("attack", ATTACKS)
@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_entity_tricks_are_refused_at_once(inventory, tmp_path, capsys, listener, fmt, attack):
    dtd, cell = _attacks(tmp_path, listener.getsockname()[1])[attack]
    path = WRITERS[fmt](tmp_path / f"hostile.{fmt}", dtd, cell)
    assert path.stat().st_size < 200_000  # small on disk: the danger is in expanding it
    before = _digest(inventory)
    out = io.StringIO()
    t0 = time.perf_counter()
    code = cli.main(["import", str(inventory), str(path)], out=out)
    took = time.perf_counter() - t0
    text = out.getvalue() + capsys.readouterr().err
    assert code == 2, text  # a read error: nothing was planned, nothing written
    assert f"hostile.{fmt}: cannot read the workbook" in text
    assert took < FAST_S, f"took {took:.1f} s"
    assert _digest(inventory) == before
    assert SECRET not in text and "lollol" not in text
    assert not _connected(listener), "the reader fetched the external DTD"
    # the wizard reads files through open_source: the same clear refusal
    with pytest.raises(ImportReadError, match=f"hostile.{fmt}: cannot read the workbook"):
        open_source(path)


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_a_declared_but_unused_dtd_changes_nothing(inventory, tmp_path, listener, fmt):
    """Entities that are declared (local file, remote DTD) but never used: the data
    imports as written, and nothing is read or fetched."""
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    port = listener.getsockname()[1]
    dtd = (
        f'<!DOCTYPE x SYSTEM "http://127.0.0.1:{port}/evil.dtd" '
        f'[<!ENTITY xxe SYSTEM "{secret.as_uri()}">{BILLION_LAUGHS[15:-2]}]>'
    )
    path = WRITERS[fmt](tmp_path / f"declared.{fmt}", dtd, "Declared &amp; plain")
    out = io.StringIO()
    assert cli.main(["import", str(inventory), str(path)], out=out) == 0, out.getvalue()
    with Inventory.open(inventory) as inv:
        names = [r[0] for r in inv.conn.execute("SELECT name FROM models ORDER BY id")]
    assert names == ["Support bot", "Declared & plain"]
    assert not _connected(listener)


# -- sheets larger than the reader can hold ----------------------------------------------

MODELS = [["Name", "Version"], ["Support bot", "3"]]


def _xlsx_at(path: Path, ref: str, *, empty: bool = False) -> Path:
    """The two rows of MODELS and one more cell at ``ref`` (any text, even past column
    XFD): a value, or an empty cell with a format (written ``<c r="..." s="1"/>``, which
    the reader skips). Written near the data, then moved by editing the XML: writing
    far cells directly makes the writer itself hold hundreds of MB."""
    plain = path.with_suffix(".plain.xlsx")
    book = xlsxwriter.Workbook(str(plain))
    sheet = book.add_worksheet("Models")
    for r, values in enumerate(MODELS):
        sheet.write_row(r, 0, values)
    if empty:
        sheet.write_blank(5, 5, None, book.add_format({"bold": True}))
    else:
        sheet.write(5, 5, "far")
    book.close()
    wf.rewrite_part(
        plain,
        path,
        "xl/worksheets/sheet1.xml",
        lambda d: d.replace(b'r="F6"', f'r="{ref}"'.encode()),
    )
    plain.unlink()
    return path


def _ods_models(path: Path, extra: str = "") -> Path:
    return wf.ods(path, {"Models": wf.ods_values(MODELS) + extra})


#: file name -> (writer, what the message says the sheet claims)
HUGE = {
    "far.xlsx": (
        lambda p: _xlsx_at(p, "XFD1048576"),
        "1,048,576 rows x 16,384 columns = 17,179,869,184 cells, its farthest cell is XFD1048576",
    ),
    "wide.xlsx": (lambda p: _xlsx_at(p, "ZZZ2"), "2 rows x 18,278 columns"),
    "lowercase.xlsx": (lambda p: _xlsx_at(p, "xfd1048576"), "1,048,576 rows x 16,384 columns"),
    "repeated.ods": (
        lambda p: _ods_models(p, wf.ods_row([wf.ods_cell("x", 1_000)], 90_000)),
        "90,002 rows x 1,000 columns = 90,002,000 cells",
    ),
    "wide.ods": (
        lambda p: _ods_models(p, wf.ods_row([wf.ods_cell(1.0, 20_000)])),
        "3 rows x 20,000 columns",
    ),
    "after-padding.ods": (  # empty rows between data count: the reader fills them in
        lambda p: _ods_models(
            p,
            wf.ods_row([wf.ods_cell(None, 16_384)], 1_048_000) + wf.ods_row([wf.ods_cell(2.0, 30)]),
        ),
        "1,048,003 rows x 30 columns",
    ),
    "dimensions.xls": (
        lambda p: wf.xls(
            p, [(0, 0, "Name"), (0, 1, "Version")], dimensions=(0, 1_048_576, 0, 16_384)
        ),
        "1,048,576 rows x 16,384 columns (as its DIMENSIONS record says)",
    ),
    "cell.xls": (
        lambda p: wf.xls(p, [(0, 0, "Name"), (0, 1, "Version"), (60_000, 65_000, 1.0)]),
        "60,001 rows x 65,001 columns",
    ),
    "far.xlsb": (
        lambda p: wf.xlsb(p, [(0, 0, "Name"), (0, 1, "Version"), (1_048_575, 16_383, "far")]),
        "1,048,576 rows x 16,384 columns",
    ),
    # a long row header (row 10,496), then a cell record of 0 bytes: the reader takes the
    # cell's column from the row header's bytes left in its buffer and asked for 3.5 GB
    # (found by the random fuzz run, in a damaged 3-column sheet)
    "stale-buffer.xlsb": (
        lambda p: wf.xlsb(
            p,
            [(0, 0, "Name"), (0, 1, "Version")],
            extra=wf.xlsb_record(0x00, struct.pack("<I", 10_496) + bytes(60))
            + wf.xlsb_record(0x0A),
        ),
        "10,497 rows x 10,497 columns = 110,187,009 cells, its farthest cell is OMS10497",
    ),
}


@pytest.mark.parametrize("name", sorted(HUGE))
def test_sheets_larger_than_the_reader_can_hold_are_refused(inventory, tmp_path, name):
    write, claim = HUGE[name]
    path = write(tmp_path / name)
    assert path.stat().st_size < 100_000  # small on disk: the danger is in the grid
    before = table_digests(inventory)
    t0 = time.perf_counter()
    proc = cli_limited("import", inventory, path, timeout=60)
    took = time.perf_counter() - t0
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr
    assert f"{name}, sheet Models: the sheet claims {claim}" in proc.stderr, proc.stderr
    assert "refusing to read it" in proc.stderr
    assert took < 30, f"took {took:.1f} s"
    assert table_digests(inventory) == before


def test_the_limits_are_what_the_message_says():
    assert MAX_SHEET_CELLS == 50_000_000
    assert MAX_ODS_SHEET_CELLS == 20_000_000
    assert MAX_SHEET_COLUMNS == 16_384  # Excel's and LibreOffice's own width


#: file name -> writer of a workbook that looks large but is not, for the reader
NOT_HUGE = {
    "empty-formatted-far.xlsx": lambda p: _xlsx_at(p, "XFD1048576", empty=True),
    "ten-million.xlsx": lambda p: _xlsx_at(p, "J1000000"),  # 10,000,000 cells: allowed
    "padded.ods": lambda p: _ods_models(  # LibreOffice's padding after the data
        p, wf.ods_row([wf.ods_cell(None, 16_384)], 1_048_000) + wf.ods_row([wf.ods_cell()])
    ),
    "models.xls": lambda p: wf.xls(
        p, [(0, 0, "Name"), (0, 1, "Version"), (1, 0, "Support bot"), (1, 1, "3")]
    ),
    "models.xlsb": lambda p: wf.xlsb(
        p, [(0, 0, "Name"), (0, 1, "Version"), (1, 0, "Support bot"), (1, 1, "3")]
    ),
}


@pytest.mark.parametrize("name", sorted(NOT_HUGE))
def test_what_the_reader_does_not_build_is_not_counted(inventory, tmp_path, name):
    path = NOT_HUGE[name](tmp_path / name)
    check_workbook(path)  # the scan alone: safe in this process
    proc = cli_limited("import", inventory, path, timeout=60)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    with Inventory.open(inventory) as inv:
        names = {r[0] for r in inv.conn.execute("SELECT name FROM models")}
    assert "Support bot" in names


_HEADER_XML = (
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>Name</t></is></c>'
    b'<c r="B1" t="inlineStr"><is><t>Version</t></is></c></row>'
)
_X_HEADER_XML = _HEADER_XML.replace(b"<", b"<x:").replace(b"<x:/", b"</x:")
#: sheet XML (after the header row) that places a cell at XFD1048576 for the reader in
#: less usual ways
UNUSUAL_XLSX = {
    "no r on the cell": _HEADER_XML + b'<row r="1048576"><c><v>1</v></c></row>'
                        b'<row r="2"><c r="XFD2"><v>1</v></c></row>',
    "namespace prefix": _HEADER_XML
                        + b'<x:row r="1048576"><x:c r="XFD1048576"><x:v>1</x:v></x:c></x:row>',
    "prefix throughout": _X_HEADER_XML
                         + b'<x:row r="1048576"><x:c r="XFD1048576"><x:v>1</x:v></x:c></x:row>',
    "a second prefix": _X_HEADER_XML
                       + b'<x:row r="2"><x:c r="A2"><x:v>1</x:v></x:c>'
                       b'<y:c r="XFD1048576"><y:v>1</y:v></y:c></x:row>',
    "no prefix after a prefix": _X_HEADER_XML
                                + b'<x:row r="2"><c r="XFD1048576"><v>1</v></c></x:row>',
    "r not first": _HEADER_XML + b'<row r="1048576"><c s="0" r="XFD1048576"><v>1</v></c></row>',
    "single quotes": _HEADER_XML + b"<row r='1048576'><c r='XFD1048576'><v>1</v></c></row>",
    "spaces around =": _HEADER_XML
                       + b'<row r="1048576"><c  r = "XFD1048576"><v>1</v></c></row>',
    "> in an attribute": _HEADER_XML
                         + b'<row r="1048576"><c s=">" r="XFD1048576"><v>1</v></c></row>',
}  # fmt: skip
_ODS_HEAD = wf.ods_values(MODELS)
#: ODS content that repeats a valued cell past the limit in less usual ways
UNUSUAL_ODS = {
    "repeat as character references": '<table:table-row table:number-rows-repeated="&#57;&#48;'
    '&#48;&#48;&#48;"><table:table-cell table:number-columns-repeated="1000"'
    ' office:value-type="float" office:value="1"/></table:table-row>',
    "a stray row end tag": '<table:table-row><table:table-cell office:value-type="float"'
    ' office:value="1"></table:table-row></table:table-cell><table:table-cell'
    ' table:number-columns-repeated="16000" office:value-type="float" office:value="1"/>'
    '</table:table-row><table:table-row table:number-rows-repeated="5000">'
    '<table:table-cell office:value-type="float" office:value="1"/></table:table-row>',
    "covered cells": '<table:table-row table:number-rows-repeated="30000">'
    '<table:covered-table-cell table:number-columns-repeated="1000"'
    ' office:value-type="float" office:value="1"/></table:table-row>',
    "rows in a group": '<table:table-row-group><table:table-row table:number-rows-repeated="30000">'
    '<table:table-cell table:number-columns-repeated="1000" office:value-type="float"'
    ' office:value="1"/></table:table-row></table:table-row-group>',
}


@pytest.mark.parametrize("case", sorted(UNUSUAL_XLSX))
def test_the_check_sees_cells_written_unusually_in_xlsx(tmp_path, case):
    """Each of these makes the reader abort (checked by hand); the check (which alone
    runs here, safely) must see the far cell however it is written."""
    plain = _xlsx_at(tmp_path / "plain.xlsx", "B2")
    xml = b"<sheetData>" + UNUSUAL_XLSX[case] + b"</sheetData>"
    path = wf.rewrite_part(
        plain,
        tmp_path / "unusual.xlsx",
        "xl/worksheets/sheet1.xml",
        lambda d: re.sub(rb"<sheetData>.*</sheetData>", xml, d, flags=re.S),
    )
    with pytest.raises(ImportReadError, match=r"unusual\.xlsx, sheet Models: the sheet claims"):
        check_workbook(path)


@pytest.mark.parametrize("case", sorted(UNUSUAL_ODS))
def test_the_check_sees_cells_repeated_unusually_in_ods(tmp_path, case):
    path = wf.ods(tmp_path / "unusual.ods", {"Models": _ODS_HEAD + UNUSUAL_ODS[case]})
    with pytest.raises(ImportReadError, match=r"unusual\.ods, sheet Models: the sheet claims"):
        check_workbook(path)


@pytest.mark.parametrize("name", ["inventory_q3.xlsx", "inventory_q3.ods"])
def test_workbooks_saved_by_libreoffice_pass_the_check(name):
    """LibreOffice writes every row out to column 16,384 and every sheet to row
    1,048,576 (repeated empty cells and rows): none of it counts."""
    path = ROOT / "tests" / "data" / "import" / name
    if name.endswith(".ods"):
        with zipfile.ZipFile(path) as zf:
            content = zf.read("content.xml")
        assert b'number-rows-repeated="1048569"' in content  # the padding is there
    check_workbook(path)


#: the sharedStrings.xml ``sst`` tag as damage or a forger could leave it -> whether the
#: reader sets aside room for 99,999,999,999 strings (and aborts: checked by hand)
SHARED_STRING_CLAIMS = {
    "plain": (b'uniqueCount="99999999999"', True),
    "single quotes": (b"uniqueCount='99999999999'", True),
    "a sign": (b'uniqueCount="+99999999999"', False),
    "a character reference": (b'uniqueCount="&#57;9999999999"', False),
    "a space": (b'uniqueCount=" 99999999999"', False),
}


def _shared_strings(path: Path, new: bytes, *, prefix: bool = False) -> Path:
    def change(xml: bytes) -> bytes:
        assert b'uniqueCount="51"' in xml
        xml = xml.replace(b'uniqueCount="51"', new)
        if prefix:
            xml = xml.replace(b"<sst xmlns=", b"<x:sst xmlns:x=").replace(b"</sst>", b"</x:sst>")
            for tag in (b"si", b"t"):
                xml = xml.replace(b"<" + tag, b"<x:" + tag).replace(b"</" + tag, b"</x:" + tag)
        return xml

    src = ROOT / "tests" / "data" / "import" / "inventory_q3.xlsx"
    return wf.rewrite_part(src, path, "xl/sharedStrings.xml", change)


@pytest.mark.parametrize("case", [*sorted(SHARED_STRING_CLAIMS), "namespace prefix"])
def test_a_shared_strings_claim_the_reader_would_allocate_is_refused(inventory, tmp_path, case):
    """Found by the random fuzz run: uniqueCount="99999999999" in sharedStrings.xml made
    the reader ask for 2.4 TB before reading a string, and abort the process. Claims it
    would act on are refused; those it reads past are not (the import goes on)."""
    new, refused = SHARED_STRING_CLAIMS.get(case, (b'uniqueCount="99999999999"', True))
    path = _shared_strings(tmp_path / "q3.xlsx", new, prefix=case == "namespace prefix")
    before = table_digests(inventory)
    proc = cli_limited("import", inventory, path, "--sheet", "Models", timeout=60)
    assert "Traceback" not in proc.stderr
    if refused:
        assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
        assert (
            "q3.xlsx: the workbook's shared strings claim 99,999,999,999 different strings"
            in proc.stderr
        )
        assert table_digests(inventory) == before
    else:
        assert proc.returncode in (0, 1), (proc.returncode, proc.stderr[-2000:])


# -- formula neutralisation of what the app writes ----------------------------------------

#: text a spreadsheet would run as a formula (or, for tab and CR, hide a formula behind)
FORMULAS = ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("http://x")']


@pytest.fixture
def formulas(tmp_path) -> Path:
    """An inventory whose names, owners and notes start like formulas, with activity
    in 2026-Q1 (for the estimate)."""
    path = tmp_path / "formulas.aicl"
    with Inventory.create(path) as inv:
        models = inv.insert_logged(
            "models",
            [{"name": f, "version": "1", "owner": f, "notes": f} for f in FORMULAS],
            "t",
        )
        (site,) = inv.insert_logged(
            "sites", [{"name": "=site", "kind": "own", "country": "FR", "pue": 1.2}], "t"
        )
        deps = inv.insert_logged(
            "deployments",
            [
                {"name": f, "model_id": m, "kind": "self-hosted", "site_id": site}
                for f, m in zip(FORMULAS, models, strict=True)
            ],
            "t",
        )
        inv.insert_logged(
            "usage",
            [
                {
                    "deployment_id": d,
                    "period_start": "2026-01-01",
                    "period_end": "2026-03-31",
                    "energy_kwh": 10.0 + i,
                    "energy_boundary": "it",
                }
                for i, d in enumerate(deps)
            ],
            "t",
        )
    return path


def _runnable(cell: str) -> bool:
    """Whether a spreadsheet would take ``cell`` for a formula."""
    return cell[:1] in ("=", "+", "-", "@", "\t", "\r")


def _csv_cells(path: Path) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [c for row in list(csv.reader(fh))[1:] for c in row]


def _texts_in(cells: list[str]) -> None:
    """No cell would run, and each formula is there with its quote."""
    assert not [c for c in cells if _runnable(c) and not _is_number(c)], cells
    for f in FORMULAS:
        assert "'" + f in cells, f"{f!r} missing"


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_csv_export_neutralises_every_formula_start(formulas, tmp_path):
    with Inventory.open(formulas) as inv:
        files = export_inventory(inv, tmp_path / "export.csv")
    by_table = {f.stem.removeprefix("export-"): f for f in files}
    _texts_in(_csv_cells(by_table["models"]))
    _texts_in(_csv_cells(by_table["deployments"]))


def test_xlsx_export_neutralises_every_formula_start(formulas, tmp_path):
    out = tmp_path / "export.xlsx"
    with Inventory.open(formulas) as inv:
        export_inventory(inv, out)
    book = pc.CalamineWorkbook.from_path(str(out))
    cells = [
        c
        for name in ("Models", "Deployments")
        for row in book.get_sheet_by_name(name).to_python()[1:]
        for c in row
        if isinstance(c, str)
    ]
    _texts_in(cells)
    with zipfile.ZipFile(out) as zf:
        assert not any(b"<f>" in zf.read(n) for n in zf.namelist() if n.endswith(".xml"))


def test_import_errors_file_neutralises_the_values_it_quotes(inventory, tmp_path):
    """The errors file is made to be opened in a spreadsheet; the values and column
    headers it quotes come from the (possibly hostile) imported file."""
    bad = ["=A1", "+A1", "-A1", "@SUM(A1)", '=HYPERLINK("http://x")', "\t=A1"]
    source = tmp_path / "models.csv"
    with open(source, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["Name", "Version", "Total parameters (billion)", "=Remark"])
        w.writerows([f"B{i}", "1", v, "x"] for i, v in enumerate(bad))
    errors = tmp_path / "errors.csv"
    out = io.StringIO()
    code = cli.main(["import", str(inventory), str(source), "--errors", str(errors)], out=out)
    assert code == 1, out.getvalue()
    with open(errors, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))[1:]
    values = {row[4] for row in rows}
    assert not [c for row in rows for c in row if _runnable(c)], rows
    assert {"'" + v for v in bad if v.strip()[:1] in "=+-@"} <= values, values


@pytest.mark.parametrize(
    "args",
    [
        ["list", "{inv}", "models", "--format", "csv"],
        ["estimate", "{inv}", "--period", "2026-Q1", "--format", "csv"],
    ],
    ids=["list", "estimate"],
)
def test_command_line_csv_neutralises_names(formulas, args):
    out = io.StringIO()
    assert cli.main([a.format(inv=formulas) for a in args], out=out) == 0, out.getvalue()
    # the command line writes "\n" line ends and leaves a lone "\r" in a name unquoted:
    # read it as a visible character
    text = out.getvalue().replace("\r", "\u240d")
    cells = [c for row in list(csv.reader(io.StringIO(text)))[1:] for c in row]
    assert not [c for c in cells if _runnable(c) and not _is_number(c)], cells
    assert "'=1+1" in cells and "'@SUM(A1)" in cells


def test_chart_data_csv_neutralises_names(formulas, tmp_path, qapp):
    from core.dashboard import Bar
    from ui.charts import BarChart

    chart = BarChart("Top emitters")
    bars = [
        Bar(id=f"deployments:{i}", name=f, kind="inference", location=1.0 + i, market=1.0)
        for i, f in enumerate(FORMULAS)
    ]
    chart.set_bars(bars)
    path = chart.export_csv(str(tmp_path / "chart.csv"))
    with open(path, encoding="utf-8", newline="") as fh:
        cells = [c for row in list(csv.reader(fh))[1:] for c in row]
    assert not [c for c in cells if _runnable(c) and not _is_number(c)], cells
    assert "'=1+1" in cells
