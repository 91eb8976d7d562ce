"""Reads of the open inventory on the UI thread that meet a damaged page bring the
window's restore offer (once) instead of SQLite's words in a message box or the crash
report: closing and reopening a quarter (Reports page and report dialog), the dashboard
built once its modules are in, its filter and scenario lists filled again, the Details
dock's title of an entry, the Reference data page's overrides and Inventory settings.
The damaged file is never written; other failures keep their message.

The window's connection keeps the pages it has read in its cache, so after damaging a
table on disk the tests make it forget them (``PRAGMA shrink_memory``, as a large
inventory's reads would: its pages do not all fit in the cache).
"""

from __future__ import annotations

import sqlite3
import sys
import types
from pathlib import Path

import pytest
import test_damage_offers as base
from file_damage import overwrite_table_root
from PySide6.QtWidgets import QInputDialog
from test_damage_offers import TIMEOUT, assert_offered, sha, spy

import ui
from core.commands import InsertRecord
from ui import detail_panel, window_pages
from ui import report_dialog as report_dialog_module
from ui.report_dialog import ReportDialog
from ui.restore_backup import DAMAGED_FIGURES_TEXT

REASON = "supplier data corrected"

# the damage tests' fixtures (pytest finds fixtures bound in a test module)
inv_path = base.inv_path
offers = base.offers
crashes = base.crashes
window = base.window


def damage(window, path: Path, table: str) -> str:
    """Overwrite ``table``'s root page in the window's inventory file and make the
    window's connection forget what it has cached, so that its next read of ``table``
    meets the damage; the file's digest afterwards. What an earlier write left in the
    write-ahead log is put in the file first (else reads would take that page from the
    log, not the damaged file)."""
    conn = window.inventory.conn
    busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    assert busy == 0
    overwrite_table_root(path, table)
    conn.execute("PRAGMA shrink_memory")
    return sha(path)


def no_warnings(messages) -> bool:
    return not [m for m in messages.messages if m[0] != "question"]


# -- closing and reopening a quarter ---------------------------------------------------


def reports_page(qtbot, window):
    window.show_page("reports")
    page = window.pages["reports"]
    assert page.selected() is not None and page.selected().closing is None
    return page


def test_closing_a_quarter_on_a_damaged_file_brings_the_restore_offer(
    qtbot, window, inv_path, offers, crashes, messages
):
    page = reports_page(qtbot, window)
    announced = spy(page.damaged)
    label = page.selected_label()
    changed = spy(page.closing_changed)
    digest = damage(window, inv_path, "usage")  # the report kept when closing reads it
    page.close_quarter()  # the question is answered Yes
    error = assert_offered(qtbot, window, offers, inv_path, digest, crashes)
    assert announced == [error] and "malformed" in str(error)
    assert no_warnings(messages)  # no "Close quarter" box with SQLite's words
    assert [m[1] for m in messages.messages] == ["Close quarter"]  # the question only
    assert not changed and label


def test_reopening_a_quarter_on_a_damaged_file_brings_the_restore_offer(
    qtbot, window, inv_path, offers, crashes, messages, monkeypatch
):
    page = reports_page(qtbot, window)
    page.close_quarter()  # answered Yes: closed, and the page re-read
    assert page.selected().closing is not None
    messages.messages.clear()
    announced = spy(page.damaged)
    asked = []
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: asked.append(a) or (REASON, True))
    digest = damage(window, inv_path, "closed_periods")
    page.reopen_quarter()
    error = assert_offered(qtbot, window, offers, inv_path, digest, crashes)
    assert len(asked) == 1 and announced == [error]
    assert not messages.messages  # no "Reopen quarter" box


def test_closing_in_the_report_dialog_on_a_damaged_file_brings_the_restore_offer(
    qtbot, window, inv_path, offers, crashes, messages, monkeypatch
):
    """File > Report… (run modally by the window), Close Quarter…: the dialog closes."""
    digest = damage(window, inv_path, "usage")
    shown: list[ReportDialog] = []

    def exec_dialog(dialog: ReportDialog) -> int:
        shown.append(dialog)
        dialog.found = spy(dialog.damaged)
        dialog.close_period()  # the question is answered Yes
        return 0

    monkeypatch.setattr(ReportDialog, "exec", exec_dialog)
    window.report_action.trigger()
    error = assert_offered(qtbot, window, offers, inv_path, digest, crashes)
    [dialog] = shown
    assert dialog.found == [error]
    assert no_warnings(messages)


def test_reopening_in_the_report_dialog_on_a_damaged_file_brings_the_restore_offer(
    qtbot, window, inv_path, offers, crashes, messages, monkeypatch
):
    page = reports_page(qtbot, window)
    label = page.selected_label()
    page.close_quarter()
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: (REASON, True))
    dialog = ReportDialog(window.inventory, window)
    qtbot.addWidget(dialog)
    dialog.damaged.connect(window.damage_found)  # as the window and the page connect it
    found = spy(dialog.damaged)
    dialog.show()
    dialog.set_quarter(label)
    assert dialog.reopen_button.isEnabled()
    messages.messages.clear()
    digest = damage(window, inv_path, "closed_periods")
    dialog.reopen_period()
    error = assert_offered(qtbot, window, offers, inv_path, digest, crashes)
    assert found == [error] and not dialog.isVisible()
    assert not messages.messages


def test_other_closing_failures_keep_their_message_and_bring_no_offer(
    qtbot, window, offers, crashes, messages, monkeypatch
):
    page = reports_page(qtbot, window)
    build = report_dialog_module.build_for_closing

    def locked(*_args):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(report_dialog_module, "build_for_closing", locked)
    page.close_quarter()
    assert messages.messages[-1] == ("warning", "Close quarter", "database is locked")
    assert page.selected().closing is None
    monkeypatch.setattr(report_dialog_module, "build_for_closing", build)
    page.close_quarter()  # the real report: closed, for reopening
    assert page.selected().closing is not None

    def failing(*_args):
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(report_dialog_module.closing, "reopen_period", failing)
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: (REASON, True))
    page.reopen_quarter()
    assert messages.messages[-1] == (
        "warning",
        "Reopen quarter",
        "attempt to write a readonly database",
    )
    qtbot.wait(50)
    assert not offers.errors and window.inventory is not None and not crashes


# -- the dashboard ---------------------------------------------------------------------


def idle_dashboard(qtbot, window):
    window.show_page("dashboard")
    qtbot.waitUntil(lambda: "dashboard" in window.pages, timeout=TIMEOUT)
    page = window.pages["dashboard"]
    qtbot.waitUntil(lambda: page.charts_ready and not page.computing, timeout=TIMEOUT)
    assert page.data is not None  # its figures are shown: nothing reads on a worker now
    return page


def test_the_dashboard_built_once_its_modules_are_in_brings_the_restore_offer(
    qtbot, window, inv_path, offers, crashes, monkeypatch
):
    """The first visit loads the dashboard's modules on a worker, then builds the page,
    which fills its filter lists from the window's connection: a damaged page met there
    is the window's restore offer, not the crash report."""
    module = sys.modules["ui.dashboard_page"]
    monkeypatch.delitem(sys.modules, "ui.dashboard_page")  # as on the first visit
    monkeypatch.setattr(ui, "dashboard_page", module, raising=False)  # put back after

    def load(name: str):
        assert name == "ui.dashboard_page"
        sys.modules[name] = module
        return module

    monkeypatch.setattr(window_pages, "importlib", types.SimpleNamespace(import_module=load))
    digest = damage(window, inv_path, "models")
    window.show_page("dashboard")
    assert window._dashboard_loading is not None  # the loading page, while "importing"
    error = assert_offered(qtbot, window, offers, inv_path, digest, crashes)
    assert "malformed" in str(error)
    assert "dashboard" not in window.pages and window._dashboard_loading is None


def test_the_dashboard_filling_its_filter_lists_brings_the_restore_offer(
    qtbot, window, inv_path, offers, crashes
):
    """The window passes each edit on; the dashboard fills its filter lists again."""
    page = idle_dashboard(qtbot, window)
    announced = spy(page.damaged)
    offers.look = lambda: (page.status.text(), page.notes.text())
    digest = damage(window, inv_path, "models")
    page.inventory_edited(frozenset({"models"}))
    error = assert_offered(qtbot, window, offers, inv_path, digest, crashes)
    assert announced == [error]
    assert offers.seen == [("The inventory file is damaged.", DAMAGED_FIGURES_TEXT)]


def test_the_dashboard_listing_scenarios_brings_the_restore_offer(
    qtbot, window, inv_path, offers, crashes, monkeypatch
):
    """Scenarios…: the dialog lists the saved scenarios from the window's connection."""
    from ui.scenario_dialog import ScenarioDialog

    opened = []
    monkeypatch.setattr(ScenarioDialog, "exec", lambda d: opened.append(d) or 0)
    page = idle_dashboard(qtbot, window)
    announced = spy(page.damaged)
    digest = damage(window, inv_path, "scenarios")
    page.scenario_button.click()
    error = assert_offered(qtbot, window, offers, inv_path, digest, crashes)
    assert announced == [error] and not opened


def test_another_filter_list_failure_goes_on_as_before(qtbot, window, offers, crashes, monkeypatch):
    from ui import dashboard_page

    page = idle_dashboard(qtbot, window)

    def fail(_inv):
        raise sqlite3.OperationalError("no such column: nonsense")

    monkeypatch.setattr(dashboard_page.dash, "filter_options", fail)
    with pytest.raises(sqlite3.OperationalError, match="no such column"):
        page.inventory_edited(frozenset({"models"}))
    qtbot.wait(50)
    assert not offers.errors and window.inventory is not None and not crashes


# -- the Details dock ------------------------------------------------------------------


def computed(qtbot, window, key: str) -> int:
    """Show page ``key``, select its first entry and wait for the Details dock's
    figures; the entry's id."""
    window.show_page(key)
    page = window.pages[key]
    row_id = page.model.id_at(0)
    page.select_id(row_id)
    entry = f"{key}:{row_id}"
    details = window.details
    qtbot.waitUntil(
        lambda: details.details is not None and details.details.entry == entry,
        timeout=TIMEOUT,
    )
    qtbot.waitUntil(lambda: not details.computing, timeout=TIMEOUT)
    return row_id


def test_the_details_dock_reading_a_title_brings_the_restore_offer(
    qtbot, window, inv_path, offers, crashes
):
    """Back on Training runs, the dock reads the title of the entry selected there (on
    the UI thread, while the window switches pages)."""
    window.details_action.trigger()  # View > Details (F9)
    computed(qtbot, window, "training_runs")
    computed(qtbot, window, "deployments")  # the dock shows a deployment now
    panel = window.details
    announced = spy(panel.damaged)
    digest = damage(window, inv_path, "training_runs")
    window.show_page("training_runs")
    error = assert_offered(qtbot, window, offers, inv_path, digest, crashes)
    assert announced == [error] and "malformed" in str(error)
    assert not panel.computing


def test_the_details_dock_showing_damage_instead_of_a_title(qtbot, window, inv_path, offers):
    window.details_action.trigger()
    computed(qtbot, window, "deployments")
    panel = window.details
    announced = spy(panel.damaged)
    training = window.inventory.ordered_ids("training_runs")[0]
    damage(window, inv_path, "training_runs")
    panel.set_page(None, None)
    panel.show_entry("training_runs", int(training))  # what the page's selection asks
    assert len(announced) == 1
    assert panel.status.text() == detail_panel.DAMAGED_TEXT
    assert panel.stack.currentWidget() is panel.content
    assert not panel._timer.isActive()
    qtbot.waitUntil(lambda: bool(offers.errors), timeout=TIMEOUT)


def test_another_title_failure_goes_on_as_before(qtbot, window, offers, crashes, monkeypatch):
    window.details_action.trigger()
    panel = window.details

    def fail(_table, _row_id):
        raise sqlite3.OperationalError("no such column: nonsense")

    monkeypatch.setattr(window.inventory, "title", fail)
    with pytest.raises(sqlite3.OperationalError, match="no such column"):
        panel.show_entry("training_runs", 1)
    qtbot.wait(50)
    assert not offers.errors and window.inventory is not None and not crashes


# -- other reads on the UI thread ------------------------------------------------------


def test_the_reference_page_overrides_finding_damage_bring_the_restore_offer(
    qtbot, window, inv_path, offers, crashes
):
    """Its table of the inventory's factor overrides is a table page of its own."""
    override = {"key": "grid:FR:2026", "value": 30.0, "reason": "RTE"}
    assert window.editor.run(InsertRecord("factor_overrides", override))
    window.show_page("reference")
    overrides = window.pages["reference"].overrides
    announced = spy(overrides.damaged)
    digest = damage(window, inv_path, "factor_overrides")
    overrides.search.setText("FR")  # searched after a short pause
    error = assert_offered(qtbot, window, offers, inv_path, digest, crashes)
    assert announced == [error]


def test_inventory_settings_on_a_damaged_file_bring_the_restore_offer(
    qtbot, window, inv_path, offers, crashes, monkeypatch
):
    asked = []
    monkeypatch.setattr(QInputDialog, "getItem", lambda *a, **k: asked.append(a) or ("", False))
    # (the key is looked up in the table's index: a key not set is not read further)
    digest = damage(window, inv_path, "sqlite_autoindex_meta_1")
    window.edit_inventory_settings()
    assert_offered(qtbot, window, offers, inv_path, digest, crashes)
    assert not asked
