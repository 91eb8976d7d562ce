"""Reads of the open inventory made by dialogs once they are open (and by Save a Copy)
that meet a damaged page bring the window's restore offer, once, and close the dialog,
instead of SQLite's words in a message box or the crash report: the import wizard's
pages, Import History (its list and what blocks an undo), the record form (its dropdown
lists, and a training run's hardware power while it is filled in), the what-if
scenarios dialog and File > Save a Copy (which copies nothing of a damaged file). The
damaged file is never written; other failures keep their message.

The damage is made as in ``test_damage_offers_more``: a table's root page overwritten
on disk, and the window's connection made to forget what it has cached.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import shiboken6
import test_damage_offers as base
from import_wizard_support import MODELS_CSV, advance, open_wizard
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QComboBox, QFileDialog
from test_damage_offers import TIMEOUT, assert_offered, sha, spy
from test_damage_offers_more import damage, idle_dashboard, no_warnings

from core.importing import commit_import, open_source, plan_import, propose_mapping
from ui import import_history_dialog, scenario_dialog
from ui.import_history_dialog import ImportHistoryDialog
from ui.record_dialog import RecordDialog
from ui.scenario_dialog import ScenarioDialog
from ui.window_inventory import SaveCopyDialog

# the damage tests' fixtures (pytest finds fixtures bound in a test module)
inv_path = base.inv_path
offers = base.offers
crashes = base.crashes
window = base.window


def shown(widget) -> bool:
    """Whether ``widget`` is still on screen (a dialog deleted on close is not)."""
    return shiboken6.isValid(widget) and widget.isVisible()


def in_modal_loop(qtbot, action) -> None:
    """Run ``action(dialog)`` on the modal dialog once its loop runs; a dialog still
    open after that is closed a while later, so that a failing test does not hang."""

    def act() -> None:
        dialog = QApplication.activeModalWidget()
        assert dialog is not None
        QTimer.singleShot(3000, dialog, dialog.reject)
        action(dialog)

    QTimer.singleShot(0, act)


# -- the import wizard -----------------------------------------------------------------


def test_the_import_wizard_setting_up_a_page_brings_the_restore_offer(
    qtbot, window, inv_path, offers, crashes, messages, tmp_path
):
    """The columns page fills its list of saved presets from the window's connection
    as it is set up."""
    csv = tmp_path / "models.csv"
    csv.write_text(MODELS_CSV, encoding="utf-8")
    wizard = open_wizard(qtbot, window, [csv])
    advance(qtbot, wizard, wizard.SHEETS)
    found = spy(wizard.damaged)
    digest = damage(window, inv_path, "sqlite_autoindex_import_presets_1")
    wizard.next()
    error = assert_offered(qtbot, window, offers, inv_path, digest, crashes)
    assert found == [error] and "malformed" in str(error)
    assert not shown(wizard)
    assert no_warnings(messages)


def test_the_import_wizard_closes_when_the_inventory_closes(qtbot, window, tmp_path):
    csv = tmp_path / "models.csv"
    csv.write_text(MODELS_CSV, encoding="utf-8")
    wizard = open_wizard(qtbot, window, [csv])
    window.close_inventory()
    qtbot.waitUntil(lambda: not shown(wizard), timeout=TIMEOUT)


# -- Import History --------------------------------------------------------------------


def import_twice(window, tmp_path: Path) -> list[int]:
    """Two imports of models into the window's inventory; their ids."""
    ids = []
    for n in (1, 2):
        csv = tmp_path / f"models{n}.csv"
        csv.write_text(f"Model,Version\nImported {n},1\n", encoding="utf-8")
        sheet = open_source(csv)[0]
        plan = plan_import(window.inventory, sheet, propose_mapping(sheet, "models"))
        ids.append(commit_import(window.inventory, [plan]).import_id)
    return ids


def open_history(window) -> ImportHistoryDialog:
    window.import_history_action.trigger()
    dialog = window.import_history
    assert isinstance(dialog, ImportHistoryDialog) and dialog.isVisible()
    return dialog


def test_import_history_undo_on_a_damaged_file_brings_the_restore_offer(
    qtbot, window, inv_path, offers, crashes, messages, tmp_path
):
    import_twice(window, tmp_path)
    dialog = open_history(window)
    found = spy(dialog.damaged)
    digest = damage(window, inv_path, "imports_log")  # what blocks the undo is read again
    dialog.undo_button.click()
    error = assert_offered(qtbot, window, offers, inv_path, digest, crashes)
    assert found == [error] and "malformed" in str(error)
    assert not shown(dialog)
    assert not messages.messages  # no "Cannot undo the import" box, no question


def test_import_history_selecting_on_a_damaged_file_brings_the_restore_offer(
    qtbot, window, inv_path, offers, crashes, messages, tmp_path
):
    first, _second = import_twice(window, tmp_path)
    dialog = open_history(window)
    found = spy(dialog.damaged)
    digest = damage(window, inv_path, "imports_log")
    assert dialog.select_import(first)  # its details say what blocks undoing it
    error = assert_offered(qtbot, window, offers, inv_path, digest, crashes)
    assert found == [error] and not shown(dialog)
    assert not messages.messages


def test_import_history_listing_again_on_a_damaged_file_brings_the_restore_offer(
    qtbot, window, inv_path, offers, crashes, tmp_path
):
    import_twice(window, tmp_path)
    dialog = open_history(window)
    found = spy(dialog.damaged)
    digest = damage(window, inv_path, "imports_log")
    window.editor.edited.emit(frozenset({"models"}))  # an edit elsewhere: listed again
    error = assert_offered(qtbot, window, offers, inv_path, digest, crashes)
    assert found == [error] and not shown(dialog)


def test_another_import_history_failure_keeps_its_message(
    qtbot, window, offers, crashes, messages, monkeypatch, tmp_path
):
    """An import gone meanwhile (another program) is the refusal, as before."""
    from core.errors import RecordNotFoundError

    import_twice(window, tmp_path)
    dialog = open_history(window)

    def gone(_inv, import_id):
        raise RecordNotFoundError(f"No import {import_id}.")

    monkeypatch.setattr(import_history_dialog, "undo_refusal", gone)
    assert not dialog.undo_selected()
    [(kind, title, text)] = messages.messages
    assert (kind, title) == ("warning", "Cannot undo the import") and "No import" in text
    qtbot.wait(50)
    assert not offers.errors and window.inventory is not None and not crashes
    assert dialog.isVisible()


# -- the record form -------------------------------------------------------------------


def test_adding_a_record_on_a_damaged_file_brings_the_restore_offer(
    qtbot, window, inv_path, offers, crashes, monkeypatch
):
    """The form fills its Model list as it is built."""
    shown = []
    monkeypatch.setattr(RecordDialog, "exec", lambda d: shown.append(d) or 0)
    window.show_page("training_runs")
    page = window.pages["training_runs"]
    announced = spy(page.damaged)
    digest = damage(window, inv_path, "sqlite_autoindex_models_1")  # the list's names
    page.add_record()
    error = assert_offered(qtbot, window, offers, inv_path, digest, crashes)
    assert announced == [error] and not shown


def test_editing_a_record_on_a_damaged_file_brings_the_restore_offer(
    qtbot, window, inv_path, offers, crashes, monkeypatch
):
    shown = []
    monkeypatch.setattr(RecordDialog, "exec", lambda d: shown.append(d) or 0)
    window.show_page("training_runs")
    page = window.pages["training_runs"]
    page.select_id(page.model.id_at(0))
    announced = spy(page.damaged)
    digest = damage(window, inv_path, "sqlite_autoindex_models_1")
    page.edit_record()
    error = assert_offered(qtbot, window, offers, inv_path, digest, crashes)
    assert announced == [error] and not shown


def hardware_choice(dialog: RecordDialog) -> QComboBox:
    combo = dialog.editor("hardware_id")
    assert isinstance(combo, QComboBox) and combo.count() > 1
    return combo


def test_the_record_form_checking_power_on_a_damaged_file_brings_the_restore_offer(
    qtbot, window, inv_path, offers, crashes, messages
):
    """Choosing the hardware of a training run reads its power (to check the average
    power against it) while the form is open: the form closes, nothing is saved."""
    window.show_page("training_runs")
    page = window.pages["training_runs"]
    announced = spy(page.damaged)
    rows = page.model.rowCount()
    forms: list[RecordDialog] = []
    digests: list[str] = []

    def choose_hardware(dialog) -> None:
        assert isinstance(dialog, RecordDialog)
        forms.append(dialog)
        combo = hardware_choice(dialog)
        digests.append(damage(window, inv_path, "hardware"))
        combo.setCurrentIndex(combo.count() - 1)  # the form checks again

    in_modal_loop(qtbot, choose_hardware)
    page.add_record()  # the real form, closed by the damage
    [form] = forms
    assert not form.isVisible() and form.result() == RecordDialog.DialogCode.Rejected
    error = assert_offered(qtbot, window, offers, inv_path, digests[0], crashes)
    assert announced == [error] and "malformed" in str(error)
    assert no_warnings(messages) and rows  # nothing was saved (the file is as damaged)


def test_the_record_form_keeps_other_failures_as_they_are(
    qtbot, window, offers, crashes, monkeypatch
):
    from ui import record_dialog

    window.show_page("training_runs")
    dialog = RecordDialog(window.inventory, "training_runs", parent=window)
    qtbot.addWidget(dialog)
    combo = hardware_choice(dialog)

    def fail(_inv, _values):
        raise sqlite3.OperationalError("no such column: tdp_w")

    monkeypatch.setattr(record_dialog, "hardware_tdp", fail)
    combo.setCurrentIndex(1)  # checked in a slot: the crash report, as before
    assert crashes and "no such column" in crashes[-1]
    crashes.clear()
    with pytest.raises(sqlite3.OperationalError, match="no such column"):
        dialog.problems()
    qtbot.wait(50)
    assert not offers.errors and window.inventory is not None


# -- the what-if scenarios dialog ------------------------------------------------------


def test_the_scenarios_dialog_adding_a_change_on_a_damaged_file_brings_the_restore_offer(
    qtbot, window, inv_path, offers, crashes, messages
):
    """Add change checks that the records it names exist; the dialog closes and the
    dashboard, which opened it, announces the damage."""
    page = idle_dashboard(qtbot, window)
    announced = spy(page.damaged)
    dialogs: list[ScenarioDialog] = []
    digests: list[str] = []

    def add_change(dialog) -> None:
        assert isinstance(dialog, ScenarioDialog)
        dialogs.append(dialog)
        digests.append(damage(window, inv_path, "sites"))
        dialog.kind.setCurrentIndex(dialog.kind.findData("move_site"))
        dialog._on_add_clicked()  # the Add change button

    in_modal_loop(qtbot, add_change)
    page.scenario_button.click()
    [dialog] = dialogs
    assert not dialog.isVisible() and dialog.damage is not None
    error = assert_offered(qtbot, window, offers, inv_path, digests[0], crashes)
    assert announced == [error]
    assert no_warnings(messages)


def test_the_scenarios_dialog_saving_on_a_damaged_file_brings_the_restore_offer(
    qtbot, window, inv_path, offers, crashes, messages
):
    """Saved without the window's editor (as it can be made): the dialog's own write."""
    dialog = ScenarioDialog(window.inventory, window)
    qtbot.addWidget(dialog)
    dialog.name.setText("Stockholm")
    dialog.kind.setCurrentIndex(dialog.kind.findData("set_pue"))
    dialog._on_add_clicked()
    digest = damage(window, inv_path, "scenarios")
    in_modal_loop(qtbot, lambda d: d.save())
    with pytest.raises(sqlite3.DatabaseError, match="malformed") as raised:
        dialog.exec()  # for the opener's read guard
    assert not dialog.isVisible() and raised.value is dialog.damage
    assert no_warnings(messages) and not crashes and sha(inv_path) == digest


def test_another_scenario_failure_keeps_its_message(
    qtbot, window, offers, crashes, messages, monkeypatch
):
    from core.errors import LedgerError

    dialog = ScenarioDialog(window.inventory, window)
    qtbot.addWidget(dialog)
    dialog.name.setText("Stockholm")
    dialog.kind.setCurrentIndex(dialog.kind.findData("set_pue"))
    dialog._on_add_clicked()

    def refuse(*_args):
        raise LedgerError("The scenario name is taken.")

    monkeypatch.setattr(scenario_dialog.SaveScenario, "apply", refuse)
    assert not dialog.save()
    assert messages.messages == [("warning", "Scenario not saved", "The scenario name is taken.")]
    assert dialog.damage is None and not offers.errors and not crashes


# -- Save a Copy -----------------------------------------------------------------------


def test_saving_a_copy_of_a_damaged_file_brings_the_restore_offer_and_copies_nothing(
    qtbot, window, inv_path, offers, crashes, messages, monkeypatch, tmp_path
):
    folder = tmp_path / "copies"
    folder.mkdir()
    target = folder / "q3 copy.aicl"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    digest = damage(window, inv_path, "usage")
    window.save_copy_action.trigger()  # copied and checked on a worker
    error = assert_offered(qtbot, window, offers, inv_path, digest, crashes)
    assert "copy" in str(error)  # SQLite's check of the copy found it
    assert list(folder.iterdir()) == []  # no copy, no temporary file left
    assert not messages.messages
    assert not window.copy_running and not window.findChildren(SaveCopyDialog)


def test_saving_a_copy_over_a_file_of_a_damaged_inventory_keeps_that_file(
    qtbot, window, inv_path, offers, crashes, monkeypatch, tmp_path
):
    target = tmp_path / "older copy.aicl"
    target.write_bytes(b"an earlier copy")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    digest = damage(window, inv_path, "usage")
    window.save_copy_action.trigger()
    assert_offered(qtbot, window, offers, inv_path, digest, crashes)
    assert target.read_bytes() == b"an earlier copy"


def test_saving_a_copy_elsewhere_failing_keeps_its_message(
    qtbot, window, inv_path, offers, crashes, messages, monkeypatch, tmp_path
):
    target = tmp_path / "no such folder" / "copy.aicl"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    window.save_copy_action.trigger()
    qtbot.waitUntil(lambda: not window.copy_running, timeout=TIMEOUT)
    [(kind, title, text)] = messages.messages
    assert (kind, title) == ("critical", "Cannot save a copy")
    assert str(target.parent) in text and "FileNotFoundError" not in text  # words as they are
    qtbot.wait(50)
    assert not offers.errors and window.inventory is not None and not crashes


def test_saving_a_copy_of_a_sound_file_still_works(qtbot, window, inv_path, monkeypatch, tmp_path):
    from core.inventory import Inventory

    target = tmp_path / "copy.aicl"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    window.save_copy_action.trigger()
    qtbot.waitUntil(lambda: not window.copy_running, timeout=TIMEOUT)
    with Inventory.open(target) as copy, Inventory.open(inv_path) as original:
        assert copy.count("usage") == original.count("usage") > 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".copy.aicl")]
