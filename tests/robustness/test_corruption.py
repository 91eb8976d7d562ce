"""A damaged inventory (cut off, header overwritten, a page overwritten) is detected at
open with a message that says so and names the automatic backup; the damaged file is
never written, and the backup can be restored to a new file."""

from __future__ import annotations

import hashlib
import random
import shutil
import sqlite3
from pathlib import Path

import pytest
from robustness_support import SCHEMAS, cli, table_digests

from core import cli as core_cli
from core import integrity
from core.errors import InventoryDamagedError, NotAnInventoryError
from core.inventory import Inventory

PAGE = 4096


@pytest.fixture
def inventory(tmp_path) -> tuple[Path, Path]:
    """(inventory at the latest schema, its automatic backup made when it migrated)."""
    path = Path(shutil.copy(SCHEMAS / "schema4.aicl", tmp_path / "ledger.aicl"))
    Inventory.open(path).close()
    [backup] = integrity.find_backups(path)
    return path, backup


def _root_page(path: Path, table: str) -> int:
    conn = sqlite3.connect(path)
    try:
        sql = "SELECT rootpage FROM sqlite_master WHERE name = ?"
        return conn.execute(sql, (table,)).fetchone()[0]
    finally:
        conn.close()


def _overwrite(path: Path, offset: int, data: bytes) -> None:
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(data)


def _noise(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


DAMAGE = {
    "cut at a page boundary": lambda p: p.write_bytes(p.read_bytes()[: 20 * PAGE]),
    "cut mid-page": lambda p: p.write_bytes(p.read_bytes()[: 20 * PAGE + 1000]),
    "cut to a few bytes": lambda p: p.write_bytes(p.read_bytes()[:50]),
    "header fields overwritten": lambda p: _overwrite(p, 16, _noise(84, 1)),
    "whole header overwritten": lambda p: _overwrite(p, 0, _noise(100, 2)),
    "schema page overwritten": lambda p: _overwrite(p, 100, _noise(PAGE - 100, 3)),
    "usage page overwritten": lambda p: _overwrite(
        p, (_root_page(p, "usage") - 1) * PAGE, _noise(PAGE, 4)
    ),
    "index page zeroed": lambda p: _overwrite(
        p, (_root_page(p, "usage_period") - 1) * PAGE, bytes(PAGE)
    ),
}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_damage_is_detected_at_open_and_the_file_is_left_alone(inventory, damage):
    path, backup = inventory
    DAMAGE[damage](path)
    digest, listing = _sha(path), sorted(p.name for p in path.parent.iterdir())
    with pytest.raises(InventoryDamagedError) as caught:
        Inventory.open(path)
    text = str(caught.value)
    assert str(path) in text and "damaged" in text and "was not changed" in text
    assert backup.name in text
    assert caught.value.backups == [backup]
    proc = cli("list", path, "models")  # the command line says the same, in one line
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "damaged" in proc.stderr and backup.name in proc.stderr
    assert _sha(path) == digest
    assert sorted(p.name for p in path.parent.iterdir()) == listing


def test_damage_without_a_backup_says_to_use_your_own_copy(tmp_path):
    path = tmp_path / "fresh.aicl"
    Inventory.create(path).close()
    DAMAGE["cut mid-page"](path)
    with pytest.raises(InventoryDamagedError, match="your own backup copy") as caught:
        Inventory.open(path)
    assert caught.value.backups == []


def test_other_files_are_still_not_inventories_rather_than_damaged(tmp_path):
    for name, content in (("notes.aicl", b"quarter notes\n" * 50), ("zero.aicl", bytes(PAGE))):
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(NotAnInventoryError) as caught:
            Inventory.open(path)
        assert not isinstance(caught.value, InventoryDamagedError)


def test_damage_in_a_large_file_is_reported_when_read(inventory, monkeypatch, capsys):
    """Files above the quick-check size are not scanned at open; a damaged page then
    stops the command that reads it with the same message, not a traceback."""
    path, backup = inventory
    DAMAGE["usage page overwritten"](path)
    monkeypatch.setattr(integrity, "QUICK_CHECK_MAX_BYTES", 0)
    digest = _sha(path)
    assert core_cli.main(["list", str(path), "usage"]) == 1
    err = capsys.readouterr().err
    assert "damaged" in err and backup.name in err and "Traceback" not in err
    assert _sha(path) == digest


def test_restore_copies_the_backup_to_a_new_file(inventory):
    path, backup = inventory
    DAMAGE["usage page overwritten"](path)
    damaged_digest, backup_state = _sha(path), table_digests(backup)
    restored = integrity.restore_backup(backup, path)
    assert restored.parent == path.parent and restored.name.startswith("ledger (restored ")
    assert table_digests(restored) == backup_state
    again = integrity.restore_backup(backup, path)  # never over an earlier restore
    assert again != restored and again.exists()
    with Inventory.open(restored) as inv:
        assert inv.count("usage") > 0
    assert _sha(path) == damaged_digest


def test_a_damaged_backup_is_not_restored(inventory):
    path, backup = inventory
    DAMAGE["cut mid-page"](path)
    DAMAGE["usage page overwritten"](backup)
    with pytest.raises(InventoryDamagedError):
        integrity.restore_backup(backup, path)
    assert [p.name for p in path.parent.glob("*restored*")] == []
