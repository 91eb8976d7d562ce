"""The headless CLI, run as users run it: ``python main.py ...`` in a subprocess."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from core import __version__

ROOT = Path(__file__).resolve().parents[2]


def run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        timeout=120,
    )


def test_help_and_version():
    result = run("--help")
    assert result.returncode == 0
    for command in ("new", "demo", "list"):
        assert command in result.stdout
    assert "Exit codes" in result.stdout
    result = run("--version")
    assert result.returncode == 0 and __version__ in result.stdout


def test_new_then_list_in_every_format(tmp_path):
    path = tmp_path / "inv.aicl"
    result = run("new", path)
    assert result.returncode == 0, result.stderr
    assert path.exists()

    table = run("list", path, "hardware")
    assert table.returncode == 0, table.stderr
    assert "TDP (W)" in table.stdout  # headers carry units
    rows = json.loads(run("list", path, "hardware", "--format", "json").stdout)
    parsed = list(
        csv.DictReader(io.StringIO(run("list", path, "hardware", "--format", "csv").stdout))
    )
    assert len(rows) == len(parsed)
    assert f"({len(rows):,} " in table.stdout or (len(rows) == 1)
    if rows:
        assert {"id", "name", "tdp_w", "source"} <= set(rows[0])


def test_list_shows_reference_titles(tmp_path):
    from core.inventory import Inventory

    path = tmp_path / "inv.aicl"
    with Inventory.create(path, reference_data=False) as inv:
        m = inv.insert_logged("models", [{"name": "Llama", "version": "3.1"}], "t")[0]
        inv.insert_logged("deployments", [{"name": "chat", "model_id": m, "kind": "api"}], "t")
    rows = json.loads(run("list", path, "deployments", "--format", "json").stdout)
    assert rows == [
        {
            "id": 1,
            "name": "chat",
            "model_id": 1,
            "model": "Llama 3.1",
            "kind": "api",
            "site_id": None,
            "site": None,
            "hardware_id": None,
            "hardware": None,
            "device_count": None,
            "start_date": None,
            "end_date": None,
            "notes": None,
        }
    ]
    table = run("list", path, "deployments").stdout
    assert "Llama 3.1" in table and "Third-party API" in table


def test_usage_errors_exit_2_with_one_line(tmp_path):
    result = run("list", tmp_path / "x.aicl", "no_such_table")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
    result = run("frobnicate")
    assert result.returncode == 2


@pytest.mark.parametrize("content", [None, b"not a database at all" * 10])
def test_unreadable_inventory_exits_2_naming_the_file(tmp_path, content):
    path = tmp_path / "broken.aicl"
    if content is not None:
        path.write_bytes(content)
    result = run("list", path, "models")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0]
    assert result.stdout == ""


def test_new_refuses_an_existing_file(tmp_path):
    path = tmp_path / "inv.aicl"
    path.write_text("precious")
    result = run("new", path)
    assert result.returncode == 2
    assert "already exists" in result.stderr
    assert path.read_text() == "precious"
