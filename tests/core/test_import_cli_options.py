"""The ``import`` command: dry runs of multi-sheet workbooks, presets (their
``create_missing`` and reference choices), exit codes and JSON for every outcome, the
wizard's choices as options (``--date-order``, ``--set``, ``--create-missing``), a
CodeCarbon duration past the calendar, and a CSV that changes while it is read."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
from pathlib import Path

import pytest

from core import cli
from core.errors import ImportReadError
from core.importing import codecarbon as cc
from core.importing import (
    export_inventory,
    iter_rows,
    open_source,
    propose_mapping,
    save_preset,
    write_template,
)
from core.importing.presets import (
    apply_preset,
    load_preset,
    load_preset_resolutions,
    read_mapping_file,
)
from core.inventory import Inventory

DATA = Path(__file__).resolve().parents[1] / "data" / "import"
TASK_LOG = DATA / "fra_emissions.csv"


def _cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = cli.main([str(a) for a in args], out=out)
    return code, out.getvalue()


def _json(*args: str) -> tuple[int, dict]:
    code, out = _cli(*args, "--format", "json")
    return code, json.loads(out)


def _digest(path: Path) -> str:
    """The inventory's records (not its bytes: closing it may store query statistics)."""
    conn = sqlite3.connect(path)
    try:
        lines = [x for x in conn.iterdump() if "sqlite_stat" not in x and "ANALYZE" not in x]
    finally:
        conn.close()
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


@pytest.fixture
def inv_path(tmp_path) -> Path:
    path = tmp_path / "inv.aicl"
    Inventory.create(path).close()
    return path


def _csv(path: Path, rows: list[list[object]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path


# -- 1. a dry run plans the sheets together, as the import does ----------------------------


def test_dry_run_of_the_template_counts_what_the_import_does(inv_path, tmp_path):
    template = write_template(tmp_path / "template.xlsx")
    before = _digest(inv_path)
    code, dry = _json("import", inv_path, template, "--dry-run")
    assert _digest(inv_path) == before
    # the usage sheet names the deployment the deployments sheet adds, and so on
    assert code == 0 and dry["problems"] == [], dry["problems"]
    code, real = _json("import", inv_path, template)
    assert code == 0 and real["imported"]
    assert dry["counts"] == real["counts"]
    assert real["counts"]["usage"]["new"] > 0 and real["counts"]["deployments"]["new"] > 0


def _workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    for name, rows in sheets.items():
        ws = book.add_worksheet(name)
        for r, row in enumerate(rows):
            ws.write_row(r, 0, row)
    book.close()
    return path


def test_dry_run_of_a_workbook_whose_sheets_come_in_any_order(inv_path, tmp_path):
    # the sheets that refer come first in the file: the import still plans the models,
    # then the deployments, then the usage naming them
    book = _workbook(
        tmp_path / "q3.xlsx",
        {
            "Usage": [
                ["Deployment", "Period start", "Period end", "Requests"],
                ["Helpdesk bot", "2026-07-01", "2026-07-31", 1200],
                ["Helpdesk bot", "2026-08-01", "2026-08-31", 1500],
            ],
            "Deployments": [
                ["Deployment", "Model", "Kind"],
                ["Helpdesk bot", "Helper 1", "API"],
            ],
            "Models": [["Model", "Version"], ["Helper", "1"]],
        },
    )
    code, dry = _json("import", inv_path, book, "--dry-run")
    assert code == 0 and dry["problems"] == [], dry["problems"]
    assert list(dry["counts"]) == ["models", "deployments", "usage"]
    code, real = _json("import", inv_path, book)
    assert code == 0 and real["counts"] == dry["counts"]
    assert real["counts"]["usage"]["new"] == 2
    # the same workbook again: unchanged, in a dry run as in the import
    assert (
        _json("import", inv_path, book, "--dry-run")[1]["counts"]
        == (_json("import", inv_path, book)[1]["counts"])
    )


def test_dry_run_refusal_and_partial_import_agree_on_an_office_workbook(inv_path, tmp_path):
    book = DATA / "inventory_q3.xlsx"
    code, dry = _json("import", inv_path, book, "--dry-run")
    assert code == 1
    before = _digest(inv_path)
    code, refused = _json("import", inv_path, book)
    assert code == 1 and not refused["imported"] and _digest(inv_path) == before
    code, partial = _json("import", inv_path, book, "--skip-invalid")
    assert code == 1 and partial["imported"]
    assert dry["counts"] == refused["counts"] == partial["counts"]
    assert refused["problems"] == dry["problems"]


def test_an_exported_inventory_dry_runs_as_it_imports(tmp_path):
    from core.demo import build_demo

    build_demo(tmp_path / "demo.aicl").close()
    with Inventory.open(tmp_path / "demo.aicl") as demo:
        export_inventory(demo, tmp_path / "out.xlsx")
    fresh = tmp_path / "fresh.aicl"
    Inventory.create(fresh).close()
    code, dry = _json("import", fresh, tmp_path / "out.xlsx", "--dry-run")
    code_real, real = _json("import", fresh, tmp_path / "out.xlsx")
    assert (code, dry["counts"]) == (code_real, real["counts"])
    assert dry["problems"] == real["problems"] == []


# -- 2. presets keep create_missing and the reference choices ------------------------------


def test_a_mapping_file_keeps_create_missing(inv_path, tmp_path):
    sheet = open_source(TASK_LOG)[0]
    mapping = propose_mapping(sheet, "codecarbon")
    assert mapping.create_missing
    mfile = tmp_path / "cc_map.json"
    mfile.write_text(json.dumps(mapping.to_json()))
    assert apply_preset(sheet, read_mapping_file(mfile)).create_missing == mapping.create_missing
    without = tmp_path / "without.aicl"
    Inventory.create(without).close()
    code, plain = _json("import", without, TASK_LOG)
    assert code == 0
    code, mapped = _json("import", inv_path, TASK_LOG, "--mapping", mfile)
    assert code == 0, mapped["problems"][:3]
    assert mapped["counts"] == plain["counts"]


def test_a_preset_keeps_the_reference_choices(inv_path, tmp_path):
    data = _csv(
        tmp_path / "runs.csv",
        [
            ["Run name", "Model", "GPU type", "No. of GPUs", "Start date", "End date", "Region"],
            ["r1", "Helper", "A100-80GB", 8, "2026-07-01", "2026-07-02", "Head office"],
            ["r2", "Helper", "A100-80GB", 4, "2026-07-03", "2026-07-04", "Head office"],
        ],
    )
    with Inventory.open(inv_path) as inv:
        model = inv.insert_logged("models", [{"name": "Helper", "version": "1"}], "t")[0]
        card = next(i for i, t in inv.ref_options("hardware") if t == "NVIDIA A100 PCIe 80GB")
        mapping = propose_mapping(open_source(data)[0], "training_runs")
        mapping.defaults["kind"] = "fine-tuning"
        choices = {
            ("model_id", "Helper"): model,
            ("hardware_id", "A100-80GB"): card,  # SXM4 or PCIe? the user said
            ("site_id", "Head office"): "create",
            ("deployment_id", "Not in this table"): 1,  # no mapping has it: not kept
        }
        save_preset(inv, "Quarterly runs", [mapping], choices)
        assert load_preset_resolutions(inv, "Quarterly runs") == {
            k: v for k, v in choices.items() if k[0] != "deployment_id"
        }
        assert load_preset(inv, "Quarterly runs")[0].defaults == {"kind": "fine-tuning"}
    # without the choices the file does not import; with the preset in one step
    assert _cli("import", inv_path, data, "--dry-run")[0] == 1
    code, out = _json("import", inv_path, data, "--mapping", "Quarterly runs")
    assert code == 0, out["problems"]
    with Inventory.open(inv_path) as inv:
        rows = inv.conn.execute(
            "SELECT r.hardware_id, r.model_id, s.name FROM training_runs r "
            "JOIN sites s ON s.id = r.site_id"
        ).fetchall()
    assert rows == [(card, model, "Head office")] * 2


def test_saved_choices_that_no_longer_hold_are_left_out(inv_path):
    with Inventory.open(inv_path) as inv:
        first, second = inv.insert_logged(
            "models", [{"name": "Alpha", "version": "1"}, {"name": "Beta", "version": "1"}], "t"
        )
        mapping = propose_mapping(
            _sheet_of(inv_path.parent, "Run name,Model\nr,a\n"), "training_runs"
        )
        save_preset(inv, "P", [mapping], {("model_id", "a"): first, ("model_id", "b"): second})
        # Beta is deleted and its id taken by another model; Alpha renamed (its id holds)
        inv.conn.execute("UPDATE models SET name = 'Alpha renamed' WHERE id = ?", (first,))
        inv.conn.execute("DELETE FROM models WHERE id = ?", (second,))
        inv.conn.execute(
            "INSERT INTO models (id, name, version) VALUES (?, 'Gamma', '1')", (second,)
        )
        inv.conn.commit()
        assert load_preset_resolutions(inv, "P") == {}
        # a preset saved before presets kept choices: none, and its mappings as before
        inv.conn.execute(
            "INSERT INTO import_presets (name, mappings, updated_at) VALUES ('Old', ?, 'x')",
            (json.dumps([mapping.to_json()]),),
        )
        inv.conn.commit()
        assert load_preset_resolutions(inv, "Old") == {}
        assert load_preset(inv, "Old")[0].columns == mapping.columns


def test_a_saved_choice_follows_its_record_by_title(inv_path):
    with Inventory.open(inv_path) as inv:
        (first,) = inv.insert_logged("models", [{"name": "Alpha", "version": "1"}], "t")
        mapping = propose_mapping(
            _sheet_of(inv_path.parent, "Run name,Model\nr,a\n"), "training_runs"
        )
        save_preset(inv, "P", [mapping], {("model_id", "a"): first})
        # the record went and came back (an undone and repeated import): a new id
        inv.conn.execute("DELETE FROM models WHERE id = ?", (first,))
        inv.conn.execute(
            "INSERT INTO models (id, name, version) VALUES (?, 'Alpha', '1')", (first + 5,)
        )
        inv.conn.commit()
        assert load_preset_resolutions(inv, "P") == {("model_id", "a"): first + 5}


def _sheet_of(folder: Path, text: str):
    path = folder / "shape.csv"
    path.write_text(text)
    return open_source(path)[0]


# -- 3. exit codes and output --------------------------------------------------------------


def test_an_unknown_preset_is_a_usage_error(inv_path, tmp_path, capsys):
    data = _csv(tmp_path / "m.csv", [["Model", "Version"], ["A", "1"]])
    assert _cli("import", inv_path, data, "--mapping", "Nope")[0] == 2
    assert "no mapping preset called 'Nope'" in capsys.readouterr().err
    assert _cli("import", inv_path, data, "--mapping", tmp_path / "gone.json")[0] == 2
    assert "gone.json: there is no such mapping file" in capsys.readouterr().err
    code, doc = _json("import", inv_path, data, "--mapping", "Nope")
    assert code == 2 and not doc["imported"] and doc["counts"] == {}
    assert "no mapping preset called 'Nope'" in doc["error"]


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"columns": [{"index": 0, "header": "Model", "field": "nosuch", "unit": None,
                       "confidence": 1}]}, "'nosuch' is not a field of models"),
        ({"table": "training_runs", "columns": [{"index": 1, "header": "Parameters",
          "field": "energy_kwh", "unit": "W", "confidence": 1}]}, "column 1: 'W' is not a unit"),
        ({"date_order": "ymd"}, "'date_order' is 'ymd'"),
        ({"defaults": {"colour": "red"}}, "'defaults' names 'colour'"),
        ({"create_missing": ["owner"]}, "'create_missing' names 'owner'"),
    ],
)  # fmt: skip
def test_a_mapping_file_that_does_not_fit_its_table_is_a_read_error(
    inv_path, tmp_path, capsys, change, says
):
    data = _csv(tmp_path / "m.csv", [["Model", "Parameters"], ["A", "7"]])
    column = {"index": 0, "header": "Model", "field": "name", "unit": None, "confidence": 1}
    good = {"table": "models", "columns": [column]}
    mfile = tmp_path / "map.json"
    mfile.write_text(json.dumps({**good, **change}))
    before = _digest(inv_path)
    assert _cli("import", inv_path, data, "--mapping", mfile)[0] == 2
    err = capsys.readouterr().err
    assert "map.json: not a mapping" in err and says in err, err
    code, doc = _json("import", inv_path, data, "--mapping", mfile)
    assert code == 2 and says in doc["error"]
    assert _digest(inv_path) == before


def test_a_mapping_that_fits_no_sheet_is_a_usage_error(inv_path, tmp_path, capsys):
    data = _csv(tmp_path / "m.csv", [["Thing", "Size"], ["A", "7"]])
    mfile = tmp_path / "map.json"
    column = {"index": 0, "header": "Model", "field": "name", "unit": None, "confidence": 1}
    mfile.write_text(json.dumps({"table": "models", "columns": [column]}))
    assert _cli("import", inv_path, data, "--mapping", mfile)[0] == 2
    assert "fits none of its columns" in capsys.readouterr().err


def test_read_errors_are_json_documents_with_format_json(inv_path, tmp_path, capsys):
    for bad in (tmp_path / "missing.csv", _csv(tmp_path / "empty.csv", [])):
        code, doc = _json("import", inv_path, bad)
        assert code == 2
        assert doc["imported"] is False and doc["counts"] == {} and doc["problems"] == []
        assert bad.name in doc["error"]
        assert bad.name in capsys.readouterr().err  # and said on stderr as before
    code, doc = _json("import", inv_path, _csv(tmp_path / "ok.csv", [["Model"], ["A"]]))
    assert code == 0 and doc["error"] is None


def test_a_refused_import_reports_its_counts_per_table(inv_path, tmp_path):
    data = _csv(
        tmp_path / "models.csv",
        [["Model", "Version", "Parameters (billions)"], ["A", "1", "seven"], ["B", "1", "3"],
         ["C", "1", "4"]],
    )  # fmt: skip
    errors = tmp_path / "errors.csv"
    code, doc = _json("import", inv_path, data, "--errors", errors)
    assert code == 1 and not doc["imported"]
    assert doc["counts"] == {"models": {"new": 2, "changed": 0, "unchanged": 0, "skipped": 1}}
    assert [p["row"] for p in doc["problems"]] == [2]
    assert "seven" in errors.read_text(encoding="utf-8-sig")
    code, text = _cli("import", inv_path, data)
    assert code == 1
    assert "Nothing was imported" in text
    assert "models: 2 new, 0 changed, 0 unchanged, 1 skipped" in text


def test_a_refusal_lists_the_sheets_after_one_that_cannot_be_imported(inv_path, tmp_path):
    book = _workbook(
        tmp_path / "two.xlsx",
        {
            "Models": [["Version", "Owner"], ["1", "Ops"]],  # no model name column
            "Sites": [["Site", "Kind", "Country"], ["Lab", "own", "FR"], ["Lab 2", "moon", "FR"]],
        },
    )
    code, dry = _json("import", inv_path, book, "--dry-run")
    code_real, real = _json("import", inv_path, book)
    assert code == code_real == 1
    assert real["counts"] == dry["counts"]
    assert {p["sheet"] for p in real["problems"]} == {"Models", "Sites"}


# -- 4. the wizard's choices as options ----------------------------------------------------


def _ambiguous_runs(path: Path) -> Path:
    return _csv(
        path,
        [["Run name", "Model", "Kind", "GPU type", "No. of GPUs", "Start date", "End date",
          "Wall time (h)"],
         ["r1", "Helper 1", "Fine-tuning", "NVIDIA T4", 2, "03/04/2026", "05/04/2026", 10]],
    )  # fmt: skip


def test_date_order_settles_ambiguous_dates_and_the_question_names_it(inv_path, tmp_path):
    data = _ambiguous_runs(tmp_path / "runs.csv")
    with Inventory.open(inv_path) as inv:
        inv.insert_logged("models", [{"name": "Helper", "version": "1"}], "t")
    code, text = _cli("import", inv_path, data)
    assert code == 1
    assert "choose the date order with --date-order dmy or --date-order mdy" in text
    code, doc = _json("import", inv_path, data, "--date-order", "mdy", "--dry-run")
    assert code == 0, doc["problems"]
    assert _cli("import", inv_path, data, "--date-order", "dmy")[0] == 0
    with Inventory.open(inv_path) as inv:
        row = inv.conn.execute("SELECT start_date, end_date FROM training_runs").fetchone()
    assert row == ("2026-04-03", "2026-04-05")


def test_set_gives_a_value_to_every_row(inv_path, tmp_path):
    data = _csv(
        tmp_path / "runs.csv",
        [["Run name", "Model", "Kind", "Start date", "End date", "Wall time (h)"],
         ["r1", "Helper 1", "Experiments", "2026-07-01", "2026-07-02", 10],
         ["r2", "Helper 1", "", "2026-07-03", "2026-07-04", 12]],
    )  # fmt: skip
    with Inventory.open(inv_path) as inv:
        inv.insert_logged("models", [{"name": "Helper", "version": "1"}], "t")
    code, doc = _json(
        "import", inv_path, data,
        "--set", "kind=Fine-tuning",  # by label: stored as its value; replaces the column
        "--set", "site=us-central1",  # a reference: matched as a cell is
        "--set", "Energy boundary=facility",
        "--set", "training_runs.avg_power_w=0.35 kW",  # a unit in the value, as in a cell
    )  # fmt: skip
    assert code == 0, doc
    with Inventory.open(inv_path) as inv:
        rows = inv.conn.execute(
            "SELECT r.kind, s.name, r.energy_boundary, r.avg_power_w FROM training_runs r "
            "JOIN sites s ON s.id = r.site_id ORDER BY r.name"
        ).fetchall()
    assert rows == [("fine-tuning", "GCP us-central1 (Iowa)", "facility", 350.0)] * 2


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("kind=galactic", "--set kind=galactic: Kind must be one of"),
        ("colour=red", "'colour' is not a field of training runs (fields: name, model"),
        ("kind", "write FIELD=VALUE"),
        ("kind=", "give a value"),
        ("avg_power_w=5 kWh", "avg_power_w=5 kWh: Average power"),
        ("usage.requests=3", "no sheet of this import is usage"),
    ],
)
def test_a_set_that_does_not_fit_is_a_usage_error(inv_path, tmp_path, capsys, value, says):
    data = _ambiguous_runs(tmp_path / "runs.csv")
    before = _digest(inv_path)
    assert _cli("import", inv_path, data, "--set", value)[0] == 2
    assert says in capsys.readouterr().err
    code, doc = _json("import", inv_path, data, "--set", value)
    assert code == 2 and says in doc["error"]
    assert _digest(inv_path) == before


def test_set_in_a_workbook_of_several_tables(inv_path, tmp_path):
    template = write_template(tmp_path / "template.xlsx")
    # "kind" is a field of several tables with different choices: refused, with the way out
    code, doc = _json("import", inv_path, template, "--set", "kind=cloud", "--dry-run")
    assert code == 2 and "TABLE.FIELD=VALUE" in doc["error"]
    code, doc = _json("import", inv_path, template, "--set", "deployments.kind=self-hosted")
    assert code == 0, doc
    with Inventory.open(inv_path) as inv:
        assert {r[0] for r in inv.conn.execute("SELECT kind FROM deployments")} == {"self-hosted"}


def test_set_site_replaces_a_codecarbon_logs_location(inv_path):
    code, doc = _json("import", inv_path, TASK_LOG, "--set", "site=GCP europe-west9 (Paris)")
    assert code == 0, doc["problems"][:3]
    with Inventory.open(inv_path) as inv:
        sites = inv.conn.execute(
            "SELECT DISTINCT s.name FROM training_runs r JOIN sites s ON s.id = r.site_id"
        ).fetchall()
    assert sites == [("GCP europe-west9 (Paris)",)]


def test_create_missing_creates_unknown_hardware_sites_and_models(inv_path, tmp_path):
    data = _csv(
        tmp_path / "runs.csv",
        [["Run name", "Model", "Kind", "GPU type", "No. of GPUs", "Start date", "End date",
          "Wall time (h)", "Region"],
         ["r1", "Brand new model", "Experiments", "Blorp 9000", 2, "2026-07-01", "2026-07-02",
          10, "Atlantis"]],
    )  # fmt: skip
    code, doc = _json("import", inv_path, data)
    assert code == 1 and {p["column"] for p in doc["problems"]} == {"Model", "GPU type", "Region"}
    code, dry = _json("import", inv_path, data, "--create-missing", "--dry-run")
    assert code == 0, dry["problems"]
    code, doc = _json("import", inv_path, data, "--create-missing")
    assert code == 0 and doc["counts"] == dry["counts"]
    with Inventory.open(inv_path) as inv:
        row = inv.conn.execute(
            "SELECT m.name, h.name, s.name FROM training_runs r JOIN models m ON m.id = r.model_id "
            "JOIN hardware h ON h.id = r.hardware_id JOIN sites s ON s.id = r.site_id"
        ).fetchone()
    assert row == ("Brand new model", "Blorp 9000", "Atlantis")


def test_the_new_options_are_in_the_help():
    text = io.StringIO()
    with pytest.raises(SystemExit):
        import contextlib

        with contextlib.redirect_stdout(text):
            cli.main(["import", "--help"])
    for option in ("--date-order", "--set", "--create-missing"):
        assert option in text.getvalue()


# -- 5. a CodeCarbon duration past the calendar ---------------------------------------------


@pytest.mark.parametrize("duration", ["1e11", "-3e11", "1e308", "-1e308", "3e13"])
@pytest.mark.parametrize("into", ["training_runs", "usage"])
def test_a_codecarbon_duration_past_the_calendar_is_a_row_problem(duration, into):
    get = {"timestamp": "2026-07-01T10:00:00", "project_name": "p", "duration": duration,
           "energy_consumed": "1.5", "run_id": "abc"}  # fmt: skip
    values, problems = cc.row_values(get, into)
    field = "wall_hours" if into == "training_runs" else "device_hours"
    assert f"duration '{duration}' s" in problems[field]
    assert cc.problem_column(field, {"duration": "duration"}) == "duration"
    assert values["energy_kwh"] == 1.5


def test_a_codecarbon_log_with_such_a_duration_imports_its_other_rows(inv_path, tmp_path):
    with open(TASK_LOG, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    rows[1][rows[0].index("duration")] = "1e308"
    data = _csv(tmp_path / "emissions.csv", rows)
    before = _digest(inv_path)
    code, doc = _json("import", inv_path, data)
    assert code == 1 and _digest(inv_path) == before
    (problem,) = doc["problems"]
    assert (problem["row"], problem["column"]) == (2, "duration")
    assert "'1e308'" in problem["reason"]
    code, doc = _json("import", inv_path, data, "--skip-invalid")
    assert code == 1 and doc["imported"]
    assert doc["counts"]["training_runs"]["skipped"] == 1


# -- 6. a CSV that changes while it is read --------------------------------------------------


def test_a_csv_that_stops_decoding_while_read_names_the_line_not_a_byte(tmp_path):
    path = tmp_path / "usage.csv"
    lines = ["Name,Kind"] + [f"site {i},own" for i in range(20_000)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sheet = open_source(path)[0]
    assert sheet.dialect.encoding.startswith("utf-8")
    # rewritten after it was checked and opened: bytes that are not UTF-8 far down
    data = path.read_bytes()
    cut = data.index(b"site 15000,")
    path.write_bytes(data[:cut] + b"caf\xff,own\n" + data[cut:])
    with pytest.raises(ImportReadError) as err:
        for _ in iter_rows(sheet):
            pass
    message = str(err.value)
    assert message.startswith("usage.csv, after line ")
    line = int(message.split("after line ")[1].split(":")[0].replace(",", ""))
    assert 0 < line <= 15_002
    assert "byte" not in message and "changed while it was being read" in message
