"""Damaging an inventory file on disk as a disk fault would, for the tests that check
what the app does then (importable from any test folder: ``from file_damage import ...``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

#: SQLite's page size in the inventories the tests make
PAGE = 4096


def overwrite_table_root(path: Path, table: str = "usage") -> None:
    """Overwrite the root page of ``table`` in the file at ``path`` with garbage."""
    conn = sqlite3.connect(path)
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    conn.close()
    with open(path, "r+b") as fh:
        fh.seek((root - 1) * PAGE)
        fh.write(bytes(range(256)) * (PAGE // 256))
