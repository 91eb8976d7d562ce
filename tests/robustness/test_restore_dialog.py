"""The app says an inventory is damaged and offers to restore its automatic backup to a
new file, which it then opens; the damaged file is never written."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox
from robustness_support import SCHEMAS

from core import integrity
from core.inventory import Inventory
from ui.main_window import MainWindow
from ui.restore_backup import RESTORE_TEXT
from ui.settings import SettingsStore


class BoxAnswers:
    """Stands in for ``QMessageBox.exec``: records each box and clicks a button."""

    def __init__(self, monkeypatch, click: str | None):
        self.boxes: list[tuple[str, str, str, list[str]]] = []
        self.click = click
        monkeypatch.setattr(QMessageBox, "exec", lambda box: self._exec(box))
        monkeypatch.setattr(QMessageBox, "critical", self._critical)

    def _exec(self, box: QMessageBox) -> int:
        buttons = [b.text() for b in box.buttons()]
        self.boxes.append((box.windowTitle(), box.text(), box.informativeText(), buttons))
        for button in box.buttons():
            if button.text() == self.click:
                button.click()
        return 0

    def _critical(self, _parent, title, text, *args, **kwargs):
        self.boxes.append((title, text, "", []))
        return QMessageBox.StandardButton.Ok


@pytest.fixture
def damaged(tmp_path) -> tuple[Path, Path, str]:
    path = Path(shutil.copy(SCHEMAS / "schema4.aicl", tmp_path / "ledger.aicl"))
    Inventory.open(path).close()
    [backup] = integrity.find_backups(path)
    data = bytearray(path.read_bytes())
    data[100:4096] = bytes(range(256)) * 15 + bytes(range(156))  # the schema page
    path.write_bytes(bytes(data))
    return path, backup, hashlib.sha256(data).hexdigest()


@pytest.fixture
def window(qtbot, private_qsettings):
    w = MainWindow(SettingsStore())
    qtbot.addWidget(w)
    w.show()
    return w


def test_restore_opens_a_new_file_and_keeps_the_damaged_one(window, damaged, monkeypatch):
    path, backup, digest = damaged
    answers = BoxAnswers(monkeypatch, click=RESTORE_TEXT)
    assert window.open_inventory(path)
    [(title, text, info, buttons)] = answers.boxes
    assert title == "Inventory damaged" and str(path) in text and backup.name in text
    assert RESTORE_TEXT in buttons and "damaged file ledger.aicl is kept" in info
    opened = window.inventory.path
    assert opened != path and opened.name.startswith("ledger (restored ")
    assert window.inventory.count("usage") > 0
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    window.close_inventory()


def test_cancel_opens_nothing_and_changes_nothing(window, damaged, monkeypatch):
    path, _, digest = damaged
    answers = BoxAnswers(monkeypatch, click="Cancel")
    assert not window.open_inventory(path)
    assert len(answers.boxes) == 1 and window.inventory is None
    assert sorted(p.name for p in path.parent.glob("*restored*")) == []
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


def test_without_a_backup_it_only_explains(window, damaged, monkeypatch):
    path, backup, _ = damaged
    backup.unlink()
    answers = BoxAnswers(monkeypatch, click=RESTORE_TEXT)
    assert not window.open_inventory(path)
    [(_, text, _, buttons)] = answers.boxes
    assert "your own backup copy" in text and RESTORE_TEXT not in buttons
