"""SQLite refusing an edit made in the app: another program holds the write lock, the
disk is full, or a page of a large inventory turns out damaged when a page of the app
reads it. Each is a clear message (or the restore offer), never the crash dialog, and
the inventory is left as it was."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest
from file_damage import overwrite_table_root
from PySide6.QtWidgets import QMessageBox
from robustness_support import SCHEMAS, integrity, table_digests

from core import integrity as core_integrity
from core import inventory as inventory_module
from core.commands import InsertRecord, UpdateRecord
from core.inventory import Inventory
from ui.main_window import MainWindow
from ui.record_dialog import RecordDialog
from ui.restore_backup import RESTORE_TEXT
from ui.settings import SettingsStore


class Messages:
    """Stands in for QMessageBox: records every box (static ones and ``exec``) and
    clicks the button named ``click`` in boxes that offer it."""

    def __init__(self, monkeypatch, click: str | None = None):
        self.boxes: list[tuple[str, str, str, list[str]]] = []
        self.click = click
        for kind in ("critical", "warning", "information"):
            monkeypatch.setattr(QMessageBox, kind, self._static(kind))
        monkeypatch.setattr(QMessageBox, "exec", lambda box: self._exec(box))

    def _static(self, kind):
        def show(_parent, title, text, *args, **kwargs):
            self.boxes.append((kind, title, text, []))
            return QMessageBox.StandardButton.Ok

        return staticmethod(show)

    def _exec(self, box: QMessageBox) -> int:
        buttons = [b.text() for b in box.buttons()]
        self.boxes.append(("box", box.windowTitle(), box.text(), buttons))
        for button in box.buttons():
            if button.text() == self.click:
                button.click()
        return 0

    def texts(self) -> list[str]:
        return [b[2] for b in self.boxes]


@pytest.fixture
def crashes(monkeypatch):
    """Exceptions that would have reached the crash dialog (``sys.excepthook``)."""
    seen: list[str] = []
    monkeypatch.setattr(sys, "excepthook", lambda _t, exc, _tb: seen.append(repr(exc)))
    return seen


@pytest.fixture
def inv_path(tmp_path) -> Path:
    path = Path(shutil.copy(SCHEMAS / "schema4.aicl", tmp_path / "ledger.aicl"))
    Inventory.open(path).close()  # migrated; its migration backup is beside it
    return path


@pytest.fixture
def window(qtbot, private_qsettings):
    w = MainWindow(SettingsStore())
    qtbot.addWidget(w)
    w.show()
    yield w
    qtbot.waitUntil(lambda: not w.daily_backups_running, timeout=20_000)


def _edit_notes_in_the_form(window, monkeypatch, text: str) -> list[int]:
    """Open the models page and edit the first model's notes through the form, the way
    a user does; returns how many times the form was shown."""
    shown = []

    def exec_form(dialog: RecordDialog):
        shown.append(1)
        if len(shown) > 1:
            return RecordDialog.DialogCode.Rejected  # the user gives up after the message
        dialog.editor("notes").setPlainText(text)
        return RecordDialog.DialogCode.Accepted

    monkeypatch.setattr(RecordDialog, "exec", exec_form)
    window.show_page("models")
    page = window.pages["models"]
    page.select_id(page.model.id_at(0))
    page.edit_record()
    return shown


def test_an_edit_while_another_program_holds_the_write_lock(window, inv_path, monkeypatch, crashes):
    monkeypatch.setattr(inventory_module, "BUSY_TIMEOUT_MS", 200)  # not 5 s in a test
    assert window.open_inventory(inv_path)
    before = table_digests(inv_path)
    other = sqlite3.connect(inv_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another program writing, and not finishing
    try:
        messages = Messages(monkeypatch)
        shown = _edit_notes_in_the_form(window, monkeypatch, "while locked")
        assert not window.editor.run(InsertRecord("models", {"name": "Locked", "version": "1"}))
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert not crashes
    assert len(shown) == 2  # the form came back with what was typed, to save again
    assert len(messages.boxes) == 2
    for kind, title, text, _ in messages.boxes:
        assert kind == "warning" and title == "Not saved"
        assert "another program is writing this inventory" in text
        assert "your change was not saved" in text and "Try again" in text
        assert "locked" not in text and "Traceback" not in text
    assert table_digests(inv_path) == before
    assert not window.inventory.conn.in_transaction
    # once the other program has finished, the same edit goes through
    assert window.editor.run(InsertRecord("models", {"name": "Locked", "version": "1"}))


def test_an_edit_on_a_full_disk(window, inv_path, monkeypatch, crashes):
    assert window.open_inventory(inv_path)
    before = table_digests(inv_path)
    conn = window.inventory.conn
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLite fails as on a full disk
    messages = Messages(monkeypatch)
    big = {"name": "X" * 50_000, "version": "1", "notes": "y" * 200_000}
    # the window's editor guards closed quarters, so the insert runs in a savepoint
    # nested in its transaction: the path that hid the full disk behind "no such savepoint"
    assert not window.editor.run(InsertRecord("models", big))
    model = window.inventory.ordered_ids("models")[0]
    assert not window.editor.run(UpdateRecord("models", int(model), {"notes": "z" * 300_000}))
    assert not crashes
    assert len(messages.boxes) == 2
    for kind, _, text, _ in messages.boxes:
        assert kind == "warning"
        assert "the disk holding it is full" in text and "nothing was changed" in text
        assert "savepoint" not in text
    assert not conn.in_transaction
    conn.execute(f"PRAGMA max_page_count = {2**31}")  # space freed
    assert table_digests(inv_path) == before
    assert not integrity(inv_path)
    assert window.editor.run(InsertRecord("models", {"name": "After", "version": "1"}))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_damaged_page_of_a_large_inventory_found_by_a_page_offers_the_backup(
    window, inv_path, monkeypatch, crashes, qtbot
):
    """Files above the quick-check size open without a full check; the usage page then
    meets the damaged page: the window says so and offers the newest sound backup (the
    daily one), restores it to a new file and opens that; the damaged file is kept."""
    daily = core_integrity.make_daily_backup(inv_path)  # sound, and today's: none is due
    overwrite_table_root(inv_path)
    monkeypatch.setattr(core_integrity, "QUICK_CHECK_MAX_BYTES", 0)  # "a large file"
    digest = _sha(inv_path)
    messages = Messages(monkeypatch, click=RESTORE_TEXT)
    assert window.open_inventory(inv_path)
    assert not window.daily_backups_running
    window.show_page("usage")
    qtbot.waitUntil(lambda: bool(messages.boxes), timeout=10_000)
    qtbot.waitUntil(lambda: window.inventory is not None, timeout=10_000)
    assert not crashes
    [(kind, title, text, buttons)] = messages.boxes
    assert kind == "box" and title == "Inventory damaged"
    assert str(inv_path) in text and "damaged" in text and "malformed" in text
    assert daily.name in text and RESTORE_TEXT in buttons
    restored = window.inventory.path
    assert restored != inv_path and restored.name.startswith("ledger (restored ")
    assert table_digests(restored) == table_digests(daily)
    window.show_page("usage")
    assert window.pages["usage"].model.rowCount() > 0
    assert _sha(inv_path) == digest  # the damaged file was never written


def test_the_daily_backup_finds_damage_in_a_large_inventory(
    window, inv_path, monkeypatch, crashes, qtbot
):
    """Opening a large damaged file for editing starts the daily backup, whose check of
    its copy finds the damage: the window offers the newest sound backup, and the
    damaged copy is not kept (nor are older backups removed)."""
    [migration] = core_integrity.find_backups(inv_path)
    overwrite_table_root(inv_path)
    monkeypatch.setattr(core_integrity, "QUICK_CHECK_MAX_BYTES", 0)
    digest = _sha(inv_path)
    messages = Messages(monkeypatch, click="Cancel")
    assert window.open_inventory(inv_path)
    qtbot.waitUntil(lambda: bool(messages.boxes), timeout=20_000)
    assert not crashes
    [(kind, title, text, buttons)] = messages.boxes
    assert kind == "box" and title == "Inventory damaged" and "a fresh copy" in text
    assert migration.name in text and RESTORE_TEXT in buttons
    assert window.inventory is None  # closed; the user cancelled the restore
    assert core_integrity.find_backups(inv_path) == [migration]
    assert not [p for p in inv_path.parent.iterdir() if p.name.endswith(".tmp")]
    assert _sha(inv_path) == digest
