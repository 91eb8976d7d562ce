"""The Reports page (ui.reports_page) on a copy of the demo inventory: quarters with
their status, closing and reopening, the restatements of the selected quarter, the
report dialog preset to it, and the page in the main window."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtWidgets import QInputDialog, QMessageBox

from core import closing
from core.commands import UpdateRecord
from ui.closing_guard import GuardedEditor
from ui.main_window import MainWindow
from ui.report_dialog import ReportDialog
from ui.reports_page import ReportsPage
from ui.settings import SettingsStore

TODAY = dt.date(2026, 11, 28)


@pytest.fixture
def page(demo, qtbot):
    editor = GuardedEditor(demo)
    page = ReportsPage(demo, editor, today=TODAY)
    page.editor = editor  # kept alive with the page
    qtbot.addWidget(page)
    page.resize(1100, 700)
    page.show()
    return page


def cells(table, row: int) -> list[str]:
    return [table.item(row, c).text() for c in range(table.columnCount())]


def row_of(page: ReportsPage, label: str) -> list[str]:
    row = next(i for i, q in enumerate(page.quarters) if q.label == label)
    return cells(page.table, row)


def test_lists_the_quarters_of_the_inventory_newest_first(page):
    labels = [page.table.item(r, 0).text() for r in range(page.table.rowCount())]
    assert labels == [
        "2026-Q4",
        "2026-Q3",
        "2026-Q2",
        "2026-Q1",
        "2025-Q4",
        "2025-Q3",
        "2025-Q2",
        "2025-Q1",
    ]
    assert row_of(page, "2026-Q3")[1:3] == ["1 Jul – 30 Sep 2026", "Open"]
    # the last complete quarter is selected: what is reported next
    assert page.selected_label() == "2026-Q3"
    assert page.build_button.isEnabled() and page.close_button.isEnabled()
    assert not page.reopen_button.isEnabled()
    assert page.restatements.rowCount() == 0
    assert "2026-Q3 is open" in page.detail_text.text()


def test_close_record_a_restatement_and_reopen(page, demo, qtbot, messages, monkeypatch):
    with qtbot.waitSignal(page.closing_changed) as signal:
        page.close_button.click()
    assert signal.args == ["2026-Q3"]
    c = closing.in_force(demo, "2026-Q3")
    assert c is not None
    quarter = row_of(page, "2026-Q3")
    assert quarter[2] == f"Closed on {c.closed_at[:10]} by {c.closed_by}"
    assert quarter[3] != "" and quarter[5] == "0"
    assert page.reopen_button.isEnabled() and not page.close_button.isEnabled()
    assert "No restatement of 2026-Q3" in page.detail_text.text()

    # an edit that changes the closed figures is saved with a reason: a restatement
    from ui import closing_guard

    monkeypatch.setattr(closing_guard, "ask_reason", lambda changes, parent=None: "meter re-read")
    usage_id, kwh = demo.conn.execute(
        "SELECT id, energy_kwh FROM usage WHERE period_start >= '2026-07-01' "
        "AND period_end <= '2026-09-30' AND energy_kwh > 0 ORDER BY energy_kwh DESC"
    ).fetchone()
    assert page.editor.run(UpdateRecord("usage", usage_id, {"energy_kwh": kwh * 2}))
    recorded = closing.restatements_of(demo, c.id)
    assert page.restatements.rowCount() == len(recorded) >= 2  # refreshed after the edit
    energy = next(
        cells(page.restatements, r)
        for r in range(page.restatements.rowCount())
        if page.restatements.item(r, 0).text() == "Energy (kWh)"
    )
    assert energy[4] == "meter re-read" and energy[3].startswith("+")
    assert row_of(page, "2026-Q3")[5] == str(len(recorded))

    # reopening asks for a reason; declining leaves the quarter closed
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("", False)))
    page.reopen_button.click()
    assert closing.in_force(demo, "2026-Q3") is not None
    monkeypatch.setattr(
        QInputDialog, "getText", staticmethod(lambda *a, **k: ("late invoices", True))
    )
    page.reopen_button.click()
    assert closing.in_force(demo, "2026-Q3") is None
    assert row_of(page, "2026-Q3")[2].startswith("Open (reopened on ")
    assert "late invoices" in page.detail_text.text()
    assert page.close_button.isEnabled() and not page.reopen_button.isEnabled()


def test_declining_to_close_changes_nothing(page, demo, messages):
    messages.answer = QMessageBox.StandardButton.No
    page.close_button.click()
    assert "Close 2026-Q3?" in messages.texts("question")[0]
    assert closing.in_force(demo, "2026-Q3") is None
    assert row_of(page, "2026-Q3")[2] == "Open"


def test_build_report_opens_the_dialog_preset_to_the_selected_quarter(page, qtbot):
    page.select("2025-Q2")
    page.build_button.click()
    dialog = page.report_dialog
    assert isinstance(dialog, ReportDialog) and dialog.isVisible()
    assert dialog.kind.currentIndex() == 0 and dialog.period().label == "2025-Q2"
    assert "2025-Q2 is not closed" in dialog.status.text()
    dialog.reject()


def test_the_dialog_can_be_preset_to_an_old_quarter(demo, qtbot):
    dialog = ReportDialog(demo, today=TODAY)
    qtbot.addWidget(dialog)
    dialog.set_quarter("2019-Q2")
    assert dialog.period().label == "2019-Q2"
    labels = [dialog.quarter.itemText(i) for i in range(dialog.quarter.count())]
    assert labels == sorted(labels, reverse=True) and labels[0] == "2026-Q4"


def test_read_only_cannot_close_or_reopen(demo, qtbot):
    page = ReportsPage(demo, None, read_only=True, today=TODAY)
    qtbot.addWidget(page)
    assert page.build_button.isEnabled()
    assert not page.close_button.isEnabled() and not page.reopen_button.isEnabled()


def test_the_main_window_shows_the_reports_page(qtbot, demo, demo_path):
    path = demo.path
    demo.close()
    window = MainWindow(SettingsStore())
    qtbot.addWidget(window)
    window.show()
    assert window.open_inventory(path)
    window.show_page("reports")
    page = window.stack.currentWidget()
    assert isinstance(page, ReportsPage)
    assert page.table.rowCount() >= 8
