"""Gaps an audit of the import found: units written in cells, headers that are only a
unit, late Windows-1252 text, CodeCarbon regions and messages, the permissions of
exported files, quotes in other people's files and cards of unknown form factor."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import cli
from core.errors import ImportReadError
from core.importing import (
    codecarbon,
    commit_import,
    export_inventory,
    matching,
    open_source,
    plan_import,
    propose_mapping,
    write_template,
)
from core.importing.convert import escape_text, unescape_text
from core.importing.csvsniff import sniff
from core.importing.mapping import IMPORT_TABLES
from core.importing.plan import RowScanner
from core.inventory import Inventory
from core.output_file import write_file

DATA = Path(__file__).resolve().parents[1] / "data" / "import"


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def _cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = cli.main(list(args), out=out)
    return code, out.getvalue()


# -- 1. a unit written in a cell wins over the header's ------------------------------------


@pytest.mark.parametrize("fast", [True, False])
def test_unit_in_a_cell_wins_over_the_header_unit(inv, model_id, tmp_path, fast):
    data = _write_csv(
        tmp_path / "units.csv",
        ["Run name", "Model", "Kind", "Energy [MWh]", "Power (kW)", "Duration (days)",
         "Energy boundary"],
        [
            ["U1", "Support bot 2", "Fine-tuning", "800 kWh", "350 W", "36 h", "IT equipment"],
            ["U2", "Support bot 2", "Fine-tuning", "1.2 MWh", "0.35 kW", "1.5 days", "it"],
            ["U3", "Support bot 2", "Fine-tuning", "3600000000 J", "0.35", "2", "it"],
            ["U4", "Support bot 2", "Fine-tuning", "0.5", "350 watts", "48 hours", "it"],
        ],
    )  # fmt: skip
    sheet = open_source(data)[0]
    mapping = propose_mapping(sheet, "training_runs")
    got = {
        r.values["name"]: (r.values["energy_kwh"], r.values["avg_power_w"], r.values["wall_hours"])
        for r in RowScanner(inv, sheet, mapping, fast=fast).scan()
        if not r.problems
    }
    assert got["U1"] == (800.0, 350.0, 36.0)  # the cells' own units, not the headers'
    assert got["U2"] == (1200.0, 350.0, 36.0)
    assert got["U3"] == (pytest.approx(1000.0), 350.0, 48.0)
    assert got["U4"] == (500.0, 350.0, 48.0)


# -- 2. headers that are only a unit --------------------------------------------------------

#: the issue's example headers and the field each names, per table (any table not
#: listed: no field of the right kind, see NOT_MAPPED)
EXAMPLES: dict[str, dict[str, tuple[str, str | None]]] = {
    "GPU type": {"training_runs": ("hardware_id", None), "deployments": ("hardware_id", None)},
    "Accelerator": {
        "training_runs": ("hardware_id", None),
        "deployments": ("hardware_id", None),
    },
    "No. of GPUs": {
        "training_runs": ("device_count", None),
        "deployments": ("device_count", None),
    },
    "# chips": {"training_runs": ("device_count", None), "deployments": ("device_count", None)},
    "Power (kW)": {"training_runs": ("avg_power_w", "kW"), "hardware": ("tdp_w", "kW")},
    "Energy [MWh]": {
        "training_runs": ("energy_kwh", "MWh"),
        "usage": ("energy_kwh", "MWh"),
        "sourcing": ("mwh", "MWh"),
    },
    "Duration (days)": {"training_runs": ("wall_hours", "days")},
    "gCO2/kWh": {
        "sites": ("grid_factor_g_per_kwh", "gCO2/kWh"),
        "sourcing": ("factor_g_per_kwh", "gCO2/kWh"),
    },
    "Region": {
        "training_runs": ("site_id", None),
        "deployments": ("site_id", None),
        "sites": ("region_code", None),
        "sourcing": ("site_id", None),
    },
    "Start date": {
        "training_runs": ("start_date", None),
        "deployments": ("start_date", None),
        "usage": ("period_start", None),
        "sourcing": ("period_start", None),
    },
    "GPU-hours": {
        "training_runs": ("device_hours", "GPU-hours"),
        "usage": ("device_hours", "GPU-hours"),
    },
    "GPU hours": {
        "training_runs": ("device_hours", "GPU hours"),
        "usage": ("device_hours", "GPU hours"),
    },
    "Device-days": {
        "training_runs": ("device_hours", "Device-days"),
        "usage": ("device_hours", "Device-days"),
    },
    "kWh": {
        "training_runs": ("energy_kwh", "kWh"),
        "usage": ("energy_kwh", "kWh"),
        "sourcing": ("mwh", "kWh"),
    },
}
#: a header whose trailing word names a field of a table without the field it means
#: ("GPU type" in a sites sheet: its "type" is the site's kind); checked not to map
#: anywhere else
TAIL_ONLY = {("GPU type", "sites"), ("GPU type", "sourcing"), ("GPU type", "hardware")}


@pytest.mark.parametrize("header", sorted(EXAMPLES))
def test_issue_example_headers_map_on_every_table(tmp_path, header):
    sheet = open_source(_write_csv(tmp_path / "one.csv", [header], [["1"], ["2"]]))[0]
    for table in IMPORT_TABLES:
        column = propose_mapping(sheet, table).columns[0]
        want = EXAMPLES[header].get(table)
        if want is not None:
            assert (column.field, column.unit) == want, (header, table)
        elif (header, table) in TAIL_ONLY:
            assert column.field == "kind", (header, table)
        else:
            assert column.field is None, (header, table, column.field)


def test_unit_only_headers_convert_and_ambiguous_words_stay_unmapped(inv, model_id, tmp_path):
    data = _write_csv(
        tmp_path / "runs.csv",
        ["Run", "Model", "Kind", "Device-days", "Day"],
        [["R1", "Support bot 2", "Fine-tuning", "2", "3"]],
    )
    sheet = open_source(data)[0]
    mapping = propose_mapping(sheet, "training_runs")
    assert [c.field for c in mapping.columns] == ["name", "model_id", "kind", "device_hours", None]
    (row,) = RowScanner(inv, sheet, mapping).scan()
    assert row.values["device_hours"] == 48.0  # two device-days
    # a unit-only header fits one field only when exactly one has that dimension
    sheet = open_source(_write_csv(tmp_path / "h.csv", ["Hours", "W", "t"], [["1", "2", "3"]]))[0]
    fields = {t: [c.field for c in propose_mapping(sheet, t).columns] for t in IMPORT_TABLES}
    assert fields["training_runs"] == ["wall_hours", None, None]  # "hours" is a name there
    assert all(f == [None, None, None] for t, f in fields.items() if t != "training_runs")


# -- 3. Windows-1252 anywhere in the file ---------------------------------------------------


def _late_cp1252(path: Path, rows: int = 5000) -> Path:
    lines = ["Model;Version;Owner"] + [f"M{i};1;Team" for i in range(rows)]
    lines.append("Modèle é;1;Équipe")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return path


def test_windows_1252_after_the_first_64_kib_is_read(tmp_path):
    path = _late_cp1252(tmp_path / "late.csv")
    assert path.stat().st_size > 64 * 1024
    sheet = open_source(path)[0]
    assert sheet.dialect.encoding == "cp1252" and sheet.dialect.delimiter == ";"
    inv = Inventory.create(tmp_path / "inv.aicl")
    plan = plan_import(inv, sheet, propose_mapping(sheet, "models"))
    assert plan.new == 5001 and not plan.problems
    commit_import(inv, [plan])
    assert inv.conn.execute("SELECT owner FROM models WHERE name = 'Modèle é'").fetchone() == (
        "Équipe",
    )
    inv.close()


def test_text_in_neither_encoding_names_its_line(tmp_path):
    lines = ["Name,Kind"] + [f"site {i},own" for i in range(4000)]
    head = ("\n".join(lines) + "\n").encode()
    # a UTF-8 "é" (so not Windows-1252 either, with 0x81, which it leaves undefined)
    path = tmp_path / "bad.csv"
    path.write_bytes(head + "Zürich,own\n".encode() + b"caf\x81,own\nlast,own\n")
    with pytest.raises(ImportReadError) as err:
        open_source(path)
    assert "bad.csv, line 4003:" in str(err.value)
    assert "neither UTF-8 nor Windows-1252" in str(err.value) and "byte" not in str(err.value)
    # UTF-16 with a broken character far down: its line too
    text = "Name\tKind\r\n" + "".join(f"site {i}\town\r\n" for i in range(3000))
    data = b"\xff\xfe" + text.encode("utf-16-le") + b"\x00\xd8" + "x\town\r\n".encode("utf-16-le")
    (tmp_path / "u16.tsv").write_bytes(data)
    with pytest.raises(ImportReadError, match=r"u16\.tsv, line 3002: the text is not valid UTF-16"):
        sniff(tmp_path / "u16.tsv")


def test_utf8_split_across_check_blocks_is_utf8(tmp_path, monkeypatch):
    from core.importing import csvsniff

    monkeypatch.setattr(csvsniff, "CHECK_BLOCK", 7)  # "é" is cut by a block end somewhere
    path = tmp_path / "s.csv"
    path.write_bytes("Name,Kind\nécole éé,own\nÉté,own\n".encode())
    assert sniff(path).encoding == "utf-8"


# -- 4. CodeCarbon: the region, and messages naming the file's columns ---------------------


def _cc_rows(path: Path, edit) -> Path:
    with open(DATA / "usa_regions_emissions.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        edit(row)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def _run_sites(inv: Inventory) -> dict[str, tuple]:
    return {
        r[0]: r[1:]
        for r in inv.conn.execute(
            "SELECT t.external_id, s.name, s.country, coalesce(s.grid_region, ''), t.notes "
            "FROM training_runs t JOIN sites s ON s.id = t.site_id"
        )
    }


def test_codecarbon_region_is_the_grid_zone_the_reference_data_knows(inv):
    lab = inv.insert_logged(
        "sites", [{"name": "Austin lab", "kind": "own", "country": "US", "grid_region": "US-TX"}],
        "test",
    )[0]  # fmt: skip
    sheet = open_source(DATA / "usa_regions_emissions.csv")[0]
    commit_import(inv, [plan_import(inv, sheet, propose_mapping(sheet, "codecarbon"))])
    sites = {ext[:4]: site for ext, site in _run_sites(inv).items()}
    assert sites["cfcb"][0] == "Austin lab"  # texas: the site on the Texas grid
    assert sites["d1a5"][:2] == ("US-CA", "US")  # california: a new site, in the US
    assert sites["95a5"][:2] == ("US-WA", "US")
    assert all(s[3] is None for s in sites.values())  # nothing given up: no note
    assert (
        inv.conn.execute("SELECT count(*) FROM sites WHERE name = 'United States'").fetchone()[0]
        == 0
    )
    assert inv.title("sites", lab) == "Austin lab"


def test_codecarbon_region_unknown_falls_back_to_the_country_with_a_note(inv, tmp_path):
    def edit(row):
        row.update(country_name="Germany", country_iso_code="DEU", region="bavaria")

    sheet = open_source(_cc_rows(tmp_path / "emissions.csv", edit))[0]
    commit_import(inv, [plan_import(inv, sheet, propose_mapping(sheet, "codecarbon"))])
    runs = _run_sites(inv)
    assert len(runs) == 3
    for name, _country, _grid, notes in runs.values():
        assert name == "Germany"
        assert "bavaria" in notes and "Germany" in notes
    assert matching.grid_zone("california", "USA") == "US-CA"
    assert matching.grid_zone("TX", "United States") == "US-TX"
    assert matching.grid_zone("bavaria", "DE") is None
    assert matching.country_code("US-WA") == "US"


def test_codecarbon_kind_on_another_file_says_it_is_not_a_codecarbon_log(tmp_path):
    path = tmp_path / "inv.aicl"
    Inventory.create(path).close()
    data = _write_csv(
        tmp_path / "usage.csv",
        ["Deployment", "Start", "End", "Requests"],
        [["dep-a", "2026-01-01", "2026-01-31", "12"]],
    )
    code, _ = _cli("import", str(path), str(data), "--kind", "codecarbon", "--dry-run")
    assert code == 2
    with pytest.raises(ImportReadError) as err:
        propose_mapping(open_source(data)[0], "codecarbon")
    message = str(err.value)
    assert "usage.csv: this is not a CodeCarbon log" in message
    assert "timestamp, duration, emissions, energy_consumed" in message
    assert "project_name (or run_id)" in message


def test_codecarbon_fields_name_the_columns_they_come_from(tmp_path):
    header_of = {"run_id": "run_id", "timestamp": "Timestamp", "project_name": "project_name"}
    assert codecarbon.problem_column("external_id", header_of) == "run_id"
    assert codecarbon.problem_column("start_date", header_of) == "Timestamp"
    assert codecarbon.problem_column("model_id", header_of) == "project_name"
    del header_of["run_id"]  # a 1.x log: the key is made of project and timestamp
    assert codecarbon.problem_column("external_id", header_of) == "project_name"
    assert codecarbon.problem_column("energy_kwh", header_of) is None

    def bad(row):
        if row["region"] == "texas":
            row["timestamp"] = "soon"

    sheet = open_source(_cc_rows(tmp_path / "emissions.csv", bad))[0]
    inv = Inventory.create(tmp_path / "inv.aicl")
    (problem,) = plan_import(inv, sheet, propose_mapping(sheet, "codecarbon")).problems
    assert "timestamp 'soon' must be a timestamp" in problem.reason
    inv.close()


def test_codecarbon_problems_name_the_file_columns(tmp_path):
    path = tmp_path / "inv.aicl"
    Inventory.create(path).close()
    shutil.copy(DATA / "usa_regions_emissions.csv", tmp_path / "twice.csv")
    rows = (tmp_path / "twice.csv").read_text(encoding="utf-8").splitlines()
    (tmp_path / "twice.csv").write_text("\n".join([*rows, rows[1]]) + "\n", encoding="utf-8")
    code, out = _cli("import", str(path), str(tmp_path / "twice.csv"), "--format", "json")
    assert code == 1
    (problem,) = json.loads(out)["problems"]
    assert problem["column"] == "run_id" and "repeats row 2" in problem["reason"]

    def bad(row):
        row["timestamp"] = "soon"

    data = _cc_rows(tmp_path / "emissions.csv", bad)
    code, out = _cli("import", str(path), str(data), "--format", "json")
    assert {p["column"] for p in json.loads(out)["problems"]} == {"timestamp"}


# -- 5. exported files get the permissions of any new file ---------------------------------


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield 0o644
    os.umask(old)


def test_exported_files_get_the_umask_permissions(inv, model_id, tmp_path, umask_022):
    written = []
    for name in ("out.xlsx", "out.json", "out.csv"):
        written += export_inventory(inv, tmp_path / name)
    written.append(write_template(tmp_path / "template.xlsx"))
    written.append(write_file(tmp_path / "plain.bin", b"x"))
    assert len(written) > 4
    for path in written:
        assert path.stat().st_mode & 0o777 == umask_022, path.name
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_cancelled_csv_export_leaves_no_file(inv, model_id, tmp_path):
    from core.errors import ImportCancelled

    inv.insert_logged(
        "models", [{"name": f"m{i}", "version": ""} for i in range(6000)], "test"
    )  # more than one progress step
    with pytest.raises(ImportCancelled):
        export_inventory(inv, tmp_path / "out.csv", cancel=lambda: True)
    assert not list(tmp_path.glob("*out*"))  # neither the tables written before the cancel


# -- 6. quotes in other people's files; cards of unknown form factor -----------------------


def test_a_leading_quote_is_only_taken_off_where_the_export_puts_one(inv, tmp_path):
    data = _write_csv(
        tmp_path / "third_party.csv",
        ["Model", "Version", "Owner / team", "Notes"],
        [
            ["'quoted", "1", "''quoted", "'=already"],
            ["''=x", "1", "'", "'+1"],
            ["it's", "1", "'tab'", "'@home"],
        ],
    )
    sheet = open_source(data)[0]
    plan = plan_import(inv, sheet, propose_mapping(sheet, "models"))
    commit_import(inv, [plan])
    got = [tuple(r) for r in inv.conn.execute("SELECT name, owner, notes FROM models ORDER BY id")]
    assert got == [
        ("'quoted", "''quoted", "=already"),  # "'=already" is what the export writes for it
        ("'=x", "'", "+1"),
        ("it's", "'tab'", "@home"),
    ]


@given(st.text(alphabet="'=+-@\t\rab ", max_size=6))
def test_escape_and_unescape_make_every_text_round_trip(text):
    assert unescape_text(escape_text(text)) == text
    if text.lstrip("'")[:1] not in ("=", "+", "-", "@", "\t", "\r"):
        assert escape_text(text) == text and unescape_text(text) == text


def test_a_card_of_unknown_form_factor_is_asked_with_both_suggestions(inv, model_id, tmp_path):
    data = _write_csv(
        tmp_path / "runs.csv",
        ["Run", "Model", "Kind", "GPU type"],
        [
            ["R1", "Support bot 2", "Fine-tuning", "A100-80GB"],
            ["R2", "Support bot 2", "Fine-tuning", "NVIDIA A100-SXM4-80GB"],
            ["R3", "Support bot 2", "Fine-tuning", "A100-80GB"],
        ],
    )
    sheet = open_source(data)[0]
    plan = plan_import(inv, sheet, propose_mapping(sheet, "training_runs"))
    (unresolved,) = plan.unresolved
    assert (unresolved.value, unresolved.count) == ("A100-80GB", 2)
    names = [n for _, n, _ in unresolved.suggestions]
    assert names[:2] == ["NVIDIA A100 PCIe 80GB", "NVIDIA A100 SXM4"]
    assert plan.new == 1  # the SXM4 card is named: taken as it is
    cands = matching.hardware_candidates(inv.ref_options("hardware"))
    for text, name in (("A100 SXM4 80GB", "NVIDIA A100 SXM4"), ("nvidia a100 pcie 80gb",
                       "NVIDIA A100 PCIe 80GB"), ("L4", "NVIDIA L4")):  # fmt: skip
        assert inv.title("hardware", matching.decide(matching.match_hardware(text, cands))) == name
