"""The daily backup: when the app opens an inventory for editing and its newest daily
backup is a day old or missing, a worker copies it (SQLite's backup API, checked before
it takes its name) beside it; the newest two are kept; a damaged inventory offers the
newest backup that is itself sound."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from file_damage import overwrite_table_root
from robustness_support import SCHEMAS, cli, table_digests

from core import integrity
from core.errors import InventoryDamagedError
from core.inventory import Inventory


@pytest.fixture
def inv_path(tmp_path) -> Path:
    path = Path(shutil.copy(SCHEMAS / "schema4.aicl", tmp_path / "ledger.aicl"))
    Inventory.open(path).close()  # migrated: a migration backup is beside it
    return path


def _daily_name(path: Path, when: dt.datetime, version: int = 5) -> Path:
    stamp = when.strftime("%Y%m%d-%H%M%S")
    return path.with_name(f"{path.stem}.schema{version}-daily-backup-{stamp}{path.suffix}")


def _old_daily(path: Path, days: float) -> Path:
    """A sound daily backup made ``days`` ago (a copy of the file as it is)."""
    dest = _daily_name(path, dt.datetime.now() - dt.timedelta(days=days))
    return Path(shutil.copyfile(path, dest))


# -- core ------------------------------------------------------------------------------


def test_a_daily_backup_is_a_checked_copy_named_like_the_other_backups(inv_path):
    assert integrity.daily_backup_due(inv_path)
    backup = integrity.make_daily_backup(inv_path)
    assert backup.parent == inv_path.parent
    assert backup.name.startswith("ledger.schema5-daily-backup-") and backup.suffix == ".aicl"
    assert table_digests(backup) == table_digests(inv_path)
    assert integrity.backup_problem(backup) is None
    assert backup in integrity.find_backups(inv_path)  # offered like a migration backup
    assert integrity.daily_backups(inv_path) == [backup]
    assert not integrity.daily_backup_due(inv_path)
    tomorrow = dt.datetime.now() + integrity.DAILY_BACKUP_AGE + dt.timedelta(minutes=1)
    assert integrity.daily_backup_due(inv_path, now=tomorrow)
    assert not [p for p in inv_path.parent.iterdir() if p.name.endswith(".tmp")]


def test_the_newest_two_daily_backups_are_kept_and_migration_backups_never_go(inv_path):
    [migration] = integrity.find_backups(inv_path)
    oldest, older = _old_daily(inv_path, 3), _old_daily(inv_path, 2)
    assert integrity.daily_backup_due(inv_path)
    newest = integrity.make_daily_backup(inv_path)
    assert integrity.daily_backups(inv_path) == [newest, older]
    assert not oldest.exists() and migration.exists()
    assert integrity.find_backups(inv_path)[0] == newest


def test_the_backup_holds_what_was_committed_and_nothing_half_done(inv_path):
    """Another program committed a row (still in the WAL) and has another in an open
    transaction: the backup has the first and not the second."""
    writer = sqlite3.connect(inv_path, isolation_level=None)
    writer.execute("PRAGMA journal_mode = WAL")
    writer.execute("INSERT INTO models (name, version) VALUES ('Committed', '1')")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO models (name, version) VALUES ('Not yet', '1')")
    try:
        backup = integrity.make_daily_backup(inv_path)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    conn = sqlite3.connect(backup)
    names = {r[0] for r in conn.execute("SELECT name FROM models")}
    conn.close()
    assert "Committed" in names and "Not yet" not in names


def test_a_damaged_inventory_gives_no_backup_and_keeps_the_old_ones(inv_path):
    old = _old_daily(inv_path, 2)
    overwrite_table_root(inv_path)
    with pytest.raises(InventoryDamagedError) as caught:
        integrity.make_daily_backup(inv_path)
    [migration] = [b for b in integrity.find_backups(inv_path) if b != old]
    assert caught.value.backups == [migration, old]  # newest first: the migration's, today
    assert "a fresh copy" in str(caught.value) and migration.name in str(caught.value)
    assert integrity.daily_backups(inv_path) == [old]
    assert not [p for p in inv_path.parent.iterdir() if p.name.endswith(".tmp")]


def test_damage_offers_the_newest_backup_that_is_sound(inv_path):
    """A newer backup that is damaged itself (a bad disk, a sync tool) is passed over."""
    sound = integrity.make_daily_backup(inv_path)
    bad = _old_daily(inv_path, -0.001)  # a few seconds newer
    overwrite_table_root(bad)
    assert integrity.find_backups(inv_path)[0] == bad
    overwrite_table_root(inv_path)
    with pytest.raises(InventoryDamagedError) as caught:
        Inventory.open(inv_path)
    assert caught.value.backups[0] == sound and sound.name in str(caught.value)
    assert bad not in caught.value.backups
    restored = integrity.restore_backup(caught.value.backups[0], inv_path)
    assert table_digests(restored) == table_digests(sound)


def test_the_command_line_makes_no_daily_backup(inv_path):
    proc = cli("settings", inv_path, "embodied_convention=capital-goods")
    assert proc.returncode == 0, proc.stderr
    assert integrity.daily_backups(inv_path) == []


# -- the app ---------------------------------------------------------------------------


@pytest.fixture
def window(qtbot, private_qsettings):
    from ui.main_window import MainWindow
    from ui.settings import SettingsStore

    w = MainWindow(SettingsStore())
    qtbot.addWidget(w)
    yield w
    qtbot.waitUntil(lambda: not w.daily_backups_running, timeout=20_000)


def test_the_app_backs_up_an_inventory_it_opens_for_editing_once_a_day(window, inv_path, qtbot):
    old = _old_daily(inv_path, 1.5)
    assert window.open_inventory(inv_path)
    qtbot.waitUntil(lambda: len(integrity.daily_backups(inv_path)) == 2, timeout=20_000)
    qtbot.waitUntil(lambda: not window.daily_backups_running, timeout=20_000)
    newest = integrity.daily_backups(inv_path)[0]
    assert newest != old and table_digests(newest) == table_digests(inv_path)
    window.close_inventory()
    assert window.open_inventory(inv_path)  # the same day: no second backup
    assert not window.daily_backups_running
    assert integrity.daily_backups(inv_path) == [newest, old]


def test_the_app_does_not_back_up_an_inventory_it_opens_read_only(window, inv_path):
    writer = sqlite3.connect(inv_path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another program is writing: opened read-only
    try:
        assert window.open_inventory(inv_path)
        assert window.read_only_reason is not None
        assert not window.start_daily_backup()
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert not window.daily_backups_running
    assert integrity.daily_backups(inv_path) == []


def test_the_backup_runs_on_a_worker_not_the_ui_thread(window, inv_path, qtbot):
    """A larger inventory (about 30 MB): opening it returns long before its backup (copy
    and check) is done, and the backup is made on another thread."""
    conn = sqlite3.connect(inv_path)
    conn.execute("CREATE TABLE padding (b BLOB)")
    conn.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 7500) "
        "INSERT INTO padding SELECT randomblob(4000) FROM n"
    )
    conn.commit()
    conn.close()
    threads = []
    real = integrity.make_daily_backup

    def recording(path, **kwargs):
        threads.append(threading.current_thread() is threading.main_thread())
        return real(path, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(integrity, "make_daily_backup", recording)
        start = time.perf_counter()
        assert window.open_inventory(inv_path)
        opened = time.perf_counter() - start
        assert inv_path in window.daily_backups_running
        qtbot.waitUntil(lambda: not window.daily_backups_running, timeout=30_000)
    assert threads == [False]
    [backup] = integrity.daily_backups(inv_path)
    assert backup.stat().st_size > 30_000_000
    assert opened < 2.0, f"opening took {opened:.2f} s"
