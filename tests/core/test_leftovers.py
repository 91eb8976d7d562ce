"""Removing the temporary files a killed app or command left beside an inventory
(``core.leftovers``): old ones of every kind go, fresh ones and everything that is not
ours stay."""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from pathlib import Path

import pytest

from core import integrity, leftovers
from core import inventory as inventory_module
from core.errors import Cancelled, ImportCancelled
from core.inventory import Inventory

OLD = leftovers.STALE_AFTER_SECONDS + 60  # seconds: a leftover
FRESH = leftovers.STALE_AFTER_SECONDS - 60  # seconds: maybe in use

#: what a killed app leaves beside "big10x.aicl" (the names seen after a SIGTERM while
#: Save a Copy and the daily backup ran, and every other kind)
OURS = [
    # the daily and migration backups' copies, and SQLite's files beside them
    ".big10x.schema5-daily-backup-20261129-010534.aicl.bs69sw50.tmp",
    ".big10x.schema5-daily-backup-20261129-010534.aicl.bs69sw50.tmp-journal",
    ".big10x.schema4-backup-20250101-120000.aicl.a_b1c2d3.tmp",
    ".big10x.schema4-backup-20250101-120000.aicl.zzzzzzzz.tmp-wal",
    ".big10x.schema4-backup-20250101-120000.aicl.zzzzzzzz.tmp-shm",
    # a copy to the inventory's own name (another window's Save a Copy over it)
    ".big10x.aicl.k2j4h5g6.tmp",
    ".big10x.aicl.k2j4h5g6.checking",
    "..big10x.aicl.k2j4h5g6.checking.p0o9i8u7.tmp",
    # a restored backup
    ".big10x (restored 2026-11-29).aicl.q1w2e3r4.tmp",
    ".big10x (restored 2026-11-29, 2).aicl.q1w2e3r4.tmp-journal",
    # Save a Copy to "copy10x.aicl" in the same folder
    ".copy10x.aicl.nd800idf.checking",
    "..copy10x.aicl.nd800idf.checking.xdg4gt1t.tmp",
    "..copy10x.aicl.nd800idf.checking.xdg4gt1t.tmp-journal",
    ".big10x copy.aicl.abcdefgh.tmp",
    ".Other Inventory.AICL.12345678.tmp",
    # exports and reports named after the inventory
    ".big10x.xlsx.0123abcd.part",
    ".big10x-models.csv.89abcdef.part",
    ".big10x report 2025-Q1.pdf.deadbeef.part",
]

#: look-alikes: not made by this app, or not temporary; never removed
NOT_OURS = [
    "big10x.aicl",
    "big10x.aicl-wal",
    "big10x.aicl-shm",
    "big10x.aicl-journal",
    ".big10x.aicl.lock",  # the open inventory's lock (ui.single_instance)
    "big10x.schema5-daily-backup-20261129-010534.aicl",
    "big10x.schema4-backup-20250101-120000.aicl",
    "big10x (restored 2026-11-29).aicl",
    "copy10x.aicl",
    "notes.tmp",
    ".notes.tmp",
    ".other.aicl.abc.txt",
    ".other.aicl.abc.tmp",  # 3 random characters, not 8
    ".other.aicl.ABCDEFGH.tmp",  # mkstemp uses no capitals
    ".other.aicl.abcdefgh.tmp.bak",
    ".other.aicl.abcdefgh.tmp-journal.old",
    "other.aicl.abcdefgh.tmp",  # not hidden
    ".other.db.abcdefgh.tmp",  # not an inventory's suffix
    ".other.aicl.abcdefgh.checking.txt",
    "..other.aicl.abcdefgh.checking.abc.tmp",
    ".other.xlsx.0123abcd.part",  # an export not named after this inventory
    ".big10x.xlsx.0123abcg.part",  # not hexadecimal
    "big10x.xlsx.0123abcd.part",
    ".big10xx.xlsx.0123abcd.part",  # another inventory's name
    ".big10x.schema5-daily-backup-2026112-010534.aicl.bs69sw50.tmp.x",
    "report.part",
    "download.pdf.part",
]


def _make(folder: Path, name: str, age: float) -> Path:
    path = folder / name
    path.write_bytes(b"x" * 16)
    then = time.time() - age
    os.utime(path, (then, then))
    return path


@pytest.fixture
def folder(tmp_path) -> Path:
    return tmp_path


def _names(paths: list[Path]) -> list[str]:
    return sorted(p.name for p in paths)


def test_old_leftovers_of_every_kind_go_and_nothing_else(folder):
    for name in OURS + NOT_OURS:
        _make(folder, name, OLD)
    removed = leftovers.remove_leftovers(folder / "big10x.aicl")
    assert _names(removed) == sorted(OURS)
    assert sorted(p.name for p in folder.iterdir()) == sorted(NOT_OURS)


def test_fresh_leftovers_stay(folder):
    for name in OURS:
        _make(folder, name, FRESH)
    assert leftovers.remove_leftovers(folder / "big10x.aicl") == []
    assert sorted(p.name for p in folder.iterdir()) == sorted(OURS)


def test_a_file_of_a_family_written_recently_keeps_the_whole_family(folder):
    """A copy under way: its journal and the empty placeholder it will replace were
    made when it started, but the copy itself is being written."""
    _make(folder, ".copy.aicl.nd800idf.checking", OLD)
    _make(folder, "..copy.aicl.nd800idf.checking.xdg4gt1t.tmp", FRESH)
    _make(folder, "..copy.aicl.nd800idf.checking.xdg4gt1t.tmp-journal", OLD)
    _make(folder, ".big.schema5-daily-backup-20261129-010534.aicl.bs69sw50.tmp", FRESH)
    _make(folder, ".big.schema5-daily-backup-20261129-010534.aicl.bs69sw50.tmp-journal", OLD)
    old = _make(folder, ".copy.aicl.aaaaaaaa.checking", OLD)  # another, abandoned
    assert leftovers.remove_leftovers(folder / "big.aicl") == [old]
    assert len(list(folder.iterdir())) == 5


def test_links_and_folders_with_our_names_are_left(folder):
    target = _make(folder, "precious.aicl", OLD)
    (folder / ".copy.aicl.abcdefgh.tmp").symlink_to(target)
    (folder / ".copy.aicl.bcdefghi.checking").mkdir()
    assert leftovers.remove_leftovers(folder / "big.aicl") == []
    assert target.read_bytes() == b"x" * 16


def test_names_with_pattern_characters_are_taken_literally(folder):
    """An inventory named with regular-expression characters: its own leftovers go, a
    name those characters would match as a pattern stays."""
    inventory = folder / "a+b (1).db"
    ours = _make(folder, ".a+b (1).schema5-daily-backup-20261129-010534.db.bs69sw50.tmp", OLD)
    other = _make(folder, ".aab (1).schema5-daily-backup-20261129-010534.db.bs69sw50.tmp", OLD)
    also_ours = _make(folder, ".a+b (1).db.abcdefgh.tmp", OLD)
    assert leftovers.remove_leftovers(inventory) == sorted([ours, also_ours])
    assert other.exists()


def test_the_ten_minutes_are_measured_from_the_last_change(folder):
    path = _make(folder, ".copy.aicl.abcdefgh.tmp", 0)
    now = path.stat().st_mtime
    inventory = folder / "big.aicl"
    assert leftovers.find_leftovers(inventory, now=now + leftovers.STALE_AFTER_SECONDS) == []
    assert leftovers.find_leftovers(inventory, now=now + leftovers.STALE_AFTER_SECONDS + 1) == [
        path
    ]


def test_a_missing_folder_has_no_leftovers(tmp_path):
    assert leftovers.remove_leftovers(tmp_path / "gone" / "big.aicl") == []


def test_the_patterns_match_what_the_app_really_makes(folder):
    """The names come from ``tempfile.mkstemp`` as the copy code calls it (not from
    this file's examples): many draws, every one recognised."""
    inventory = folder / "big.aicl"
    backup = "big.schema5-daily-backup-20261129-010534.aicl"
    patterns = leftovers.leftover_patterns(inventory)
    for _ in range(200):
        for dest in (backup, "big copy.aicl", inventory.name):
            fd, checking = tempfile.mkstemp(prefix=f".{dest}.", suffix=".checking", dir=folder)
            os.close(fd)
            fd, tmp = tempfile.mkstemp(prefix=f".{Path(checking).name}.", suffix=".tmp", dir=folder)
            os.close(fd)
            fd, direct = tempfile.mkstemp(prefix=f".{dest}.", suffix=".tmp", dir=folder)
            os.close(fd)
            for name in (Path(checking).name, Path(tmp).name, Path(direct).name):
                for suffix in ("", "-journal") if name.endswith(".tmp") else ("",):
                    assert any(p.fullmatch(name + suffix) for p in patterns), name + suffix
            for path in (checking, tmp, direct):
                os.unlink(path)


# -- the daily backup, cancelled --------------------------------------------------------


@pytest.fixture
def big(tmp_path) -> Path:
    """An inventory of about 8 MB (a few steps of the copy)."""
    path = tmp_path / "big.aicl"
    Inventory.create(path).close()
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE padding (b BLOB)")
    conn.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) "
        "INSERT INTO padding SELECT randomblob(4000) FROM n"
    )
    conn.commit()
    conn.close()
    return path


def _files(folder: Path) -> list[str]:
    """The files in ``folder`` but SQLite's own beside the inventory (a read-only
    connection to a WAL inventory makes them)."""
    return sorted(
        p.name for p in folder.iterdir() if p.name not in ("big.aicl-wal", "big.aicl-shm")
    )


def test_a_daily_backup_cancelled_while_copying_leaves_nothing(big):
    before = _files(big.parent)
    calls = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 1  # after the first step

    with pytest.raises(Cancelled) as raised:
        integrity.make_daily_backup(big, cancel=cancel)
    assert not isinstance(raised.value, ImportCancelled)  # a backup, not an import
    assert _files(big.parent) == before
    assert integrity.daily_backups(big) == []


def test_a_daily_backup_cancelled_while_checking_leaves_nothing(big, monkeypatch):
    before = _files(big.parent)
    checking = []
    real_connect = sqlite3.connect

    def connect(*args, **kwargs):  # the check's connection is the second one
        checking.append(args[0])
        return real_connect(*args, **kwargs)

    def cancel() -> bool:  # once the fresh copy's check has begun
        return any(".tmp" in str(c) and "mode=ro" in str(c) for c in checking)

    monkeypatch.setattr(sqlite3, "connect", connect)
    with pytest.raises(Cancelled, match="the daily backup was cancelled"):
        integrity.make_daily_backup(big, cancel=cancel)
    assert _files(big.parent) == before


def test_a_cancellable_daily_backup_copies_one_state_while_the_inventory_is_edited(
    big, monkeypatch
):
    """Copied step by step, but in one read transaction: edits made by the app between
    two steps neither restart the copy (which would never end on a large inventory
    edited every few seconds) nor get into it."""
    monkeypatch.setattr(inventory_module, "COPY_STEP_PAGES", 64)  # about 35 steps
    writer = sqlite3.connect(big, isolation_level=None)
    rows = writer.execute("SELECT count(*) FROM padding").fetchone()[0]
    asked = []

    def cancel() -> bool:
        asked.append(1)
        if len(asked) <= 100:  # (a copy started again would end after these)
            writer.execute("INSERT INTO padding VALUES (randomblob(4000))")  # an edit
        return False

    backup = integrity.make_daily_backup(big, cancel=cancel)
    writer.close()
    copy = sqlite3.connect(backup)
    assert copy.execute("SELECT count(*) FROM padding").fetchone()[0] == rows
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    copy.close()
    assert integrity.daily_backups(big) == [backup]
