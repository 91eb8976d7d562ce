"""The main window on real inventory files: opening, pages, forms, undo, search, sort."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QComboBox, QFileDialog, QLineEdit

from core.inventory import Inventory
from ui import app as app_module
from ui.inventory_page import InventoryPage
from ui.main_window import MainWindow
from ui.record_dialog import RecordDialog
from ui.settings import SettingsStore, default_inventory_path


@pytest.fixture
def window(qtbot):
    w = MainWindow(SettingsStore())
    qtbot.addWidget(w)
    w.show()
    return w


@pytest.fixture
def inv_path(tmp_path):
    path = tmp_path / "team.aicl"
    with Inventory.create(path) as inv:
        inv.insert_logged(
            "models",
            [
                {"name": "Llama 3.1", "version": "8B", "owner": "Support", "params_total_b": 8},
                {"name": "BERT base", "owner": "Legal", "params_total_b": 0.11},
                {"name": "Whisper", "version": "large-v3", "owner": "Support"},
            ],
            "test",
        )
    return path


def open_page(window, key) -> InventoryPage:
    window.show_page(key)
    page = window.pages[key]
    assert window.stack.currentWidget() is page
    return page


def names(page):
    col = [f.name for f in page.model.fields].index("name")
    return [page.model.index(r, col).data() for r in range(page.model.rowCount())]


def fill(dialog: RecordDialog, **values):
    """Type into the form as a user would."""
    for name, text in values.items():
        editor = dialog.editor(name)
        if isinstance(editor, QLineEdit):
            editor.clear()
            QTest.keyClicks(editor, text)
        elif isinstance(editor, QComboBox):
            editor.setCurrentIndex(editor.findText(text))
            assert editor.currentIndex() >= 0, f"{text!r} not offered for {name}"


def test_first_run_creates_default_inventory_and_welcomes(window, messages):
    app_module.open_initial_inventory(window, None)
    assert default_inventory_path().exists()
    assert window.inventory is not None
    assert window.inventory.path == default_inventory_path()
    assert window.stack.currentWidget() is window.welcome
    assert window.welcome.import_button.isEnabled()
    window.welcome.empty_button.click()
    assert window.stack.currentWidget() is window.pages["models"]
    assert window.windowTitle() == "inventory — AI Carbon Ledger"


def test_next_start_reopens_the_last_inventory(qtbot, window, inv_path):
    assert window.open_inventory(inv_path)
    window.close()
    again = MainWindow(SettingsStore())
    qtbot.addWidget(again)
    app_module.open_initial_inventory(again, None)
    assert again.inventory.path == inv_path.resolve()
    assert again.welcome is None
    assert str(inv_path.resolve()) in SettingsStore().recent_files()


def test_path_argument_opens_that_inventory(window, inv_path):
    app_module.open_initial_inventory(window, str(inv_path))
    assert window.inventory.path == inv_path
    assert window.windowTitle().startswith("team — ")
    page = open_page(window, "models")
    assert sorted(names(page)) == ["BERT base", "Llama 3.1", "Whisper"]
    assert window.nav.currentItem().text() == "Models  (3)"


def test_non_inventory_is_refused_with_a_message(window, tmp_path, messages):
    bogus = tmp_path / "notes.aicl"
    bogus.write_text("quarterly notes\n" * 20)
    assert not window.open_inventory(bogus)
    [text] = messages.texts("critical")
    assert str(bogus) in text and "not an AI Carbon Ledger inventory" in text
    assert window.inventory is None
    assert bogus.read_text() == "quarterly notes\n" * 20


def test_every_page_opens(window, inv_path):
    window.open_inventory(inv_path)
    for row in range(window.nav.count()):
        window.nav.setCurrentRow(row)
        assert window.stack.currentWidget() is not window.no_inventory


def test_dashboard_loads_its_modules_off_the_ui_thread(qtbot, window, inv_path, monkeypatch):
    """The first time, a loading page shows at once while pyqtgraph and the dashboard's
    modules are imported on a worker; the dashboard then replaces it by itself."""
    import importlib
    import sys
    import threading

    from ui.welcome import LoadingPage

    monkeypatch.delitem(sys.modules, "ui.dashboard_page", raising=False)  # as when started
    imported_on = []
    real_import = importlib.import_module

    def spy(name, *args, **kwargs):
        if name == "ui.dashboard_page" and name not in sys.modules:
            imported_on.append(threading.current_thread() is threading.main_thread())
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(importlib, "import_module", spy)
    window.open_inventory(inv_path)
    window.show_page("dashboard")
    loading = window.stack.currentWidget()
    assert isinstance(loading, LoadingPage) and "dashboard" not in window.pages
    assert "Loading the dashboard" in loading.label.text()
    qtbot.waitUntil(lambda: "dashboard" in window.pages, timeout=30_000)
    assert window.stack.currentWidget() is window.pages["dashboard"]
    assert imported_on == [False]  # imported once, on a worker thread
    stacked = [window.stack.widget(i) for i in range(window.stack.count())]
    assert not any(isinstance(w, LoadingPage) for w in stacked)  # the loading page is gone


def test_dashboard_loading_is_dropped_when_the_inventory_closes(qtbot, window, inv_path):
    import sys

    window.open_inventory(inv_path)
    sys.modules.pop("ui.dashboard_page", None)
    try:
        window.show_page("dashboard")
        window.close_inventory()
        qtbot.waitUntil(lambda: "ui.dashboard_page" in sys.modules, timeout=30_000)
        qtbot.wait(50)  # the import's finished slot has run
        assert window.stack.currentWidget() is window.no_inventory
        assert "dashboard" not in window.pages
    finally:
        import ui.dashboard_page  # noqa: F401  (back for the other tests)


def test_add_through_the_form_then_undo_and_redo(window, inv_path, monkeypatch):
    window.open_inventory(inv_path)
    page = open_page(window, "models")

    def exec_form(dialog):
        fill(dialog, name="Mistral", version="7B", params_total_b="7.3", owner="Search")
        assert dialog.buttons.button(dialog.buttons.StandardButton.Save).isEnabled()
        return RecordDialog.DialogCode.Accepted

    monkeypatch.setattr(RecordDialog, "exec", exec_form)
    page.add_record()
    assert "Mistral" in names(page)
    assert page.model.data(page.view.currentIndex()) == "Mistral"  # new row selected
    assert window.nav.currentItem().text() == "Models  (4)"
    with Inventory.open(inv_path) as other:  # really on disk, seen by another connection
        assert other.count("models") == 4

    assert window.undo_action.text().replace("&", "") == "Undo Add model 'Mistral 7B'"
    window.undo_action.trigger()
    assert "Mistral" not in names(page)
    window.redo_action.trigger()
    assert "Mistral" in names(page)


def test_form_marks_invalid_fields_and_saves_nothing(qtbot, inv_path):
    with Inventory.open(inv_path) as inv:
        dialog = RecordDialog(inv, "sites")
        qtbot.addWidget(dialog)
        save = dialog.buttons.button(dialog.buttons.StandardButton.Save)
        assert not save.isEnabled()  # name and kind are required
        fill(dialog, name="Paris colocation", kind="Colocation", pue="0.8")
        assert not save.isEnabled()
        assert dialog.error_text("pue") == "PUE must be at least 1"
        fill(dialog, pue="abc")
        assert dialog.error_text("pue") == "PUE must be a number"
        fill(dialog, pue="1.35")
        assert dialog.error_text("pue") == ""
        assert save.isEnabled()
        assert dialog.values()["pue"] == 1.35 and dialog.values()["kind"] == "colocation"


def test_form_checks_dates_and_shows_units(qtbot, inv_path):
    with Inventory.open(inv_path) as inv:
        dialog = RecordDialog(inv, "training_runs")
        qtbot.addWidget(dialog)
        fill(dialog, name="ft", model_id="BERT base", kind="Fine-tuning")
        dialog.editor("start_date").set_iso("2026-03-10")
        dialog.editor("end_date").set_iso("2026-03-01")
        assert "End is before the start" in dialog.error_text("end_date")
        dialog.editor("end_date").set_iso("2026-03-12")
        assert dialog.error_text("end_date") == ""
        units = {lbl.text() for lbl in dialog.findChildren(type(dialog.summary))}
        assert {"W", "kWh", "h", "devices"} <= units


def test_edit_and_delete_with_cascade_confirmation(window, inv_path, monkeypatch, messages):
    with Inventory.open(inv_path) as inv:
        bert = inv.ordered_ids("models", search="BERT")[0]
        inv.insert_logged(
            "training_runs", [{"name": "ft", "model_id": int(bert), "kind": "fine-tuning"}], "t"
        )
    window.open_inventory(inv_path)
    page = open_page(window, "models")
    page.select_id(int(bert))

    def exec_form(dialog):
        fill(dialog, owner="Compliance")
        return RecordDialog.DialogCode.Accepted

    monkeypatch.setattr(RecordDialog, "exec", exec_form)
    page.edit_record()
    assert window.inventory.get("models", int(bert))["owner"] == "Compliance"

    page.select_id(int(bert))
    window.delete_action.trigger()
    [question] = messages.texts("question")
    assert "Delete model 'BERT base'?" in question and "1 training run" in question
    assert window.inventory.count("models") == 2
    assert window.inventory.count("training_runs") == 0
    window.undo_action.trigger()
    assert window.inventory.count("training_runs") == 1
    assert window.inventory.get("models", int(bert))["owner"] == "Compliance"


def test_declining_the_confirmation_deletes_nothing(window, inv_path, monkeypatch, messages):
    with Inventory.open(inv_path) as inv:
        inv.insert_logged("deployments", [{"name": "d", "model_id": 1, "kind": "api"}], "t")
    window.open_inventory(inv_path)
    page = open_page(window, "models")
    page.select_id(1)
    messages.answer = messages.answer.Cancel
    page.delete_records()
    assert window.inventory.count("models") == 3
    assert window.inventory.count("deployments") == 1


def test_search_filters_in_sql_after_typing(qtbot, window, inv_path):
    window.open_inventory(inv_path)
    page = open_page(window, "models")
    QTest.keySequence(window, "Ctrl+F")
    assert page.search.hasFocus()
    QTest.keyClicks(page.search, "support")
    qtbot.waitUntil(lambda: page.model.rowCount() == 2, timeout=2000)
    assert sorted(names(page)) == ["Llama 3.1", "Whisper"]
    assert page.status.text() == "2 of 3 models match “support”"
    page.search.clear()
    qtbot.waitUntil(lambda: page.model.rowCount() == 3, timeout=2000)


def test_clicking_a_header_sorts(qtbot, window, inv_path):
    window.open_inventory(inv_path)
    page = open_page(window, "models")
    col = [f.name for f in page.model.fields].index("params_total_b")
    page.view.sortByColumn(col, Qt.SortOrder.DescendingOrder)
    assert names(page) == ["Llama 3.1", "BERT base", "Whisper"]  # blank last
    page.view.sortByColumn(col, Qt.SortOrder.AscendingOrder)
    assert names(page) == ["BERT base", "Llama 3.1", "Whisper"]
    header = page.model.headerData(col, Qt.Orientation.Horizontal)
    assert header == "Total parameters (billion)"


def test_save_a_copy(qtbot, window, inv_path, tmp_path, monkeypatch):
    window.open_inventory(inv_path)
    target = tmp_path / "copies" / "q3 copy.aicl"
    target.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    window.save_copy_action.trigger()  # copied and checked on a worker (test_save_copy_window)
    qtbot.waitUntil(lambda: not window.copy_running, timeout=30_000)
    assert window.statusBar().currentMessage() == f"Saved a copy as {target}"
    assert [p.name for p in target.parent.iterdir()] == [target.name]
    with Inventory.open(target) as copy:
        assert copy.count("models") == 3


def test_new_and_close_inventory(window, inv_path, tmp_path, monkeypatch):
    window.open_inventory(inv_path)
    target = tmp_path / "fresh"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    QTest.keySequence(window, "Ctrl+N")
    assert window.inventory.path == Path(f"{target}.aicl")
    assert window.inventory.count("models") == 0
    window.close_action.trigger()
    assert window.inventory is None
    assert window.stack.currentWidget() is window.no_inventory
    assert not window.add_action.isEnabled()


def test_geometry_and_splitter_persist(qtbot, window, inv_path):
    window.open_inventory(inv_path)
    window.resize(700, 500)  # within the offscreen screen (800x600): restores are clamped
    window.splitter.setSizes([260, 440])
    QApplication.processEvents()
    window.close()
    again = MainWindow(SettingsStore())
    qtbot.addWidget(again)
    assert again.size() == window.size()
    again.show()
    assert again.splitter.sizes()[0] == window.splitter.sizes()[0]


def test_welcome_demo_button_builds_and_opens_the_demo(window):
    from ui.settings import demo_inventory_path

    app_module.open_initial_inventory(window, None)
    window.welcome.demo_button.click()
    assert window.inventory.path == demo_inventory_path()
    assert window.inventory.count("training_runs") > 10
    assert window.stack.currentWidget() is window.pages["models"]
    window.undo_action.trigger()  # nothing to undo in a freshly opened inventory
    assert window.inventory.count("training_runs") > 10


def test_open_recent_lists_inventories(window, inv_path, tmp_path):
    other = tmp_path / "other.aicl"
    Inventory.create(other, reference_data=False).close()
    window.open_inventory(inv_path)
    window.open_inventory(other)
    window._fill_recent_menu()
    entries = [a.text() for a in window.recent_menu.actions()]
    assert entries == ["other.aicl", "team.aicl"]
    window.recent_menu.actions()[1].trigger()
    assert window.inventory.path == inv_path.resolve()


def test_sorting_does_not_requery_for_the_same_order(window, inv_path, monkeypatch):
    window.open_inventory(inv_path)
    page = open_page(window, "models")
    calls = []
    original = window.inventory.ordered_ids
    monkeypatch.setattr(
        window.inventory, "ordered_ids", lambda *a, **k: calls.append(a) or original(*a, **k)
    )
    col = page.model.sort_column()
    page.view.sortByColumn(col, Qt.SortOrder.AscendingOrder)
    assert calls == []
    page.view.sortByColumn(col, Qt.SortOrder.DescendingOrder)
    assert len(calls) == 1


def test_a_refused_save_reopens_the_form_with_what_was_typed(
    window, inv_path, monkeypatch, messages
):
    window.open_inventory(inv_path)
    page = open_page(window, "models")
    shown = []

    def exec_form(dialog):
        shown.append(dialog.values()["name"])
        if len(shown) == 1:
            fill(dialog, name="BERT base")  # taken: saving is refused
            return RecordDialog.DialogCode.Accepted
        return RecordDialog.DialogCode.Rejected  # the user gives up

    monkeypatch.setattr(RecordDialog, "exec", exec_form)
    page.add_record()
    assert shown == [None, "BERT base"]  # reopened with the typed name
    [warning] = messages.texts("warning")
    assert "already exists" in warning
    assert window.inventory.count("models") == 3


def test_form_refuses_power_over_ten_times_the_tdp(qtbot, inv_path):
    with Inventory.open(inv_path) as inv:
        dialog = RecordDialog(inv, "training_runs")
        qtbot.addWidget(dialog)
        fill(
            dialog,
            name="ft",
            model_id="BERT base",
            kind="Fine-tuning",
            hardware_id="NVIDIA A100 SXM4",
            avg_power_w="5000",
        )
        assert "more than 10 x the hardware's TDP (400 W)" in dialog.error_text("avg_power_w")
        assert not dialog.buttons.button(dialog.buttons.StandardButton.Save).isEnabled()
        fill(dialog, avg_power_w="380")
        assert dialog.error_text("avg_power_w") == ""


def test_navigation_follows_a_change_of_the_system_palette(qtbot, window):
    """The navigation list has a style sheet; it must still take a new (dark) palette."""
    from PySide6.QtGui import QColor, QPalette

    app = QApplication.instance()
    before = QPalette(app.palette())
    dark = QPalette(before)
    dark.setColor(QPalette.ColorRole.Base, QColor("#1e1e1e"))
    dark.setColor(QPalette.ColorRole.Window, QColor("#2b2b2b"))
    try:
        app.setPalette(dark)
        qtbot.waitUntil(
            lambda: window.nav.palette().color(QPalette.ColorRole.Base).name() == "#1e1e1e"
        )
        light = QPalette(before)
        light.setColor(QPalette.ColorRole.Base, QColor("#fafafa"))
        app.setPalette(light)  # and back to a light one
        qtbot.waitUntil(
            lambda: window.nav.palette().color(QPalette.ColorRole.Base).name() == "#fafafa"
        )
    finally:
        app.setPalette(before)


# -- another program changes the record while its form is open (no lost update) ---------


def _other_program(path, row_id, **values):
    """Another program (the command line, a script) writes the record and commits."""
    import sqlite3

    conn = sqlite3.connect(path, isolation_level=None)
    try:
        sets = ", ".join(f"{k} = ?" for k in values)
        conn.execute(f"UPDATE models SET {sets} WHERE id = ?", (*values.values(), row_id))
    finally:
        conn.close()


def _llama(inv_path) -> int:
    with Inventory.open(inv_path) as inv:
        return int(inv.ordered_ids("models", search="Llama")[0])


def _edit_in_form(window, inv_path, row_id, monkeypatch, *forms):
    """Edit model ``row_id`` through its form; ``forms`` are what the user does each
    time the form shows (a function of the dialog returning the dialog code)."""
    window.open_inventory(inv_path)
    page = open_page(window, "models")
    page.select_id(row_id)
    steps = list(forms)
    monkeypatch.setattr(RecordDialog, "exec", lambda dialog: steps.pop(0)(dialog))
    page.edit_record()
    assert not steps, "the form was shown fewer times than expected"


def test_saving_a_form_keeps_a_field_another_program_changed_meanwhile(
    window, inv_path, monkeypatch, messages
):
    llama = _llama(inv_path)

    def edit_notes_only(dialog):
        _other_program(inv_path, llama, params_total_b=70.0, owner="Platform")
        dialog.editor("notes").setPlainText("checked by legal")
        return RecordDialog.DialogCode.Accepted

    _edit_in_form(window, inv_path, llama, monkeypatch, edit_notes_only)
    record = window.inventory.get("models", llama)
    assert record["notes"] == "checked by legal"
    assert record["params_total_b"] == 70.0 and record["owner"] == "Platform"  # not put back
    assert not messages.messages
    window.undo_action.trigger()  # undo takes back the notes only
    record = window.inventory.get("models", llama)
    assert record["notes"] is None and record["owner"] == "Platform"


def test_a_field_both_changed_is_refused_then_the_form_shows_the_record_as_it_is_now(
    window, inv_path, monkeypatch, messages
):
    llama = _llama(inv_path)
    seen = []

    def change_owner(dialog):
        _other_program(inv_path, llama, owner="Platform", params_total_b=70.0)
        fill(dialog, owner="Search")
        return RecordDialog.DialogCode.Accepted

    def look_again(dialog):
        seen.append(dialog.values())
        return RecordDialog.DialogCode.Accepted  # save again, having seen the message

    _edit_in_form(window, inv_path, llama, monkeypatch, change_owner, look_again)
    [warning] = messages.texts("warning")
    assert "changed by another program while you edited it" in warning
    assert "Owner / team is now 'Platform'" in warning and "not saved" in warning
    # the form came back on the record as it is now, with what the user typed kept
    [values] = seen
    assert values["owner"] == "Search" and values["params_total_b"] == 70.0
    record = window.inventory.get("models", llama)
    assert record["owner"] == "Search" and record["params_total_b"] == 70.0


def test_a_form_saved_unchanged_writes_nothing(window, inv_path, monkeypatch, messages):
    llama = _llama(inv_path)
    with Inventory.open(inv_path) as inv:
        log = inv.conn.execute("SELECT count(*) FROM change_log").fetchone()[0]
    _edit_in_form(window, inv_path, llama, monkeypatch, lambda _d: RecordDialog.DialogCode.Accepted)
    assert window.editor.stack.count() == 0
    assert window.inventory.conn.execute("SELECT count(*) FROM change_log").fetchone()[0] == log
