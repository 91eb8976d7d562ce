"""The shipped reference data: every row sourced, numbers sane, loaded into new inventories."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from core import reference, schema
from core.inventory import Inventory
from core.reference import ReferenceDataError, load_csv, reference_dir


def _raw_rows(table: str) -> list[dict[str, str]]:
    with (reference_dir() / f"{table}.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("table", reference.SEEDED_TABLES)
def test_header_is_the_table_fields_plus_year_and_licence(table):
    with (reference_dir() / f"{table}.csv").open(encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    assert header == [*schema.table(table).field_names, "year", "licence"]


@pytest.mark.parametrize("table", reference.SEEDED_TABLES)
def test_every_shipped_row_has_a_source_year_and_licence(table):
    rows = _raw_rows(table)
    assert rows
    for row in rows:
        assert row["source"].strip(), row["name"]
        assert row["licence"].strip(), row["name"]
        years = [y.strip() for y in row["year"].split(";")]
        assert all(y.isdigit() and 1990 <= int(y) <= 2100 for y in years), row["name"]


@pytest.mark.parametrize("table", reference.SEEDED_TABLES)
def test_numbers_parse_and_lie_within_the_schema_bounds(table):
    spec = schema.table(table)
    records = load_csv(table)
    assert len(records) == len(_raw_rows(table))
    for record in records:
        for f in spec.fields:
            value = record[f.name]
            if f.is_number and value is not None:
                assert isinstance(value, float), (record["name"], f.name)
                assert f.minimum is None or value >= f.minimum
                assert f.maximum is None or value <= f.maximum
        assert record["source"].endswith(")"), record["name"]  # "<source>, <year> (<licence>)"


def test_tdps_match_the_methodology_notes():
    tdp = {r["name"]: r["tdp_w"] for r in load_csv("hardware")}
    assert tdp["NVIDIA A100 SXM4"] == 400
    assert tdp["NVIDIA H100 SXM"] == 700
    assert tdp["NVIDIA T4"] == 70
    assert tdp["NVIDIA L4"] == 72
    assert tdp["NVIDIA A100 PCIe 40GB"] == 250
    assert tdp["NVIDIA A100 PCIe 80GB"] == 300
    assert tdp["Google TPU v3"] == 450
    assert tdp["AMD MI300X"] == 750


def test_embodied_figures_only_where_sourced():
    hw = {r["name"]: r for r in load_csv("hardware")}
    assert hw["NVIDIA A100 SXM4"]["embodied_kgco2e"] == 150
    assert hw["NVIDIA H100 SXM"]["embodied_kgco2e"] == 164
    assert hw["HPE Apollo 6500 server (no GPUs)"]["embodied_kgco2e"] == 2500
    assert hw["8x NVIDIA H100 server (no GPUs)"]["embodied_kgco2e"] == 5700
    for name in ("NVIDIA H100 PCIe", "NVIDIA H100 NVL", "NVIDIA T4", "NVIDIA L4"):
        assert hw[name]["embodied_kgco2e"] is None, name
    kinds = {r["kind"] for r in hw.values()}
    assert kinds == {"accelerator", "server", "cpu"}


def test_secondary_figures_are_flagged():
    notes = {r["name"]: r["notes"] or "" for r in load_csv("hardware")}
    for name in ("NVIDIA H200 SXM", "NVIDIA B200", "AMD MI250X", "AMD MI300X"):
        assert "secondary source; verify" in notes[name], name


def test_sites_cover_the_three_clouds_and_api_providers():
    sites = load_csv("sites")
    by_name = {s["name"]: s for s in sites}
    providers = {s["provider"] for s in sites if s["kind"] == "cloud"}
    assert providers == {"AWS", "Microsoft Azure", "Google Cloud"}
    aws = by_name["AWS us-east-1 (N. Virginia)"]
    assert (aws["country"], aws["grid_region"], aws["pue"], aws["wue"]) == (
        "US",
        "SERC",
        1.15,
        0.15,
    )
    assert by_name["GCP europe-west1 (Belgium)"]["country"] == "BE"
    assert by_name["Azure West Europe (Netherlands)"]["region_code"] == "westeurope"
    openai = by_name["OpenAI API (on Azure)"]
    assert (openai["kind"], openai["pue"], openai["wue"]) == ("api", 1.20, 0.569)
    assert by_name["Anthropic API"]["pue"] is None
    for s in sites:
        assert s["country"] and len(s["country"]) == 2 and s["country"].isupper(), s["name"]
        if s["kind"] == "cloud":
            assert s["grid_factor_g_per_kwh"] is None, s["name"]
            assert s["region_code"], s["name"]


def test_a_new_inventory_holds_the_reference_data(tmp_path):
    with Inventory.create(tmp_path / "new.aicl") as inv:
        assert inv.count("hardware") == len(load_csv("hardware"))
        assert inv.count("sites") == len(load_csv("sites"))
        row = inv.conn.execute(
            "SELECT tdp_w, source FROM hardware WHERE name = 'NVIDIA H100 SXM'"
        ).fetchone()
        assert row[0] == 700
        assert "2022; 2025" in row[1]
        described = {r["description"] for r in inv.change_log(limit=1000)}
        assert described == {reference.SEED_DESCRIPTION}


def test_an_inventory_without_reference_data_is_empty(tmp_path):
    with Inventory.create(tmp_path / "bare.aicl", reference_data=False) as inv:
        assert inv.count("hardware") == inv.count("sites") == 0


@pytest.fixture
def ref_copy(tmp_path) -> Path:
    """A writable copy of the shipped reference folder."""
    folder = tmp_path / "reference"
    shutil.copytree(reference_dir(), folder)
    return folder


def _append(path: Path, line: str) -> int:
    """Append ``line`` to a CSV file; return its line number."""
    text = path.read_text(encoding="utf-8")
    path.write_text(text + line + "\n", encoding="utf-8")
    return text.count("\n") + 1


def test_a_copy_loads_like_the_original(ref_copy):
    assert load_csv("hardware", ref_copy) == load_csv("hardware")


def test_a_row_with_too_few_fields_names_file_and_line(ref_copy):
    line = _append(ref_copy / "hardware.csv", "Broken GPU,accelerator,ACME,300")
    with pytest.raises(ReferenceDataError) as err:
        load_csv("hardware", ref_copy)
    assert "hardware.csv" in str(err.value)
    assert f"line {line}" in str(err.value)


def test_a_non_numeric_tdp_names_file_and_line(ref_copy):
    line = _append(ref_copy / "hardware.csv", "Broken GPU,accelerator,ACME,lots,,,Src,,2024,MIT")
    with pytest.raises(ReferenceDataError, match=rf"hardware\.csv, line {line}: TDP \(W\)"):
        load_csv("hardware", ref_copy)


def test_a_row_without_source_is_refused(ref_copy):
    line = _append(ref_copy / "sites.csv", "Somewhere,own,,,,,,,,,,,2024,MIT")
    with pytest.raises(ReferenceDataError, match=rf"sites\.csv, line {line}: the source"):
        load_csv("sites", ref_copy)


def test_an_unknown_kind_is_refused(ref_copy):
    line = _append(ref_copy / "sites.csv", "Somewhere,moon,,,,,,,,,Src,,2024,MIT")
    with pytest.raises(ReferenceDataError, match=rf"line {line}: Kind 'moon'"):
        load_csv("sites", ref_copy)


def test_a_duplicate_name_is_refused(ref_copy):
    line = _append(ref_copy / "hardware.csv", "NVIDIA T4,accelerator,NVIDIA,70,,,Src,,2018,x")
    with pytest.raises(ReferenceDataError, match=rf"line {line}: .*'NVIDIA T4' repeats"):
        load_csv("hardware", ref_copy)


def test_a_wrong_header_is_refused(ref_copy):
    path = ref_copy / "hardware.csv"
    path.write_text("name,kind,watts\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError, match=r"hardware\.csv, line 1: missing column"):
        load_csv("hardware", ref_copy)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ReferenceDataError, match=r"sites\.csv.*missing"):
        load_csv("sites", tmp_path)


def test_seed_writes_nothing_when_a_file_is_broken(ref_copy, tmp_path):
    _append(ref_copy / "hardware.csv", "Broken GPU,accelerator")
    with Inventory.create(tmp_path / "x.aicl", reference_data=False) as inv:
        with pytest.raises(ReferenceDataError):
            reference.seed(inv, ref_copy)
        assert inv.count("sites") == inv.count("hardware") == 0
