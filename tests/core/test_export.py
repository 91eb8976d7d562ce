"""Export to XLSX/CSV/JSON and the exact round trip back through the importer."""

from __future__ import annotations

import io
import json

import pytest
import python_calamine as pc

from core import cli
from core.demo import build_demo
from core.importing import export_inventory, open_source, propose_table, write_template
from core.inventory import Inventory


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.aicl"
    inv = build_demo(path)
    with inv.transaction():  # awkward values: formula-like text, a double needing 17 digits
        inv.conn.execute(
            "INSERT INTO models (name, version, owner, params_total_b, notes) VALUES "
            "('=HYPERLINK(\"http://x\")', '', '+team', 0.30000000000000004, '''quoted''')"
        )
    inv.close()
    return path


def _json_of(path, tmp_path, name):
    out = tmp_path / f"{name}.json"
    with Inventory.open(path) as inv:
        export_inventory(inv, out)
    return json.loads(out.read_text())


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_then_import_gives_an_identical_inventory(demo, tmp_path, fmt):
    out = tmp_path / f"export.{fmt}"
    code = cli.main(["export", str(demo), str(out)], out=io.StringIO())
    assert code == 0
    files = [out] if fmt != "csv" else sorted(tmp_path.glob("export-*.csv"))
    fresh = tmp_path / "fresh.aicl"
    Inventory.create(fresh).close()
    out_text = io.StringIO()
    code = cli.main(["import", str(fresh), *map(str, files)], out=out_text)
    assert code == 0, out_text.getvalue()
    assert _json_of(fresh, tmp_path, "b") == _json_of(demo, tmp_path, "a")


def test_json_export_holds_every_table_with_exact_numbers(demo, tmp_path):
    data = _json_of(demo, tmp_path, "a")
    assert data["format"] == "ai-carbon-ledger-export"
    with Inventory.open(demo) as inv:
        for table, rows in data["tables"].items():
            assert len(rows) == inv.count(table)
    models = data["tables"]["models"]
    assert any(m["Total parameters (billion)"] == 0.30000000000000004 for m in models)


def test_xlsx_export_is_typed_frozen_and_neutralises_formulas(demo, tmp_path):
    out = tmp_path / "export.xlsx"
    with Inventory.open(demo) as inv:
        export_inventory(inv, out)
    wb = pc.CalamineWorkbook.from_path(str(out))
    assert wb.sheet_names[:3] == ["Sites", "Hardware", "Models"]
    rows = wb.get_sheet_by_name("Models").to_python()
    header = rows[0]
    assert header[:5] == ["Name", "Version", "Owner / team", "Task", "Total parameters (billion)"]
    awkward = next(r for r in rows if str(r[0]).startswith("'="))
    assert awkward[0] == '\'=HYPERLINK("http://x")' and awkward[2] == "'+team"
    assert awkward[4] == 0.30000000000000004
    runs = wb.get_sheet_by_name("Training runs").to_python()
    start = runs[0].index("Start")
    assert any(hasattr(r[start], "year") for r in runs[1:])  # date cells
    import zipfile

    with zipfile.ZipFile(out) as zf:
        sheet = zf.read("xl/worksheets/sheet3.xml").decode()
    assert 'state="frozen"' in sheet and "<cols>" in sheet and "<f>" not in sheet


def test_template_lists_columns_and_imports_as_it_is(tmp_path):
    out = tmp_path / "template.xlsx"
    write_template(out)
    sheets = {s.name: s for s in open_source(out)}
    assert "Energy boundary" in sheets["Training runs"].headers
    assert propose_table(sheets["Usage"])[0] == "usage"
    assert propose_table(sheets["Read me"])[0] is None
    inv_path = tmp_path / "inv.aicl"
    Inventory.create(inv_path).close()
    text = io.StringIO()
    code = cli.main(["import", str(inv_path), str(out), "--format", "json"], out=text)
    assert code == 0, text.getvalue()
    counts = json.loads(text.getvalue())["counts"]
    assert counts["usage"]["new"] == 2 and counts["training_runs"]["new"] == 1
