"""File > Save a Copy on a worker: a window-modal progress dialog ("Saving a copy…" over a
bar with the percentage, then "Checking the copy…") with Cancel, which leaves no copy and
no temporary file.

The copy of the demo inventory is made in steps of 8 pages (16 steps), and held after
its first step (or in its check) until the test lets it go or cancels it, so that what
the dialog shows can be seen. A damaged inventory's copy is in
``test_damage_offers_dialogs``; the plain copy in ``test_main_window``.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtWidgets import QApplication, QFileDialog, QPushButton

from core import inventory as inventory_module
from core.inventory import Inventory
from ui import window_inventory
from ui.main_window import MainWindow
from ui.settings import SettingsStore
from ui.window_inventory import SaveCopyDialog

TIMEOUT = 30_000
#: how long a held copy waits at most (a failing test must not hang)
HOLD_SECONDS = 20


@pytest.fixture
def inv_path(demo_path, tmp_path) -> Path:
    path = tmp_path / "ledger.aicl"
    with Inventory.open(demo_path) as src:
        src.save_copy(path)
    return path


@pytest.fixture
def window(qtbot, inv_path):
    w = MainWindow(SettingsStore())
    qtbot.addWidget(w)
    w.show()
    assert w.open_inventory(inv_path)
    yield w
    qtbot.waitUntil(lambda: not w.copy_running and not w.daily_backups_running, timeout=TIMEOUT)


@pytest.fixture
def target(tmp_path, monkeypatch) -> Path:
    """Where the save dialog says to put the copy (a folder of its own)."""
    path = tmp_path / "copies" / "q3 copy.aicl"
    path.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    return path


class Hold:
    """Holds the copy on its worker after its first step (``where="copy"``) or before
    its check (``"check"``) until :meth:`release` or Cancel."""

    def __init__(self, monkeypatch, where: str):
        self.reached = threading.Event()
        self._released = threading.Event()
        monkeypatch.setattr(inventory_module, "COPY_STEP_PAGES", 8)
        if where == "copy":
            real_save_copy = Inventory.save_copy

            def save_copy(inventory, dest, progress=None, cancel=None):
                def progress_then_hold(fraction: float) -> None:
                    progress(fraction)
                    self._hold(cancel)

                return real_save_copy(inventory, dest, progress_then_hold, cancel)

            monkeypatch.setattr(Inventory, "save_copy", save_copy)
        else:
            real_problem = window_inventory._copy_problem

            def copy_problem(copy, cancel=None):
                self._hold(cancel)
                return real_problem(copy, cancel)

            monkeypatch.setattr(window_inventory, "_copy_problem", copy_problem)

    def _hold(self, cancel) -> None:
        if self.reached.is_set():
            return
        self.reached.set()
        deadline = time.monotonic() + HOLD_SECONDS
        while not (self._released.is_set() or cancel()) and time.monotonic() < deadline:
            time.sleep(0.005)

    def release(self) -> None:
        self._released.set()


def shown_dialog(qtbot, window) -> SaveCopyDialog:
    qtbot.waitUntil(lambda: window.findChild(SaveCopyDialog) is not None, timeout=TIMEOUT)
    dialog = window.findChild(SaveCopyDialog)
    qtbot.waitUntil(dialog.isVisible, timeout=TIMEOUT)  # after its minimum duration
    return dialog


def gone(dialog: SaveCopyDialog) -> bool:
    """Whether the dialog is off screen (it deletes itself when the copy ends)."""
    return not (shiboken6.isValid(dialog) and dialog.isVisible())


def row_counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
    finally:
        conn.close()


def test_save_a_copy_shows_its_progress_and_writes_a_checked_copy(
    qtbot, window, inv_path, target, messages, monkeypatch
):
    hold = Hold(monkeypatch, "copy")
    window.save_copy_action.trigger()  # returns at once: the copy runs on a worker
    assert window.copy_running and hold.reached.wait(10)
    dialog = shown_dialog(qtbot, window)
    assert QApplication.activeModalWidget() is dialog  # the window cannot be edited meanwhile
    qtbot.waitUntil(lambda: dialog.value() > 0, timeout=TIMEOUT)
    assert dialog.labelText() == "Saving a copy…"  # the bar shows the percentage
    assert 0 < dialog.value() < dialog.maximum()
    assert not target.exists()
    hold.release()
    qtbot.waitUntil(lambda: not window.copy_running, timeout=TIMEOUT)
    assert row_counts(target) == row_counts(inv_path)
    assert window.statusBar().currentMessage() == f"Saved a copy as {target}"
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]  # nothing else
    assert gone(dialog) and not messages.messages
    assert window.inventory is not None and window.inventory.count("models") > 0


def test_cancel_while_copying_leaves_no_copy_and_no_temporary_file(
    qtbot, window, target, messages, monkeypatch
):
    hold = Hold(monkeypatch, "copy")
    window.save_copy_action.trigger()
    dialog = shown_dialog(qtbot, window)
    dialog.findChild(QPushButton).click()  # Cancel
    assert dialog.labelText().startswith("Cancelling")
    qtbot.waitUntil(lambda: not window.copy_running, timeout=TIMEOUT)
    assert hold.reached.is_set()
    assert list(target.parent.iterdir()) == []
    assert "cancelled" in window.statusBar().currentMessage()
    assert not messages.messages  # no error box for a cancel
    assert gone(dialog)


def test_cancel_while_checking_keeps_the_file_the_copy_would_replace(
    qtbot, window, target, messages, monkeypatch
):
    target.write_bytes(b"an earlier copy")
    hold = Hold(monkeypatch, "check")
    window.save_copy_action.trigger()
    dialog = shown_dialog(qtbot, window)
    qtbot.waitUntil(lambda: dialog.labelText() == "Checking the copy…", timeout=TIMEOUT)
    assert hold.reached.is_set()
    dialog.findChild(QPushButton).click()
    qtbot.waitUntil(lambda: not window.copy_running, timeout=TIMEOUT)
    assert target.read_bytes() == b"an earlier copy"
    assert list(target.parent.iterdir()) == [target]
    assert not messages.messages


def test_a_second_save_a_copy_waits_for_the_first(qtbot, window, target, monkeypatch):
    hold = Hold(monkeypatch, "copy")
    asked: list[str] = []

    def ask(*_args, **_kwargs) -> tuple[str, str]:
        asked.append("asked")
        return str(target), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", ask)
    window.save_copy_action.trigger()
    assert hold.reached.wait(10)
    window.save_copy()  # (the modal dialog would not let File > Save a Copy through)
    assert asked == ["asked"]
    hold.release()
    qtbot.waitUntil(lambda: not window.copy_running, timeout=TIMEOUT)
    assert target.exists()


def test_the_open_inventory_itself_is_refused_at_once(window, inv_path, messages, monkeypatch):
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(inv_path), ""))
    window.save_copy_action.trigger()
    assert messages.messages == [
        ("critical", "Cannot save a copy", f"{inv_path}: that is the open inventory itself.")
    ]
    assert not window.copy_running and window.findChild(SaveCopyDialog) is None
