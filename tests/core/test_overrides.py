"""Factor overrides: schema migration 2, validation, undo, and their effect on estimates."""

from __future__ import annotations

import sqlite3

import pytest

from core import migrations
from core.commands import InsertRecord
from core.errors import ValidationError
from core.estimate import Engine
from core.explain import explain
from core.inventory import Inventory


def make_schema1_inventory(path):
    """An inventory exactly as schema version 1 left it, with some data."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    migrations.apply(conn, migrations.MIGRATIONS[0])
    conn.execute("INSERT INTO meta VALUES ('created_by_version', '0.1.0')")
    conn.execute("INSERT INTO models (name, version) VALUES ('Kept', '1')")
    conn.close()


def test_schema1_inventory_migrates_with_a_backup(tmp_path):
    path = tmp_path / "old.aicl"
    make_schema1_inventory(path)
    with Inventory.open(path) as inv:
        assert inv.schema_version == migrations.LATEST_VERSION >= 2
        assert "factor_overrides" in inv.db.table_names()
        assert inv.get("models", 1)["name"] == "Kept"
    [backup] = tmp_path.glob("old.schema1-backup-*.aicl")
    conn = sqlite3.connect(backup)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    conn.close()


def small_inventory(path):
    inv = Inventory.create(path, reference_data=False)
    m = inv.insert_logged("models", [{"name": "m"}], "t")[0]
    site = inv.insert_logged("sites", [{"name": "Lyon", "kind": "own", "country": "FR"}], "t")[0]
    inv.insert_logged(
        "training_runs",
        [
            {
                "name": "r",
                "model_id": m,
                "kind": "fine-tuning",
                "site_id": site,
                "energy_kwh": 1000.0,
                "energy_boundary": "it",
                "start_date": "2026-02-01",
                "end_date": "2026-02-01",
            }
        ],
        "t",
    )
    return inv


def test_parameter_and_grid_overrides_change_the_estimate(tmp_path):
    with small_inventory(tmp_path / "a.aicl") as inv:
        before = Engine(inv).estimate(None, samples=0).totals
        InsertRecord(
            "factor_overrides",
            {"key": "pue_industry_average", "value": 1.2, "reason": "our facility's measured PUE"},
        ).apply(inv)
        InsertRecord(
            "factor_overrides",
            {
                "key": "grid:FR:2026",
                "value": 30.0,
                "reason": "RTE 2026 average",
                "source": "RTE eco2mix",
            },
        ).apply(inv)
        engine = Engine(inv)
        after = engine.estimate(None, samples=0).totals
        text = explain(engine, "training_runs:1").text()
    assert before["energy_kwh"] == pytest.approx(1000 * 1.56)
    assert after["energy_kwh"] == pytest.approx(1000 * 1.2)
    assert after["location_kgco2e"] == pytest.approx(1000 * 1.2 * 30 / 1000)
    assert "override: RTE 2026 average (RTE eco2mix)" in text
    assert "override: our facility's measured PUE" in text


def test_overrides_are_validated_undoable_and_logged(tmp_path):
    with small_inventory(tmp_path / "a.aicl") as inv:
        with pytest.raises(ValidationError, match="not a parameter name"):
            InsertRecord("factor_overrides", {"key": "pue", "value": 1.2, "reason": "x"}).apply(inv)
        with pytest.raises(ValidationError, match="Low must not be above the value"):
            InsertRecord(
                "factor_overrides",
                {"key": "grid:FR:2026", "value": 30.0, "low": 40.0, "reason": "x"},
            ).apply(inv)
        undo = InsertRecord(
            "factor_overrides", {"key": "grid:FR:2026", "value": 30.0, "reason": "RTE"}
        ).apply(inv)
        assert inv.count("factor_overrides") == 1
        logged = inv.change_log(1)[0]
        assert (logged["table_name"], logged["action"]) == ("factor_overrides", "insert")
        undo.apply(inv)
        assert inv.count("factor_overrides") == 0


def test_inference_energy_overrides_change_per_request_estimates(tmp_path):
    from core.demo import build_demo
    from core.validation import override_key_problem

    assert override_key_problem("inference:php:text-generation") is None
    assert "inference:KEY" in override_key_problem("inference:no-such-row")
    with build_demo(tmp_path / "demo.aicl") as inv:
        engine = Engine(inv)
        php = "energy per request: Power Hungry Processing mean for the model's task"
        entry = next(key for key, notes in engine.notes.items() if key[0] == 1 and php in notes)
        before = engine.estimate(None, by="entry", samples=0, entry=entry).totals
        task = inv.conn.execute(
            "SELECT m.task FROM deployments d JOIN models m ON m.id = d.model_id WHERE d.id = ?",
            (entry[1],),
        ).fetchone()[0]
        from core.engine import _PHP_TASK

        key = _PHP_TASK[task]
        shipped = float(engine.assumptions.inference[key]["central"])
        InsertRecord(
            "factor_overrides",
            {"key": f"inference:{key}", "value": shipped * 3, "reason": "our own meter"},
        ).apply(inv)
        engine = Engine(inv)
        after = engine.estimate(None, by="entry", samples=0, entry=entry).totals
        assert engine.assumptions.inference[key]["source"] == "override: our own meter"
    assert after["energy_kwh"] > before["energy_kwh"] * 1.5


def test_impossible_parameter_overrides_are_refused_with_the_parameter_named(tmp_path):
    with small_inventory(tmp_path / "a.aicl") as inv:
        with pytest.raises(ValidationError, match="at least 1 for pue_industry_average"):
            InsertRecord(
                "factor_overrides",
                {"key": "pue_industry_average", "value": 0.5, "reason": "x"},
            ).apply(inv)
        with pytest.raises(ValidationError, match="at most 1 for utilisation_training"):
            InsertRecord(
                "factor_overrides",
                {"key": "utilisation_training", "value": 30.0, "reason": "percent"},
            ).apply(inv)
        assert inv.count("factor_overrides") == 0
