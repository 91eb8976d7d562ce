"""What the import wizard asks of the core: a live preview of a mapping, raw cells in
plan previews, undo errors as LedgerError, presets applied by the core."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from core.errors import LedgerError
from core.importing import (
    commit_import,
    open_source,
    plan_import,
    preview_import,
    propose_mapping,
    save_preset,
    undo_import,
)
from core.importing.presets import apply_preset, load_preset


def _usage_csv(path: Path, rows: int = 30) -> Path:
    lines = ["Deployment,Period start,Period end,Requests,Energy (MWh),Energy boundary"]
    for i in range(rows):
        day = f"2026-01-{i % 28 + 1:02d}"
        name = "Mystery endpoint" if i == 2 else "chat-eu"
        lines.append(f"{name},{day},{day},{100 + i},0.5,it")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def deployment(inv, model_id):
    return inv.insert_logged(
        "deployments", [{"name": "chat-eu", "model_id": model_id, "kind": "cloud"}], "fixture"
    )[0]


def test_preview_import_converts_the_first_rows_only(inv, deployment, tmp_path):
    sheet = open_source(_usage_csv(tmp_path / "u.csv", rows=500))[0]
    mapping = propose_mapping(sheet, "usage")
    plan = preview_import(inv, sheet, mapping, 5)
    assert [r["row"] for r in plan.preview] == [2, 3, 4, 5, 6]
    first = plan.preview[0]
    assert first["values"]["energy_kwh"] == 500.0  # MWh in the header, kWh stored
    assert first["values"]["deployment_id"] == deployment
    assert first["raw"]["energy_kwh"] == "0.5"
    unmatched = plan.preview[2]
    assert unmatched["status"] == "invalid"
    assert unmatched["raw"]["deployment_id"] == "Mystery endpoint"  # what the file said
    assert "unknown deployment" in unmatched["problems"]["deployment_id"]
    assert plan.new + plan.invalid == 5
    assert inv.count("usage") == 0


def test_preview_import_reports_mapping_problems(inv, deployment, tmp_path):
    sheet = open_source(_usage_csv(tmp_path / "u.csv"))[0]
    mapping = propose_mapping(sheet, "usage")
    for c in mapping.columns:
        if c.field == "period_end":
            c.field = None
    plan = preview_import(inv, sheet, mapping, 3)
    assert any("Period end" in p.column and "required" in p.reason for p in plan.problems)


def test_plan_preview_rows_carry_raw_cells(inv, deployment, tmp_path):
    sheet = open_source(_usage_csv(tmp_path / "u.csv"))[0]
    plan = plan_import(inv, sheet, propose_mapping(sheet, "usage"))
    assert all("raw" in r for r in plan.preview)
    bad = next(r for r in plan.preview if r["status"] == "invalid")
    assert bad["raw"]["deployment_id"] == "Mystery endpoint"
    assert plan.preview[0]["raw"]["period_start"] == "2026-01-01"


def test_undo_import_turns_sqlite_errors_into_ledger_errors(inv, deployment, tmp_path):
    sheet = open_source(_usage_csv(tmp_path / "u.csv"))[0]
    plan = plan_import(inv, sheet, propose_mapping(sheet, "usage"))
    result = commit_import(inv, [plan], skip_invalid=True)
    count = inv.count("usage")
    inv.conn.execute("PRAGMA busy_timeout = 0")
    other = sqlite3.connect(inv.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    try:
        with pytest.raises(LedgerError, match="could not be undone"):
            undo_import(inv, result.import_id)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert inv.count("usage") == count
    undo_import(inv, result.import_id)  # and works once the lock is gone
    assert inv.count("usage") == 0


def test_presets_apply_through_the_core_to_a_moved_column(inv, deployment, tmp_path):
    sheet = open_source(_usage_csv(tmp_path / "u.csv"))[0]
    mapping = propose_mapping(sheet, "usage")
    mapping.defaults["energy_boundary"] = "facility"
    save_preset(inv, "Quarterly usage", [mapping])
    moved = tmp_path / "moved.csv"
    text = (tmp_path / "u.csv").read_text().splitlines()
    cols = [line.split(",") for line in text]
    moved.write_text("\n".join(",".join([c[3], *c[:3], *c[4:]]) for c in cols) + "\n")
    applied = apply_preset(open_source(moved)[0], load_preset(inv, "Quarterly usage"))
    assert applied is not None
    assert {c.header: c.field for c in applied.columns}["Requests"] == "requests"
    assert applied.columns[0].field == "requests"
    assert applied.defaults == {"energy_boundary": "facility"}


def test_json_export_is_refused_with_a_way_round(inv, deployment, tmp_path):
    from core import cli
    from core.importing import export_inventory

    out = tmp_path / "inventory.json"
    export_inventory(inv, out)
    with pytest.raises(LedgerError, match="export it to XLSX"):
        open_source(out)
    assert cli.main(["import", str(inv.path), str(out)]) == 2
    assert inv.count("usage") == 0
    assert inv.conn.execute("SELECT count(*) FROM imports_log").fetchone()[0] == 0
