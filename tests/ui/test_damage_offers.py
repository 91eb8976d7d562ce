"""A damaged inventory file found by work on a worker thread (the dashboard's engine, the
Details dock, the Explain dialog, the report dialog) brings the window's restore offer,
as the table pages and edits do, with a plain message where the figures would be; the
damaged file is never written. Other failures keep their message and bring no offer."""

from __future__ import annotations

import hashlib
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from file_damage import overwrite_table_root

from core import integrity
from core.errors import InventoryDamagedError
from core.inventory import Inventory
from ui import dashboard_page, detail_panel, explain_dialog, restore_backup, workers
from ui.main_window import MainWindow
from ui.settings import SettingsStore

TIMEOUT = 30_000


@pytest.fixture
def inv_path(demo_path, tmp_path) -> Path:
    """A copy of the demo inventory with today's daily backup beside it (so none is
    made while the test runs), opened and closed once (nothing is left to write)."""
    path = tmp_path / "ledger.aicl"
    with Inventory.open(demo_path) as src:
        src.save_copy(path)
    Inventory.open(path).close()
    integrity.make_daily_backup(path)
    return path


def damage_usage_page(path: Path) -> str:
    """Overwrite the root page of the usage table (a disk fault) and return the file's
    digest afterwards."""
    overwrite_table_root(path)
    return sha(path)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Offers:
    """Stands in for ``ui.restore_backup.offer_restore`` (where the window looks it up):
    records each offer, and what ``look`` returns then (the page that found the damage
    is deleted once the window has closed the inventory), and declines the restore."""

    def __init__(self, monkeypatch):
        self.errors: list[InventoryDamagedError] = []
        self.look: Callable[[], object] = lambda: None
        self.seen: list[object] = []
        monkeypatch.setattr(restore_backup, "offer_restore", self._offer)

    def _offer(self, _parent, error: InventoryDamagedError) -> None:
        self.errors.append(error)
        self.seen.append(self.look())
        return None


@pytest.fixture
def offers(monkeypatch) -> Offers:
    return Offers(monkeypatch)


@pytest.fixture
def crashes(monkeypatch) -> list[str]:
    """Exceptions that would have reached the crash dialog (``sys.excepthook``)."""
    seen: list[str] = []
    monkeypatch.setattr(sys, "excepthook", lambda _t, exc, _tb: seen.append(repr(exc)))
    return seen


@pytest.fixture
def window(qtbot, inv_path):
    w = MainWindow(SettingsStore())
    qtbot.addWidget(w)
    w.resize(1366, 768)
    w.show()
    assert w.open_inventory(inv_path)  # on the models page: nothing reads usage yet
    assert not w.daily_backups_running
    yield w
    qtbot.waitUntil(lambda: not w.daily_backups_running, timeout=TIMEOUT)


def spy(signal) -> list[object]:
    seen: list[object] = []
    signal.connect(seen.append)
    return seen


def assert_offered(qtbot, window, offers, inv_path, digest, crashes) -> InventoryDamagedError:
    """The window closed the inventory and offered its backup, once; the file is as the
    damage left it."""
    qtbot.waitUntil(lambda: bool(offers.errors), timeout=TIMEOUT)
    qtbot.wait(50)  # a second announcement would arrive now
    [error] = offers.errors
    assert isinstance(error, InventoryDamagedError)
    assert error.path == inv_path and "damaged" in str(error)
    assert error.backups and "daily-backup" in error.backups[0].name
    assert window.inventory is None  # closed without writing to it
    assert not crashes
    assert sha(inv_path) == digest
    return error


def test_the_dashboard_finding_damage_brings_the_restore_offer(
    qtbot, window, inv_path, offers, crashes
):
    digest = damage_usage_page(inv_path)
    window.show_page("dashboard")
    qtbot.waitUntil(lambda: "dashboard" in window.pages, timeout=TIMEOUT)
    page = window.pages["dashboard"]
    announced = spy(page.damaged)
    offers.look = lambda: (page.status.text(), page.notes.text())
    error = assert_offered(qtbot, window, offers, inv_path, digest, crashes)
    assert announced == [error]  # the dashboard found it (once), not a table page
    assert "malformed" in str(error)  # SQLite's words are in the window's message
    assert offers.seen == [("The inventory file is damaged.", dashboard_page.DAMAGED_TEXT)]
    assert "malformed" not in dashboard_page.DAMAGED_TEXT


def test_the_details_dock_finding_damage_brings_the_restore_offer(
    qtbot, window, inv_path, offers, crashes
):
    window.details_action.trigger()  # View > Details (F9)
    window.show_page("training_runs")
    announced = spy(window.details.damaged)
    digest = damage_usage_page(inv_path)
    page = window.pages["training_runs"]
    page.select_id(page.model.id_at(0))
    error = assert_offered(qtbot, window, offers, inv_path, digest, crashes)
    assert announced == [error]
    assert window.details.status.text() == detail_panel.DAMAGED_TEXT
    assert not window.details.computing


@pytest.mark.parametrize("large", [False, True], ids=["checked-at-open", "large-file"])
def test_the_explain_dialog_finding_damage_brings_the_restore_offer(
    qtbot, window, inv_path, offers, crashes, monkeypatch, large
):
    """A small file's damage is found by the worker's open (SQLite's check); a large
    file's, which is not checked at open, when the engine reads the damaged page."""
    if large:
        monkeypatch.setattr(integrity, "QUICK_CHECK_MAX_BYTES", 0)
    window.show_page("training_runs")
    page = window.pages["training_runs"]
    page.select_id(page.model.id_at(0))
    digest = damage_usage_page(inv_path)
    page.explain_record()
    dialog = page.explain_dialog
    announced = spy(dialog.damaged)
    offers.look = lambda: (dialog.status.text(), dialog.text.toPlainText())
    error = assert_offered(qtbot, window, offers, inv_path, digest, crashes)
    assert announced == [error]
    assert ("malformed" in str(error)) is large  # else the quick check's own words
    assert offers.seen == [("The inventory file is damaged.", explain_dialog.DAMAGED_TEXT)]


def test_the_report_dialog_finding_damage_brings_the_restore_offer(
    qtbot, window, inv_path, offers, crashes, tmp_path, messages
):
    window.show_page("reports")
    reports = window.pages["reports"]
    announced = spy(reports.damaged)
    digest = damage_usage_page(inv_path)
    reports.build_report()
    dialog = reports.report_dialog
    found = spy(dialog.damaged)
    offers.look = lambda: dialog.isVisible()
    target = tmp_path / "report.xlsx"
    dialog.save_xlsx(str(target))
    error = assert_offered(qtbot, window, offers, inv_path, digest, crashes)
    assert found == [error] and announced == [error]  # the dialog found it, once
    assert offers.seen == [False]  # it closed itself first
    assert not messages.messages  # no "The report could not be made" box
    assert not target.exists()


def test_file_report_finding_damage_brings_the_restore_offer(
    qtbot, window, inv_path, offers, crashes, tmp_path, messages, monkeypatch
):
    """File > Report… (the dialog run modally by the window)."""
    from ui.report_dialog import ReportDialog

    digest = damage_usage_page(inv_path)
    shown = []

    def exec_dialog(dialog: ReportDialog) -> int:
        shown.append(dialog)
        dialog.save_xlsx(str(tmp_path / "report.xlsx"))
        qtbot.waitUntil(lambda: not dialog._busy, timeout=TIMEOUT)
        return 0

    monkeypatch.setattr(ReportDialog, "exec", exec_dialog)
    window.report_action.trigger()
    assert_offered(qtbot, window, offers, inv_path, digest, crashes)
    assert len(shown) == 1 and not messages.messages


# -- other failures: today's message, no offer ---------------------------------------


def test_another_dashboard_failure_keeps_its_message_and_brings_no_offer(
    qtbot, window, offers, crashes, monkeypatch
):
    from core.dashboard_session import DashboardSession

    def fail(_session, _request):
        raise sqlite3.OperationalError("no such column: nonsense")

    monkeypatch.setattr(DashboardSession, "central", fail)
    window.show_page("dashboard")
    qtbot.waitUntil(lambda: "dashboard" in window.pages, timeout=TIMEOUT)
    page = window.pages["dashboard"]
    qtbot.waitUntil(lambda: page.status.text() == "Could not compute the figures.", timeout=TIMEOUT)
    assert page.notes.text() == (
        "Could not compute the figures: OperationalError: no such column: nonsense"
    )
    qtbot.wait(50)
    assert not offers.errors and window.inventory is not None and not crashes


def test_another_details_failure_keeps_its_message_and_brings_no_offer(
    qtbot, window, offers, crashes, monkeypatch
):
    def fail(_engine, _entry, _choice):
        raise ValueError("no figures today")

    monkeypatch.setattr(detail_panel, "compute_details", fail)
    window.details_action.trigger()
    window.show_page("training_runs")
    page = window.pages["training_runs"]
    page.select_id(page.model.id_at(0))
    panel = window.details
    qtbot.waitUntil(lambda: "Could not compute" in panel.status.text(), timeout=TIMEOUT)
    assert panel.status.text() == "Could not compute the figures: ValueError: no figures today"
    qtbot.wait(50)
    assert not offers.errors and window.inventory is not None and not crashes


def test_another_explain_failure_keeps_its_message_and_brings_no_offer(
    qtbot, window, offers, crashes, monkeypatch
):
    def fail(_path, _entry, _period):
        raise sqlite3.DatabaseError("database schema has changed")

    monkeypatch.setattr(explain_dialog, "_explain_text", fail)
    window.show_page("training_runs")
    page = window.pages["training_runs"]
    page.select_id(page.model.id_at(0))
    page.explain_record()
    dialog = page.explain_dialog
    qtbot.waitUntil(lambda: not dialog.computing, timeout=TIMEOUT)
    assert dialog.text.toPlainText() == "DatabaseError: database schema has changed"
    assert dialog.status.text() == "Could not compute the figures."
    qtbot.wait(50)
    assert not offers.errors and window.inventory is not None and not crashes
    dialog.close()


def test_reading_turns_only_damage_into_the_damaged_error(qtbot, tmp_path):
    path = tmp_path / "x.aicl"
    results: list[tuple[BaseException, str]] = []

    def run(exc: BaseException) -> None:
        def fail():
            raise exc

        workers.run_task(
            workers.reading(path, fail),
            lambda _r: None,
            on_error=lambda e, m: results.append((e, m)),
        )
        qtbot.waitUntil(lambda: len(results) == 1, timeout=TIMEOUT)

    run(sqlite3.DatabaseError("database disk image is malformed"))
    [(error, message)] = results
    assert isinstance(error, InventoryDamagedError) and error.path == path
    assert message == str(error) and "malformed" in message
    results.clear()
    run(sqlite3.OperationalError("database is locked"))
    [(error, message)] = results
    assert isinstance(error, sqlite3.OperationalError)
    assert message == "OperationalError: database is locked"  # the words as before
