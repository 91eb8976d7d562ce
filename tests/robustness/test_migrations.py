"""Inventories made by every earlier schema version migrate forward with nothing lost.

The files in ``tests/data/schemas`` (``make_fixtures.py`` there) hold, for each earlier
version, the content a user of that version could have: reference data, records, usage,
a factor override, a scenario, closed and reopened quarters and an import, as far as the
version has the tables.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from robustness_support import SCHEMAS, cli, table_digests

from core import migrations
from core.errors import NewerSchemaError
from core.inventory import Inventory

FIXTURES = sorted(SCHEMAS.glob("schema*.aicl"))


def _version(path: Path) -> int:
    return int(re.fullmatch(r"schema(\d+)\.aicl", path.name).group(1))


def _rows(path: Path) -> dict[str, tuple[list[str], list[tuple]]]:
    conn = sqlite3.connect(path)
    try:
        out = {}
        for (table,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ):
            cur = conn.execute(f"SELECT * FROM {table} ORDER BY rowid")
            out[table] = ([d[0] for d in cur.description], cur.fetchall())
        return out
    finally:
        conn.close()


def test_there_is_a_fixture_for_every_earlier_schema_version():
    assert [_version(p) for p in FIXTURES] == list(range(1, migrations.LATEST_VERSION))


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.stem)
def test_earlier_version_migrates_with_nothing_lost(fixture, tmp_path):
    path = shutil.copy(fixture, tmp_path / "inventory.aicl")
    old = _rows(path)
    for table in ("models", "training_runs", "deployments", "usage", "sourcing", "change_log"):
        assert old[table][1], f"{fixture.name} has no {table}: the test would prove little"
    original = table_digests(fixture)
    with Inventory.open(path) as inv:
        assert inv.schema_version == migrations.LATEST_VERSION
    new = _rows(path)
    for table, (columns, rows) in old.items():
        new_columns, new_rows = new[table]
        assert len(new_rows) == len(rows), table
        at = [new_columns.index(c) for c in columns]  # every old column is still there
        assert [tuple(r[i] for i in at) for r in new_rows] == rows, table
    # the backup made before migrating holds the file exactly as it was
    backups = list(tmp_path.glob(f"inventory.schema{_version(fixture)}-backup-*.aicl"))
    assert len(backups) == 1
    assert table_digests(backups[0]) == original


@pytest.mark.parametrize("fixture", FIXTURES[:1] + FIXTURES[-1:], ids=lambda p: p.stem)
def test_migrated_inventory_works_in_every_command(fixture, tmp_path):
    path = shutil.copy(fixture, tmp_path / "inventory.aicl")
    for args in (
        ["list", path, "usage", "--format", "csv"],
        ["estimate", path, "--by", "quarter", "--samples", "50"],
        ["report", path, "--quarter", "2026-Q1", "--samples", "50"],
        ["close", path, "--quarter", "2026-Q3"],
        ["export", path, tmp_path / "out.xlsx"],
    ):
        proc = cli(*args)
        assert proc.returncode == 0, (args[0], proc.stderr)
        assert "Traceback" not in proc.stderr


def _file_bytes(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_newer_schema_is_refused_and_left_untouched(tmp_path):
    path = shutil.copy(FIXTURES[-1], tmp_path / "future.aicl")
    with Inventory.open(path):  # bring it to the latest version, then one beyond
        pass
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(f"PRAGMA user_version = {migrations.LATEST_VERSION + 1}")
    conn.execute("PRAGMA journal_mode = DELETE")  # one self-contained file to compare
    conn.close()
    digest, listing = _file_bytes(path), sorted(p.name for p in tmp_path.iterdir())
    proc = cli("list", path, "models")
    assert proc.returncode == 2
    assert "newer version of AI Carbon Ledger" in proc.stderr and "Traceback" not in proc.stderr
    with pytest.raises(NewerSchemaError):
        Inventory.open(path)
    assert _file_bytes(path) == digest
    assert sorted(p.name for p in tmp_path.iterdir()) == listing  # no backup, no WAL left
