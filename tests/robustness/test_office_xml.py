"""Office files as an attacker would write them, and exports that a spreadsheet would run.

* XML inside an XLSX or ODS with entity tricks: the "billion laughs" (nested entities,
  3 GB once expanded), the quadratic blow-up (one large entity used many times), an
  external entity naming a local file, and an external DTD on a local port. The
  workbook reader (calamine) does not expand DTD entities: the import is refused at
  once with a message naming the file, nothing is expanded, fetched or read, and the
  inventory is unchanged. A DTD that is declared but not used changes nothing.
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
import time
import zipfile
from pathlib import Path

import pytest
import python_calamine as pc
import xlsxwriter

from core import cli
from core.errors import ImportReadError
from core.importing import export_inventory, open_source
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
