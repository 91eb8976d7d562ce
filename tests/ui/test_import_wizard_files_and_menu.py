"""The import wizard's files page and the main window's ways in and out: an unreadable
file is named while the others go on, File > Import, a drop and the welcome panel start
the wizard, and File > Export and Save Import Template write their workbooks."""

from __future__ import annotations

import import_wizard_support as support
from import_wizard_support import MODELS_CSV, advance, open_wizard
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog

from core import importing
from core.inventory import Inventory
from ui.main_window import MainWindow
from ui.settings import SettingsStore

# the wizard tests' fixtures (pytest finds fixtures bound in a test module)
inv_path = support.inv_path
window = support.window


def test_unreadable_file_is_named_and_the_others_go_on(qtbot, window, tmp_path):
    bad = tmp_path / "report.xlsx"
    bad.write_bytes(b"%PDF-1.7 not a workbook")
    good = tmp_path / "models.csv"
    good.write_text(MODELS_CSV, encoding="utf-8")
    wizard = open_wizard(qtbot, window, [bad, good])
    texts = [wizard.files_page.list.item(r).text() for r in range(2)]
    assert texts[0].startswith("report.xlsx — cannot be read")
    assert texts[1] == "models.csv — 1 sheet"
    advance(qtbot, wizard, wizard.SHEETS)
    assert [s.info.file for s in wizard.sheets] == [good]


def test_file_menu_drop_and_welcome_start_the_wizard(qtbot, inv_path, tmp_path, monkeypatch):
    window = MainWindow(SettingsStore())
    qtbot.addWidget(window)
    window.set_inventory(Inventory.open(inv_path), welcome=True)
    window.show()
    file_menu = window.menuBar().actions()[0].menu()
    texts = [a.text() for a in file_menu.actions()]
    assert {"&Import…", "&Export…", "Save Import &Template…"} <= set(texts)
    assert window.import_action.shortcut().toString() == "Ctrl+I"

    csv_path = tmp_path / "models.csv"
    csv_path.write_text(MODELS_CSV, encoding="utf-8")
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a, **k: ([str(csv_path)], ""))
    assert window.welcome.import_button.isEnabled()
    window.welcome.import_button.click()
    assert window.import_wizard.files_page._pending == [] or window.import_wizard.isVisible()
    qtbot.waitUntil(window.import_wizard.files_page.isComplete)
    window.import_wizard.reject()

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(csv_path))])
    enter = QDragEnterEvent(
        QPoint(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    QApplication.sendEvent(window, drop)
    wizard = window.import_wizard
    assert wizard.isVisible()
    qtbot.waitUntil(wizard.files_page.isComplete)
    assert [s.info.file for s in wizard.files_page.readable()] == [csv_path]
    wizard.reject()

    # a PDF dropped on the window is not offered to the wizard
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path / "report.pdf"))])
    enter = QDragEnterEvent(
        QPoint(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    enter.ignore()
    QApplication.sendEvent(window, enter)
    assert not enter.isAccepted()


def test_export_and_template(qtbot, window, inv_path, tmp_path, monkeypatch):
    out = tmp_path / "export.xlsx"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    window.export_action.trigger()
    qtbot.waitUntil(lambda: "Exported" in window.statusBar().currentMessage(), timeout=20_000)
    sheets = importing.open_source(out)
    assert "Models" in [s.name for s in sheets] or "models" in [s.name for s in sheets]

    template = tmp_path / "template.xlsx"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(template), ""))
    window.template_action.trigger()
    assert template.exists()
    assert importing.open_source(template)
