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
    skipped = "Estimates" if fmt == "xlsx" else "export-estimates.csv"
    assert f"{skipped}: skipped (not recognised as an inventory table)" in out_text.getvalue()
    again, original = _json_of(fresh, tmp_path, "b"), _json_of(demo, tmp_path, "a")
    assert again["tables"] == original["tables"]
    if again["estimates"]["as_of"] == original["estimates"]["as_of"]:  # not across midnight
        assert again["estimates"] == original["estimates"]  # same records, same figures


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


# -- estimates --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def engine_rows(demo):
    """The engine's rows for all time and each quarter, as ``estimate`` gives them."""
    from core.estimate import Engine
    from core.importing.exporting import ESTIMATE_SAMPLES, ESTIMATE_SEED

    with Inventory.open(demo) as inv:
        engine = Engine(inv)
        quarters = [r.id for r in engine.estimate(None, by="quarter", samples=0).rows]
        out = {}
        for period in (None, *quarters):
            est = engine.estimate(period, by="entry", samples=ESTIMATE_SAMPLES, seed=ESTIMATE_SEED)
            out[period or "All time"] = est.rows
    return out


def _estimate_headers():
    from core.importing.exporting import ESTIMATE_COLUMNS

    return [header for _, header in ESTIMATE_COLUMNS]


def _check_rows(rows, engine_rows):
    """``rows``: header row then data rows as read back; one per entry, part and period."""
    assert rows[0] == _estimate_headers()
    data = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert [d["Period"] for d in data] == [p for p, rs in engine_rows.items() for _ in rs]
    assert data[0]["Period"] == "All time" and data[-1]["Period"].startswith("20")
    for d, want in zip(data, (r for rs in engine_rows.values() for r in rs), strict=True):
        assert (d["Entry ID"], d["Part"]) == (want.id, want.part)
        assert float(d["Location-based (kgCO2e)"]) == want.location_kgco2e  # every digit
        assert float(d["Energy (kWh)"]) == want.energy_kwh
        assert float(d["P5 (kgCO2e)"]) == want.low_kgco2e
        assert float(d["P95 (kgCO2e)"]) == want.high_kgco2e
        assert float(d["Savings (kgCO2e)"]) == want.savings_kgco2e
    run = next(d for d in data if d["Entry ID"].startswith("training_runs:"))
    assert run["Phase"] == "training" and run["Scope"] == "Scope 2"
    assert {d["Part"] for d in data} == {"operational", "embodied"}


def test_xlsx_export_has_an_estimates_sheet_the_import_ignores(demo, tmp_path, engine_rows):
    out = tmp_path / "export.xlsx"
    with Inventory.open(demo) as inv:
        export_inventory(inv, out)
    wb = pc.CalamineWorkbook.from_path(str(out))
    assert wb.sheet_names[-1] == "Estimates" and wb.sheet_names.count("Estimates") == 1
    _check_rows(wb.get_sheet_by_name("Estimates").to_python(), engine_rows)
    sheets = {s.name: s for s in open_source(out)}
    assert propose_table(sheets["Estimates"])[0] is None
    assert propose_table(sheets["Training runs"])[0] == "training_runs"


def test_csv_export_writes_the_estimates_beside_the_tables(demo, tmp_path, engine_rows):
    import csv

    out = tmp_path / "export.csv"
    with Inventory.open(demo) as inv:
        written = export_inventory(inv, out)
    estimates = tmp_path / "export-estimates.csv"
    assert written[-1] == estimates
    with open(estimates, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    _check_rows(rows, engine_rows)
    assert propose_table(open_source(estimates)[0])[0] is None


def test_json_export_holds_the_estimate_documents(demo, tmp_path, engine_rows):
    import datetime as dt

    data = _json_of(demo, tmp_path, "a")
    assert list(data) == ["format", "version", "tables", "estimates"]
    est = data["estimates"]
    assert dt.date.fromisoformat(est["as_of"]) <= dt.date.today()  # the day of the export
    assert (est["samples"], est["seed"], est["embodied_convention"]) == (1000, 0, "amortised")
    labels = [p["period"] and p["period"]["label"] for p in est["periods"]]
    assert labels == [None, *list(engine_rows)[1:]]
    everything = est["periods"][0]
    assert everything["by"] == "entry" and everything["uncertainty"]["samples"] == 1000
    assert set(everything["totals"]) >= {"energy_kwh", "location_kgco2e", "high_kgco2e"}
    for doc, rows in zip(est["periods"], engine_rows.values(), strict=True):
        assert [(r["id"], r["part"]) for r in doc["rows"]] == [(r.id, r.part) for r in rows]
        assert [r["location_kgco2e"] for r in doc["rows"]] == [r.location_kgco2e for r in rows]
        assert [r["p50_kgco2e"] for r in doc["rows"]] == [r.p50_kgco2e for r in rows]


def test_an_empty_inventory_exports_no_estimate_rows(tmp_path):
    path = tmp_path / "empty.aicl"
    Inventory.create(path).close()
    with Inventory.open(path) as inv:
        written = export_inventory(inv, tmp_path / "e.csv")
        export_inventory(inv, tmp_path / "e.xlsx")
    assert not (tmp_path / "e-estimates.csv").exists() and written
    rows = pc.CalamineWorkbook.from_path(str(tmp_path / "e.xlsx"))
    assert rows.get_sheet_by_name("Estimates").to_python() == [_estimate_headers()]
    data = _json_of(path, tmp_path, "e")
    assert [p["rows"] for p in data["estimates"]["periods"]] == [[]]


def test_a_cancelled_export_while_estimating_writes_nothing(demo, tmp_path):
    from core.errors import ImportCancelled

    calls = []

    def cancel():
        calls.append(1)
        return len(calls) > 2  # while the quarters' estimates are worked out

    with Inventory.open(demo) as inv, pytest.raises(ImportCancelled):
        export_inventory(inv, tmp_path / "x.csv", cancel=cancel)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args",
    [
        ["export", "{inv}", "{out}/missing/export.xlsx"],
        ["report", "{inv}", "--period", "2026-Q1", "--xlsx", "{out}/missing/report.xlsx"],
    ],
)
def test_an_output_file_that_cannot_be_written_is_named_not_the_inventory(
    demo, tmp_path, capsys, args
):
    before = demo.read_bytes()
    argv = [a.format(inv=demo, out=tmp_path) for a in args]
    assert cli.main(argv, out=io.StringIO()) == cli.EXIT_INVALID
    err = capsys.readouterr().err.strip()
    assert err.startswith("ai-carbon-ledger: Cannot write the ")
    assert f"{tmp_path}/missing/" in err and "the folder" in err and "does not exist" in err
    assert str(demo) not in err
    assert not (tmp_path / "missing").exists()
    assert demo.read_bytes() == before
