"""The inventory file: creation, migrations, refusals, queries for the table views."""

from __future__ import annotations

import hashlib
import sqlite3

import numpy as np
import pytest

from core import migrations
from core.errors import (
    InventoryExistsError,
    InventoryOpenError,
    NewerSchemaError,
    NotAnInventoryError,
)
from core.inventory import Inventory, read_header


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_new_file_is_wal_with_foreign_keys_and_current_schema(tmp_path):
    path = tmp_path / "new.aicl"
    with Inventory.create(path) as inv:
        assert inv.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert inv.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert inv.schema_version == migrations.LATEST_VERSION
        assert inv.meta("created_by_version")
        tables = set(inv.db.table_names())
        assert {
            "models",
            "sites",
            "hardware",
            "training_runs",
            "deployments",
            "usage",
            "sourcing",
            "change_log",
            "imports_log",
            "meta",
        } <= tables
    app_id, version = read_header(path)
    assert app_id == migrations.APPLICATION_ID
    assert version == migrations.LATEST_VERSION


def test_migrates_an_empty_sqlite_file_created_elsewhere(tmp_path):
    path = tmp_path / "empty.aicl"
    path.touch()  # a zero-byte file is an empty database: creating over it is fine
    with Inventory.create(path) as inv:
        assert inv.schema_version == migrations.LATEST_VERSION


def test_reopen_keeps_data(tmp_path):
    path = tmp_path / "a.aicl"
    with Inventory.create(path) as inv:
        inv.insert_logged("models", [{"name": "M"}], "test")
    with Inventory.open(path) as inv:
        assert inv.count("models") == 1
        assert inv.get("models", 1)["name"] == "M"


def test_create_refuses_to_overwrite(tmp_path):
    path = tmp_path / "a.aicl"
    Inventory.create(path).close()
    before = _sha(path)
    with pytest.raises(InventoryExistsError, match="already exists"):
        Inventory.create(path)
    assert _sha(path) == before


def test_newer_schema_is_refused_and_untouched(tmp_path):
    path = tmp_path / "future.aicl"
    Inventory.create(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {migrations.LATEST_VERSION + 1}")
    conn.close()
    before = _sha(path)
    with pytest.raises(NewerSchemaError, match="newer version") as info:
        Inventory.open(path)
    assert str(path) in str(info.value)
    assert _sha(path) == before
    assert not list(tmp_path.glob("*backup*"))


def test_random_sqlite_file_is_refused_and_untouched(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.commit()
    conn.close()
    before = _sha(path)
    with pytest.raises(NotAnInventoryError, match="another program"):
        Inventory.open(path)
    assert _sha(path) == before


@pytest.mark.parametrize("content", [b"name,power\nA100,400\n" * 20, b"", b"\x00" * 4096])
def test_non_sqlite_files_are_refused(tmp_path, content):
    path = tmp_path / "renamed.aicl"
    path.write_bytes(content)
    with pytest.raises(NotAnInventoryError, match="not an AI Carbon Ledger inventory"):
        Inventory.open(path)
    assert path.read_bytes() == content


def test_missing_file_and_folder_are_refused_with_the_path(tmp_path):
    with pytest.raises(InventoryOpenError, match="no such file"):
        Inventory.open(tmp_path / "nope.aicl")
    with pytest.raises(InventoryOpenError, match="folder"):
        Inventory.open(tmp_path)


def test_older_schema_is_backed_up_then_migrated(tmp_path, monkeypatch):
    """A file at the current version meets an app that knows one more: backup, then step."""
    current = migrations.LATEST_VERSION
    path = tmp_path / "old.aicl"
    with Inventory.create(path) as inv:
        inv.insert_logged("models", [{"name": "Kept"}], "test")

    def step(conn):
        conn.execute("ALTER TABLE models ADD COLUMN licence TEXT")

    new = migrations.Migration(current + 1, "test step", step)
    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS, new))
    monkeypatch.setattr(migrations, "LATEST_VERSION", current + 1)
    with Inventory.open(path) as inv:
        assert inv.schema_version == current + 1
        assert "licence" in inv.db["models"].columns_dict
        assert inv.get("models", 1)["name"] == "Kept"
    backups = list(tmp_path.glob(f"old.schema{current}-backup-*.aicl"))
    assert len(backups) == 1
    conn = sqlite3.connect(backups[0])
    assert conn.execute("PRAGMA user_version").fetchone()[0] == current
    assert conn.execute("SELECT name FROM models").fetchall() == [("Kept",)]
    conn.close()


def test_failed_migration_leaves_the_previous_version(tmp_path, monkeypatch):
    current = migrations.LATEST_VERSION
    path = tmp_path / "old.aicl"
    Inventory.create(path).close()

    def broken(conn):
        conn.execute("ALTER TABLE models ADD COLUMN half_done TEXT")
        raise sqlite3.OperationalError("simulated failure in the middle of a step")

    bad = migrations.Migration(current + 1, "x", broken)
    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS, bad))
    monkeypatch.setattr(migrations, "LATEST_VERSION", current + 1)
    with pytest.raises(InventoryOpenError, match="simulated failure"):
        Inventory.open(path)
    monkeypatch.undo()
    with Inventory.open(path) as inv:
        assert inv.schema_version == current
        assert "half_done" not in inv.db["models"].columns_dict


def test_change_log_is_append_only(inv):
    inv.insert_logged("models", [{"name": "M"}], "test")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        inv.conn.execute("DELETE FROM change_log")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        inv.conn.execute("UPDATE change_log SET os_user = 'someone else'")


def test_save_copy_is_a_complete_standalone_inventory(inv, tmp_path):
    inv.insert_logged("models", [{"name": f"M{i}"} for i in range(50)], "test")
    dest = tmp_path / "copy.aicl"
    inv.save_copy(dest)
    assert not list(tmp_path.glob(".copy.aicl.*.tmp"))
    with Inventory.open(dest) as copy:
        assert copy.count("models") == 50
        assert copy.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with pytest.raises(InventoryExistsError):
        inv.save_copy(inv.path)


def _models(inv, names):
    rows = [{"name": n, "owner": o, "params_total_b": p} for n, o, p in names]
    return inv.insert_logged("models", rows, "test")


def test_ordered_ids_sorts_in_sql_with_blanks_last(inv):
    ids = _models(inv, [("b", "Search", 7.0), ("A", None, None), ("c", "Legal", 70.0)])
    assert list(inv.ordered_ids("models", "name")) == [ids[1], ids[0], ids[2]]
    assert list(inv.ordered_ids("models", "name", descending=True)) == [ids[2], ids[0], ids[1]]
    assert list(inv.ordered_ids("models", "params_total_b")) == [ids[0], ids[2], ids[1]]
    desc = inv.ordered_ids("models", "params_total_b", descending=True)
    assert list(desc) == [ids[2], ids[0], ids[1]]
    assert inv.ordered_ids("models").dtype == np.int64


def test_search_matches_text_and_reference_titles(inv):
    m1, m2 = _models(inv, [("Llama 3.1 8B", "Support", 8), ("BERT base", "Legal", 0.11)])
    site = inv.ordered_ids("sites")[0] if inv.count("sites") else None
    inv.insert_logged(
        "training_runs",
        [
            {"name": "ft-1", "model_id": m1, "kind": "fine-tuning", "site_id": site},
            {"name": "ft-2", "model_id": m2, "kind": "fine-tuning"},
        ],
        "test",
    )
    assert list(inv.ordered_ids("models", search="llama")) == [m1]
    assert list(inv.ordered_ids("models", search="legal")) == [m2]
    assert list(inv.ordered_ids("models", search="BERT legal")) == [m2]  # every word
    assert list(inv.ordered_ids("models", search="nothing like it")) == []
    runs = inv.ordered_ids("training_runs", "model_id", search="llama")
    assert [inv.get("training_runs", int(i))["name"] for i in runs] == ["ft-1"]


def test_search_treats_like_wildcards_literally(inv):
    _models(inv, [("100% renewable", None, None), ("a_b", None, None), ("abc", None, None)])
    assert len(inv.ordered_ids("models", search="%")) == 1
    assert len(inv.ordered_ids("models", search="_")) == 1


def test_display_rows_show_reference_titles(inv, model_id):
    run = inv.insert_logged(
        "training_runs", [{"name": "r", "model_id": model_id, "kind": "experiments"}], "t"
    )[0]
    row = inv.display_rows("training_runs", [run])[run]
    shown = [f.name for f in inv.display_fields("training_runs")]
    assert row[shown.index("model_id")] == "Support bot 2"


def test_dependents_follow_cascades_and_report_restrictions(inv, model_id):
    site = inv.insert_logged("sites", [{"name": "Paris DC", "kind": "own"}], "t")[0]
    dep = inv.insert_logged(
        "deployments",
        [{"name": "bot", "model_id": model_id, "kind": "self-hosted", "site_id": site}],
        "t",
    )[0]
    inv.insert_logged(
        "usage",
        [
            {"deployment_id": dep, "period_start": f"2026-0{m}-01", "period_end": f"2026-0{m}-28"}
            for m in range(1, 4)
        ],
        "t",
    )
    cascade, restrict = inv.dependents("models", [model_id])
    assert cascade == {"deployments": 1, "usage": 3}
    assert restrict == {}
    cascade, restrict = inv.dependents("sites", [site])
    assert restrict == {"deployments": 1}
