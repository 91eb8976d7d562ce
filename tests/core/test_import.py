"""Importing real files: reading, mapping, conversion, matching, plans, commit and undo."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from core import cli
from core.commands import ImportBatch, UndoImport
from core.errors import ImportCancelled, ImportInvalidError, LedgerError
from core.importing import (
    commit_import,
    list_presets,
    load_preset,
    matching,
    open_source,
    plan_import,
    preview_rows,
    propose_mapping,
    propose_table,
    save_preset,
    target_fields,
    undo_import,
    units,
)
from core.importing.csvsniff import detect_delimiter, detect_encoding
from core.importing.dates import parse_date
from core.importing.presets import apply_preset
from core.inventory import Inventory

DATA = Path(__file__).resolve().parents[1] / "data" / "import"
CODECARBON = sorted(DATA.glob("*_emissions.csv"))


def _sheet(path, name=None):
    sheets = open_source(path)
    return next(s for s in sheets if name is None or s.name == name)


def _digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _resolve_all(plan):
    return {(u.field, u.value): "create" for u in plan.unresolved}


# -- reading --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["inventory_q3.xlsx", "inventory_q3.ods"])
def test_office_suite_workbook_headers_title_rows_merged_cells_hidden_sheet(name):
    sheets = {s.name: s for s in open_source(DATA / name)}
    assert sheets["Lists"].hidden and not sheets["Models"].hidden
    models = sheets["Models"]
    assert models.header_row == 2  # a title row and a blank row above
    assert models.headers == ["Model", "Version", "Team", "Task", "Parameters (billions)"]
    runs = sheets["Training runs"]
    # the two-row header is joined under its merged group cells (for ODS, whose merges
    # the reader does not report, they are read from the file: core.importing.ods_merges)
    assert runs.headers[0] == "Run Run name"
    assert runs.headers[-2].endswith("Energy [MWh]")
    mapping = propose_mapping(runs, "training_runs")
    assert [(c.field, c.unit) for c in mapping.columns][4:6] == [
        ("device_count", None),
        ("wall_hours", "days"),
    ]
    first = preview_rows(runs, 1)[0]
    assert first[6] == dt.date(2026, 7, 1)  # a date cell stays a date
    assert propose_table(runs)[0] == "training_runs"
    assert propose_table(sheets["Lists"])[0] is None


def test_csv_from_a_french_excel_encoding_delimiter_decimal_comma():
    sheet = _sheet(DATA / "sourcing_fr.csv")
    assert sheet.dialect.encoding == "cp1252"
    assert sheet.dialect.delimiter == ";"
    assert sheet.dialect.decimal_comma
    assert sheet.headers[2] == "Région réseau"
    mapping = propose_mapping(sheet, "sourcing")
    fields = {c.header: (c.field, c.unit) for c in mapping.columns}
    assert fields["Volume (MWh)"] == ("mwh", "MWh")
    assert fields["Début"] == ("period_start", None)
    assert mapping.date_order == "dmy"  # 31/12/2026 in the column settles it


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-16", b""), ("cp1252", b"")],
)
def test_csv_encodings_and_line_endings(tmp_path, encoding, bom):
    text = "Name\tKind\tCountry\r\nSalle serveur Zürich\tOwn data centre\tCH\r\n"
    path = tmp_path / "sites.tsv"
    path.write_bytes(bom + text.encode(encoding))
    sheet = _sheet(path)
    assert sheet.headers == ["Name", "Kind", "Country"]
    assert preview_rows(sheet)[0][0] == "Salle serveur Zürich"


def test_sniffing_helpers():
    assert detect_encoding("é".encode()) == "utf-8"
    assert detect_encoding("é".encode("cp1252")) == "cp1252"
    assert detect_delimiter("a;b;c\n1;2,5;3\n") == ";"
    assert detect_delimiter("a,b\n1,2\n") == ","


# -- units, dates, matching ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "unit"),
    [
        ("Power (kW)", "kW"),
        ("Energy [MWh]", "MWh"),
        ("Duration (days)", "days"),
        ("gCO2/kWh", "gCO2/kWh"),
        ("Device time in GPU-hours", "GPU-hours"),
        ("Region", None),
    ],
)
def test_header_units(header, unit):
    assert units.header_unit(header) == unit


def test_unit_conversion_to_stored_units():
    assert units.factor("kW", "W") == 1000
    assert units.factor("MWh", "kWh") == 1000
    assert units.factor("J", "kWh") == pytest.approx(1 / 3.6e6)
    assert units.factor("days", "h") == 24
    assert units.factor("device-days", "h") == 24
    assert units.factor("t", "kgCO2e") == 1000
    assert units.factor("lb", "kgCO2e") == pytest.approx(0.45359237)
    assert units.factor("kgCO2e/MWh", "gCO2e/kWh") == 1
    assert units.factor("fraction", "%") == 100
    with pytest.raises(ValueError, match="not a unit of a power"):
        units.factor("kg", "W")
    assert units.parse_number("1.234,5", decimal_comma=True) == 1234.5
    assert units.parse_number("1,234.5") == 1234.5
    with pytest.raises(ValueError, match="finite"):
        units.parse_number("nan")


def test_dates():
    assert parse_date("2026-03-04T10:00:00+02:00") == "2026-03-04"
    assert parse_date(46000.0) == "2025-12-09"  # an Excel serial number
    assert parse_date("13/04/2026") == "2026-04-13"
    assert parse_date("03/04/2026", "mdy") == "2026-03-04"
    assert parse_date("3 Jan 2026") == "2026-01-03"
    with pytest.raises(ValueError, match="date order"):
        parse_date("03/04/2026")
    with pytest.raises(ValueError, match="not a real date"):
        parse_date("31/02/2026")


def test_hardware_names_match_with_confidence(inv):
    cands = matching.hardware_candidates(inv.ref_options("hardware"))

    def best(text):
        return inv.title("hardware", matching.decide(matching.match_hardware(text, cands)))

    assert best("NVIDIA A100 SXM4 40 GB") == "NVIDIA A100 SXM4"
    # no form factor: SXM4 or PCIe is for the user to say, with both suggested
    a100 = matching.match_hardware("A100-80GB", cands)
    assert matching.decide(a100) is None
    assert [n for _, n, _ in a100[:2]] == ["NVIDIA A100 PCIe 80GB", "NVIDIA A100 SXM4"]
    assert best("nvidia h100 sxm") == "NVIDIA H100 SXM"
    tpu = matching.match_hardware("Google TPU v4", cands)
    assert matching.decide(tpu) is None and tpu[0][1].startswith("Google TPU")
    assert matching.split_multi("8 x NVIDIA A100, 2 x T4") == [(8, "NVIDIA A100"), (2, "T4")]


def test_regions_and_countries_match_sites(inv):
    rows = inv.conn.execute(
        "SELECT id, name, coalesce(region_code,''), coalesce(country,''), "
        "coalesce(grid_region,'') FROM sites"
    ).fetchall()
    sites = [matching.SiteRow(*r) for r in rows]
    hit = matching.decide(matching.match_site("us-central1", sites))
    assert inv.title("sites", hit) == "GCP us-central1 (Iowa)"
    iowa = matching.match_site("Iowa", sites)
    assert matching.decide(iowa) is None  # GCP and Azure both have an Iowa region
    assert {n for _, n, _ in iowa[:2]} == {"GCP us-central1 (Iowa)", "Azure Central US (Iowa)"}
    assert matching.country_code("Korea (Republic of)") == "KR"
    assert all(s[2] < 0.6 for s in matching.match_site("Korea (Republic of)", sites))


def test_target_fields_carry_units():
    labels = dict(target_fields("training_runs"))
    assert labels["energy_kwh"] == "Measured energy (kWh)"
    assert "run_id" in dict(target_fields("codecarbon"))


# -- plans, commit, re-import, undo --------------------------------------------------------


def test_workbook_import_converts_units_dates_and_references(inv):
    path = DATA / "inventory_q3.xlsx"
    models = _sheet(path, "Models")
    runs = _sheet(path, "Training runs")
    mplan = plan_import(inv, models, propose_mapping(models, "models"))
    assert (mplan.new, mplan.invalid) == (2, 1)
    bad = mplan.problems[0]
    assert (bad.row, bad.column, bad.reason) == (6, "Model", "is required")
    commit_import(inv, [mplan], skip_invalid=True)
    mapping = propose_mapping(runs, "training_runs")
    rplan = plan_import(inv, runs, mapping)
    # "A100-80GB" names no form factor: listed once, with the PCIe and SXM4 cards
    (a100,) = [u for u in rplan.unresolved if u.field == "hardware_id"]
    assert a100.value == "A100-80GB"
    assert [n for _, n, _ in a100.suggestions[:2]] == ["NVIDIA A100 PCIe 80GB", "NVIDIA A100 SXM4"]
    pcie = a100.suggestions[0][0]
    rplan = plan_import(inv, runs, mapping, resolutions={("hardware_id", "A100-80GB"): pcie})
    assert rplan.invalid == 0, [p.text() for p in rplan.problems]
    result = commit_import(inv, [rplan])
    assert result.counts["training_runs"]["new"] == 3
    rows = {
        r[0]: r[1:]
        for r in inv.conn.execute(
            "SELECT t.name, h.name, t.device_count, t.wall_hours, t.energy_kwh, t.start_date, "
            "t.energy_boundary FROM training_runs t JOIN hardware h ON h.id = t.hardware_id"
        )
    }
    assert rows["ft-q3-a"] == ("NVIDIA A100 SXM4", 16, 168.0, 1250.0, "2026-07-01", "it")
    assert rows["ft-q3-b"][0] == "NVIDIA A100 PCIe 80GB"
    assert rows["emb-q3"][:2] == ("NVIDIA H100 SXM", 8)  # "8 x ..." gives the device count
    assert rows["emb-q3"][-1] == "facility"


def test_percent_cells_read_as_fractions(inv):
    sheet = _sheet(DATA / "inventory_q3.ods", "Sourcing")
    plan = plan_import(inv, sheet, propose_mapping(sheet, "sourcing"))
    assert plan.preview[0]["values"]["share_pct"] == 75


def test_codecarbon_logs_become_training_runs_with_measured_energy(inv):
    sheets = [_sheet(p) for p in CODECARBON]
    plans = []
    for s in sheets:
        assert propose_table(s) == ("codecarbon", 1.0)
        plans.append(plan_import(inv, s, propose_mapping(s, "codecarbon")))
    assert sum(p.new for p in plans) == 10 and not any(p.problems for p in plans)
    result = commit_import(inv, plans)
    assert result.counts == {
        "training_runs": {"new": 10, "changed": 0, "unchanged": 0, "skipped": 0}
    }
    row = inv.conn.execute(
        "SELECT t.energy_kwh, t.energy_boundary, t.wall_hours, s.name, m.name, t.data_source "
        "FROM training_runs t JOIN sites s ON s.id = t.site_id JOIN models m "
        "ON m.id = t.model_id WHERE external_id = '6df8dc49-a9b8-4d4d-8b6b-8e4dee51bd4a'"
    ).fetchone()
    assert row[0] == pytest.approx(3.116152794892462e-05)  # kWh as logged, no PUE added
    assert row[1] == "it"
    assert row[2] == pytest.approx(4.018153804999997 / 3600)
    assert row[3:] == ("GCP us-central1 (Iowa)", "cloud-train", "CodeCarbon 3.3.2")
    # CodeCarbon applied a PUE of 1.4 to this run: its energy covers the facility
    boundary = inv.conn.execute(
        "SELECT energy_boundary FROM training_runs "
        "WHERE external_id = '045d97d7-7a38-41d2-b09c-95a3728682d2'"
    ).fetchone()[0]
    assert boundary == "facility"
    # the same experiment_id in every file is not a key: all ten runs are distinct
    assert inv.count("training_runs") == 10


def test_reimport_updates_changed_rows_instead_of_duplicating(inv, tmp_path):
    src = tmp_path / "emissions.csv"
    shutil.copy(CODECARBON[0], src)
    sheet = _sheet(src)
    commit_import(inv, [plan_import(inv, sheet, propose_mapping(sheet, "codecarbon"))])
    text = src.read_text().replace("3.116297226531209e-05", "4.5e-05")
    src.write_text(text)
    sheet = _sheet(src)
    plan = plan_import(inv, sheet, propose_mapping(sheet, "codecarbon"))
    assert (plan.new, plan.changed, plan.unchanged) == (0, 1, 3)
    result = commit_import(inv, [plan])
    assert result.counts["training_runs"]["changed"] == 1
    assert inv.count("training_runs") == 4
    energies = [r[0] for r in inv.conn.execute("SELECT energy_kwh FROM training_runs")]
    assert 4.5e-05 in energies


def test_undo_import_is_one_step_and_redo_restores_the_same_ids(inv, tmp_path):
    before = {t: inv.count(t) for t in ("training_runs", "models", "hardware", "sites")}
    sheets = [_sheet(p) for p in CODECARBON]
    plans = [plan_import(inv, s, propose_mapping(s, "codecarbon")) for s in sheets]
    undo = ImportBatch(plans).apply(inv)
    assert isinstance(undo, UndoImport)
    ids = [r[0] for r in inv.conn.execute("SELECT id FROM training_runs ORDER BY id")]
    assert len(ids) == 10
    redo = undo.apply(inv)
    assert {t: inv.count(t) for t in before} == before
    assert "undo" in inv.change_log(1)[0]["description"].lower()
    again = redo.apply(inv)
    assert [r[0] for r in inv.conn.execute("SELECT id FROM training_runs ORDER BY id")] == ids
    again.apply(inv)
    assert {t: inv.count(t) for t in before} == before
    with pytest.raises(LedgerError, match="already undone"):
        undo_import(inv, again.import_id)


def test_import_is_logged_with_file_hash_and_mapping(inv):
    sheet = _sheet(CODECARBON[0])
    result = commit_import(inv, [plan_import(inv, sheet, propose_mapping(sheet, "codecarbon"))])
    file_name, sha, mapping, counts = inv.conn.execute(
        "SELECT file_name, sha256, mapping, counts FROM imports_log WHERE id = ?",
        (result.import_id,),
    ).fetchone()
    assert file_name == CODECARBON[0].name
    assert sha == _digest(CODECARBON[0])
    assert json.loads(mapping)[0]["table"] == "codecarbon"
    assert json.loads(counts)["training_runs"]["new"] == 4


def test_invalid_rows_commit_nothing_unless_skipped(inv, tmp_path):
    path = tmp_path / "models.csv"
    path.write_text("Model,Version,Parameters (billions)\nA,1,7\nB,1,lots\nA,1,8\n")
    sheet = _sheet(path)
    plan = plan_import(inv, sheet, propose_mapping(sheet, "models"))
    assert (plan.new, plan.invalid) == (1, 2)
    reasons = {(p.row, p.column): p.reason for p in plan.problems}
    assert reasons[(3, "Parameters (billions)")] == "must be a number"
    assert reasons[(4, "Model")] == "repeats row 2 (same name and version)"
    with pytest.raises(ImportInvalidError):
        commit_import(inv, [plan])
    assert inv.count("models") == 0
    errors = tmp_path / "errors.csv"
    result = commit_import(inv, [plan], skip_invalid=True, errors_path=errors)
    assert result.counts["models"] == {"new": 1, "changed": 0, "unchanged": 0, "skipped": 2}
    assert "must be a number" in errors.read_text(encoding="utf-8-sig")


def test_cancel_leaves_the_inventory_unchanged(inv, tmp_path):
    path = tmp_path / "models.csv"
    path.write_text("Model\n" + "".join(f"m{i}\n" for i in range(5000)))
    sheet = _sheet(path)
    plan = plan_import(inv, sheet, propose_mapping(sheet, "models"))
    with pytest.raises(ImportCancelled):
        commit_import(inv, [plan], cancel=lambda: True)
    assert inv.count("models") == 0


def test_ten_times_tdp_and_end_before_start_are_refused(inv, tmp_path, model_id):
    path = tmp_path / "runs.csv"
    path.write_text(
        "Run,Model,Kind,GPU type,Average power per device (kW),Start,End\n"
        "r1,Support bot 2,Fine-tuning,NVIDIA T4,1,2026-01-01,2026-01-02\n"
        "r2,Support bot 2,Fine-tuning,NVIDIA T4,0.05,2026-02-01,2026-01-02\n"
    )
    sheet = _sheet(path)
    plan = plan_import(inv, sheet, propose_mapping(sheet, "training_runs"))
    reasons = {(p.row, p.column): p.reason for p in plan.problems}
    assert "10 x the hardware's TDP (70 W)" in reasons[(2, "Average power per device (kW)")]
    assert reasons[(3, "End")].startswith("is before the start")


def test_presets_saved_in_the_inventory_reapply_by_header(inv, tmp_path):
    sheet = _sheet(DATA / "sourcing_fr.csv")
    mapping = propose_mapping(sheet, "sourcing")
    save_preset(inv, "French sourcing", [mapping])
    assert list_presets(inv) == ["French sourcing"]
    moved = tmp_path / "next_quarter.csv"
    moved.write_bytes(
        "Volume (MWh);Nom;Instrument;Région réseau;Début;Fin\r\n"
        "10,5;Contrat;Green tariff;FR;01/04/2026;30/06/2026\r\n".encode("cp1252")
    )
    again = apply_preset(_sheet(moved), load_preset(inv, "French sourcing"))
    assert again.columns[0].field == "mwh" and again.date_order == "dmy"
    plan = plan_import(inv, _sheet(moved), again)
    assert plan.preview[0]["values"]["mwh"] == 10.5
    with pytest.raises(LedgerError, match="no mapping preset"):
        load_preset(inv, "nope")


# -- the command line ----------------------------------------------------------------------


def _cli(*args: str, capsys=None) -> tuple[int, str]:
    import io

    out = io.StringIO()
    code = cli.main(list(args), out=out)
    return code, out.getvalue()


def test_cli_import_codecarbon_then_reimport(tmp_path):
    path = tmp_path / "inv.aicl"
    Inventory.create(path).close()
    code, out = _cli("import", str(path), *map(str, CODECARBON), "--format", "json")
    assert code == 0
    summary = json.loads(out)
    assert summary["counts"]["training_runs"]["new"] == 10 and summary["problems"] == []
    code, out = _cli("import", str(path), *map(str, CODECARBON))
    assert code == 0 and "0 new, 0 changed, 10 unchanged" in out


def test_cli_invalid_rows_exit_1_and_write_nothing(tmp_path):
    path = tmp_path / "inv.aicl"
    Inventory.create(path).close()
    digest = _digest(path)
    code, out = _cli("import", str(path), str(DATA / "inventory_q3.xlsx"), "--sheet", "Models")
    assert code == 1
    assert "inventory_q3.xlsx, sheet Models, row 6, column 'Model': is required" in out
    assert _digest(path) == digest
    errors = tmp_path / "errors.csv"
    code, out = _cli(
        "import", str(path), str(DATA / "inventory_q3.xlsx"), "--sheet", "Models",
        "--skip-invalid", "--errors", str(errors), "--format", "json",
    )  # fmt: skip
    assert code == 1
    assert json.loads(out)["counts"]["models"]["new"] == 2
    assert "is required" in errors.read_text(encoding="utf-8-sig")


def test_cli_whole_workbook_in_dependency_order_and_dry_run(tmp_path):
    path = tmp_path / "inv.aicl"
    Inventory.create(path).close()
    digest = _digest(path)
    code, out = _cli("import", str(path), str(DATA / "inventory_q3.ods"), "--dry-run")
    assert code == 1 and "Dry run" in out
    assert _digest(path) == digest
    code, out = _cli(
        "import", str(path), str(DATA / "inventory_q3.ods"), "--skip-invalid", "--format", "json"
    )
    summary = json.loads(out)
    counts = summary["counts"]
    assert counts["models"]["new"] == 2 and counts["sourcing"]["new"] == 1
    # the run on "A100-80GB" (SXM4 or PCIe?) waits for the user to say which card
    assert (counts["training_runs"]["new"], counts["training_runs"]["skipped"]) == (2, 1)
    assert any(
        p["value"] == "A100-80GB" and "NVIDIA A100 SXM4" in p["reason"] for p in summary["problems"]
    )


def test_cli_mapping_file_and_kind(tmp_path):
    path = tmp_path / "inv.aicl"
    Inventory.create(path).close()
    csv_path = tmp_path / "odd.csv"
    csv_path.write_text("Thing,Size\nAlpha,7\n")
    mapping = {
        "table": "models",
        "columns": [
            {"index": 0, "header": "Thing", "field": "name", "unit": None, "confidence": 1},
            {"index": 1, "header": "Size", "field": "params_total_b", "unit": None,
             "confidence": 1},
        ],
    }  # fmt: skip
    mfile = tmp_path / "mapping.json"
    mfile.write_text(json.dumps(mapping))
    code, _ = _cli("import", str(path), str(csv_path), "--mapping", str(mfile))
    assert code == 0
    with Inventory.open(path) as inv:
        assert inv.conn.execute("SELECT params_total_b FROM models").fetchone()[0] == 7
