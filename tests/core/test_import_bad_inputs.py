"""The catalogue of bad inputs: each gives a clear message naming the file (and row and
column where there is one) and leaves the inventory byte-for-byte unchanged."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from pathlib import Path

import pytest

from core import cli
from core.errors import ImportReadError
from core.importing import codecarbon, open_source
from core.inventory import Inventory


@pytest.fixture
def inventory(tmp_path):
    path = tmp_path / "inv.aicl"
    inv = Inventory.create(path)
    inv.insert_logged("models", [{"name": "Support bot", "version": "2"}], "fixture")
    inv.close()
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run(inventory: Path, *args: str, capsys) -> tuple[int, str]:
    before = _digest(inventory)
    out = io.StringIO()
    code = cli.main(["import", str(inventory), *args], out=out)
    err = capsys.readouterr().err
    assert _digest(inventory) == before, "the inventory changed"
    return code, out.getvalue() + err


def _zip_bomb(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("xl/worksheets/sheet1.xml", "w") as fh:
            block = b"\0" * (1 << 20)
            for _ in range(300):  # 300 MB of zeros, ~300 kB packed
                fh.write(block)


CASES = {
    # name: (file name, writer, expected exit code, words in the message)
    "empty file": ("empty.csv", lambda p: p.write_bytes(b""), 2, "empty.csv: the file is empty"),
    "headers only": ("models.csv", lambda p: p.write_text("Model,Version\n"), 2, "no data"),
    "pdf renamed": (
        "report.xlsx",
        lambda p: p.write_bytes(b"%PDF-1.7\n" + b"x" * 2000),
        2,
        "report.xlsx: this file is a PDF document",
    ),
    "password-protected workbook": (
        # an encrypted OOXML workbook is an OLE compound file, not a zip package
        "locked.xlsx",
        lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4096),
        2,
        "locked.xlsx: the workbook is password-protected",
    ),
    "zip bomb": ("bomb.xlsx", _zip_bomb, 2, "zip bomb"),
    "corrupt workbook": (
        "broken.xlsx",
        lambda p: p.write_bytes(b"PK\x03\x04" + b"\x00garbage" * 100),
        2,
        "broken.xlsx: the workbook is damaged",
    ),
    "50 MB single cell": (
        "huge.csv",
        lambda p: p.write_bytes(b'Model,Notes\nA,"' + b"x" * (50 * 1024 * 1024) + b'"\n'),
        2,
        "huge.csv, line 2: a cell is longer than",
    ),
    "binary garbage": (
        "garbage.csv",
        lambda p: p.write_bytes(bytes(range(256)) * 64),
        2,
        "garbage.csv: the file contains binary data",
    ),
    "unknown file type": (
        "inventory.docx2",
        lambda p: p.write_bytes(b"\0\1\2"),
        2,
        "cannot import",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_unreadable_files(inventory, tmp_path, capsys, case):
    name, write, code, words = CASES[case]
    path = tmp_path / name
    write(path)
    got, text = _run(inventory, str(path), capsys=capsys)
    assert got == code, text
    assert words in text


def test_wrong_delimiter_names_the_missing_columns(inventory, tmp_path, capsys):
    path = tmp_path / "models.csv"
    path.write_text("Model:Version:Team\nA:1:x\n")
    code, text = _run(inventory, str(path), "--kind", "models", capsys=capsys)
    assert code == 1
    assert "models.csv, row 1, column 'Name': no column is mapped to the required field" in text


def test_text_in_numeric_columns(inventory, tmp_path, capsys):
    path = tmp_path / "models.csv"
    path.write_text("Model,Parameters (billions)\nA,seven\n")
    code, text = _run(inventory, str(path), capsys=capsys)
    assert code == 1
    assert "models.csv, row 2, column 'Parameters (billions)' 'seven': must be a number" in text


def test_arithmetic_or_stray_text_after_a_number_is_refused(inventory, tmp_path, capsys):
    path = tmp_path / "models.csv"
    path.write_text("Model,Parameters (billions)\nA,1+5\nB,2e3+1\n")
    before = _digest(inventory)
    code, text = _run(inventory, str(path), capsys=capsys)
    assert code == 1
    assert "row 2, column 'Parameters (billions)' '1+5': has '+5' after the number" in text
    assert "row 3, column 'Parameters (billions)' '2e3+1': has '+1' after the number" in text
    assert _digest(inventory) == before


def test_missing_required_columns(inventory, tmp_path, capsys):
    path = tmp_path / "usage.csv"
    path.write_text("Deployment,Requests\nChat,100\n")
    code, text = _run(inventory, str(path), "--kind", "usage", capsys=capsys)
    assert code == 1
    assert "column 'Period start': no column is mapped to the required field" in text


def test_unknown_hardware_and_regions_with_suggestions(inventory, tmp_path, capsys):
    path = tmp_path / "deployments.csv"
    path.write_text(
        "Deployment,Model,Kind,GPU type,Region\n"
        "Chat EU,Support bot 2,Self-hosted,Google TPU v4,europe-west1\n"
        "Chat US,Support bot 2,Self-hosted,NVIDIA T4,Iowa\n"
    )
    code, text = _run(inventory, str(path), capsys=capsys)
    assert code == 1
    assert "row 2, column 'GPU type' 'Google TPU v4': unknown hardware; closest: Google TPU" in text
    assert "row 3, column 'Region' 'Iowa': unknown site; closest:" in text


@pytest.mark.parametrize("cell", ['","', '" ; "', "and", "+ &"])
def test_a_hardware_cell_of_separators_only_is_a_problem_not_a_crash(
    inventory, tmp_path, capsys, cell
):
    """Found by the long fuzz run: "," in a CodeCarbon log's cpu_model raised
    IndexError (the cell splits into no hardware names at all)."""
    path = tmp_path / "deployments.csv"
    path.write_text(f"Deployment,Model,Kind,GPU type\nChat EU,Support bot 2,Self-hosted,{cell}\n")
    code, text = _run(inventory, str(path), capsys=capsys)
    assert code == 1, text
    assert "row 2, column 'GPU type'" in text
    assert "names no hardware type: give one, such as 'NVIDIA A100'" in text


def test_a_codecarbon_cpu_model_of_separators_only(inventory, tmp_path, capsys):
    """The fuzz run's own case: a CPU-only run whose cpu_model cell is ","."""
    sample = Path(__file__).parents[1] / "data" / "import" / "cloud_gcp_aws_emissions.csv"
    with open(sample, encoding="utf-8", newline="") as fh:
        header, first, *_ = list(csv.reader(fh))
    first[header.index("cpu_model")] = ","
    path = tmp_path / "emissions.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, first])
    code, text = _run(inventory, str(path), "--kind", "codecarbon", capsys=capsys)
    assert code == 1, text
    assert "column 'cpu_model' ',': names no hardware type" in text


def test_a_codecarbon_row_names_the_columns_its_hardware_and_site_came_from():
    """Hardware and site are read from one of several columns; a problem names the one
    this row's value came from (it named the first of them the file had)."""
    gpu = {"gpu_model": "NVIDIA A100", "gpu_count": "8", "cpu_model": "AMD EPYC"}
    assert codecarbon.row_sources(gpu)["hardware_id"] == "gpu_model"
    for no_gpus in ({**gpu, "gpu_count": "0"}, {**gpu, "gpu_count": ""}, {**gpu, "gpu_model": " "}):
        assert codecarbon.row_sources(no_gpus)["hardware_id"] == "cpu_model"
    cloud = {"cloud_provider": "gcp", "cloud_region": "europe-west1", "country_name": "Belgium"}
    assert codecarbon.row_sources(cloud)["site_id"] == "cloud_region"
    on_premises = {"country_name": "France", "country_iso_code": "FRA", "region": ""}
    assert codecarbon.row_sources(on_premises)["site_id"] == "country_name"
    assert codecarbon.row_sources({**on_premises, "country_name": ""})["site_id"] == (
        "country_iso_code"
    )
    usa = {"country_name": "United States", "country_iso_code": "USA", "region": "california"}
    assert codecarbon.row_sources(usa)["site_id"] == "region"
    header_of = {c: c.upper() for c in ("gpu_model", "cpu_model", "cloud_region", "region")}
    assert codecarbon.problem_column("hardware_id", header_of, {"hardware_id": "cpu_model"}) == (
        "CPU_MODEL"
    )
    assert codecarbon.problem_column("hardware_id", header_of) == "GPU_MODEL"  # no row known


def test_duplicate_keys_in_the_file(inventory, tmp_path, capsys):
    path = tmp_path / "models.csv"
    path.write_text("Model,Version\nA,1\nB,1\nA,1\n")
    code, text = _run(inventory, str(path), capsys=capsys)
    assert code == 1
    assert "row 4, column 'Model' 'A': repeats row 2 (same name and version)" in text


def test_ranges_negative_zero_and_infinite(inventory, tmp_path, capsys):
    path = tmp_path / "hardware.csv"
    path.write_text("Name,Kind,TDP (W)\nX1,Accelerator,-5\nX2,Accelerator,0\nX3,Accelerator,inf\n")
    code, text = _run(inventory, str(path), "--kind", "hardware", capsys=capsys)
    assert code == 1
    assert "row 2, column 'TDP (W)' '-5': must be more than 0 W" in text
    assert "row 3, column 'TDP (W)' '0': must be more than 0 W" in text
    assert "row 4, column 'TDP (W)' 'inf': must be a finite number" in text


def test_read_errors_are_ledger_errors(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"")
    with pytest.raises(ImportReadError, match=r"x\.csv"):
        open_source(path)


def test_a_refused_codecarbon_log_leaves_the_file_byte_for_byte(inventory, tmp_path, capsys):
    """A refused import writes nothing, not even the query planner's statistics that
    closing stores after a session that committed something."""
    sample = Path(__file__).parents[1] / "data" / "import" / "fra_emissions.csv"
    lines = sample.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    bad = lines[1].split(",")
    bad[header.index("duration")] = "-5"  # a negative duration: the row is refused
    path = tmp_path / "emissions.csv"
    path.write_text("\n".join([lines[0], ",".join(bad), *lines[2:]]) + "\n", encoding="utf-8")
    code, text = _run(inventory, str(path), "--kind", "codecarbon", capsys=capsys)
    assert code == 1, text
    assert "duration" in text
