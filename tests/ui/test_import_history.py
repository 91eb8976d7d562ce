"""File > Import History…: imports made outside this session (through core, as the
command line makes them) are listed and undone through the editor, and Ctrl+Z puts them
back."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from core.importing import commit_import, open_source, plan_import, propose_mapping
from core.inventory import Inventory
from ui.import_history_dialog import HEADERS, ImportHistoryDialog
from ui.main_window import MainWindow
from ui.plain_text import literal
from ui.settings import SettingsStore

MODELS_CSV = "Model,Version,Parameters (billions)\nAlpha,1,7\nBeta,2,13\n<b>Gamma</b>,1,1\n"


def _import(inv: Inventory, path) -> int:
    sheet = open_source(path)[0]
    plan = plan_import(inv, sheet, propose_mapping(sheet, "models"))
    return commit_import(inv, [plan]).import_id


@pytest.fixture
def imported(tmp_path):
    """An inventory with one import of three models, made before the app opens it."""
    path = tmp_path / "team.aicl"
    csv = tmp_path / "q3 <models>.csv"  # a name that would be markup if not shown as text
    csv.write_text(MODELS_CSV)
    with Inventory.create(path) as inv:
        import_id = _import(inv, csv)
    return path, import_id


@pytest.fixture
def window(qtbot):
    w = MainWindow(SettingsStore())
    qtbot.addWidget(w)
    w.show()
    return w


def _open_history(window) -> ImportHistoryDialog:
    window.import_history_action.trigger()
    dialog = window.import_history
    assert isinstance(dialog, ImportHistoryDialog) and dialog.isVisible()
    return dialog


def _cell(dialog, row: int, header: str) -> str:
    return dialog.table.item(row, HEADERS.index(header)).text()


def _model_names(inv: Inventory) -> list[str]:
    return [r[0] for r in inv.conn.execute("SELECT name FROM models ORDER BY id")]


def test_history_lists_an_earlier_import_and_undoes_it_with_ctrl_z_back(
    qtbot, window, imported, messages
):
    path, import_id = imported
    assert window.open_inventory(path)
    dialog = _open_history(window)
    assert dialog.table.rowCount() == 1
    assert _cell(dialog, 0, "File") == "q3 <models>.csv"
    assert _cell(dialog, 0, "New") == "3"
    assert _cell(dialog, 0, "State") == "Imported"
    assert dialog.details.textFormat() == Qt.TextFormat.PlainText
    assert "Can be undone." in dialog.details.text()
    assert dialog.undo_button.isEnabled()

    dialog.undo_button.click()
    kind, _title, text = messages.messages[-1]
    assert kind == "question" and "q3 <models>.csv" in text
    assert literal(text) == text  # Qt would not take it for markup: shown as written
    assert "3 new rows" in text
    assert _model_names(window.inventory) == []
    assert _cell(dialog, 0, "State").startswith("Undone ")
    assert not dialog.undo_button.isEnabled()
    assert window.editor.stack.undoText().startswith(f"Remove import {import_id}")
    assert window.inventory.conn.execute(
        "SELECT undone_at IS NOT NULL FROM imports_log WHERE id = ?", (import_id,)
    ).fetchone()[0]

    dialog.close()
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.undo_action.shortcut() == QKeySequence(QKeySequence.StandardKey.Undo)
    assert _model_names(window.inventory) == ["Alpha", "Beta", "<b>Gamma</b>"]
    dialog = _open_history(window)
    assert _cell(dialog, 0, "State") == "Imported"
    window.editor.stack.redo()  # the list follows edits made while it is open
    assert _cell(dialog, 0, "State").startswith("Undone ")


def test_an_undo_that_would_orphan_later_records_is_refused_with_the_reason(
    window, imported, messages
):
    path, _ = imported
    with Inventory.open(path) as inv:
        alpha = inv.conn.execute("SELECT id FROM models WHERE name = 'Alpha'").fetchone()[0]
        inv.insert_logged(
            "training_runs", [{"name": "run", "model_id": alpha, "kind": "fine-tuning"}], "t"
        )
    window.open_inventory(path)
    dialog = _open_history(window)
    assert "refers to models it added" in dialog.details.text()
    assert not dialog.undo_selected()
    kind, title, text = messages.messages[-1]
    assert (kind, title) == ("warning", "Cannot undo the import")
    assert "1 training run added or changed since refers to models it added" in text
    assert not any(m[0] == "question" for m in messages.messages)  # refused before asking
    assert len(_model_names(window.inventory)) == 3
    assert window.editor.stack.count() == 0


def test_a_later_import_must_be_undone_first(window, imported, tmp_path, messages):
    path, first = imported
    changed = tmp_path / "models v2.csv"
    changed.write_text("Model,Version,Parameters (billions)\nAlpha,1,8\n")
    with Inventory.open(path) as inv:
        second = _import(inv, changed)
    window.open_inventory(path)
    dialog = _open_history(window)
    assert [r.id for r in dialog.records] == [second, first]  # newest first
    assert dialog.select_import(first)
    assert not dialog.undo_selected()
    assert f"import {second} (models v2.csv) changed 1 model it added" in messages.texts()[-1]
    assert dialog.select_import(second)
    assert dialog.undo_selected()
    assert dialog.select_import(first)
    assert dialog.undo_selected()
    assert _model_names(window.inventory) == []


def test_the_menu_entry_needs_an_editable_inventory(window, imported):
    path, _ = imported
    assert not window.import_history_action.isEnabled()  # no inventory
    window.open_inventory(path)
    assert window.import_history_action.isEnabled()
    window.set_inventory(Inventory.open(path), read_only_reason="another program writes it")
    assert not window.import_history_action.isEnabled()
    window.show_import_history()
    assert window.import_history is None
