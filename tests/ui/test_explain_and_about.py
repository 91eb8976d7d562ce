"""The Explain dialog (engine off the UI thread) and the About / data sources dialog."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtWidgets import QDialog

from core.inventory import Inventory
from ui.about_dialog import AboutDialog
from ui.explain_dialog import ExplainDialog, period_choices
from ui.main_window import MainWindow
from ui.settings import SettingsStore


def test_explain_runs_off_the_ui_thread_and_shows_the_formula(qtbot, tmp_path):
    path = tmp_path / "inv.aicl"
    with Inventory.create(path) as inv:
        m = inv.insert_logged("models", [{"name": "<b>Llama</b>"}], "t")[0]
        site = inv.insert_logged(
            "sites", [{"name": "Lyon", "kind": "own", "country": "FR", "pue": 1.3}], "t"
        )[0]
        run = inv.insert_logged(
            "training_runs",
            [
                {
                    "name": "ft <i>1</i>",
                    "model_id": m,
                    "kind": "fine-tuning",
                    "site_id": site,
                    "energy_kwh": 500.0,
                    "energy_boundary": "it",
                    "start_date": "2026-02-01",
                    "end_date": "2026-02-02",
                }
            ],
            "t",
        )[0]
    window = MainWindow(SettingsStore())
    qtbot.addWidget(window)
    window.show()
    window.open_inventory(path)
    window.show_page("training_runs")
    page = window.pages["training_runs"]
    page.select_id(run)
    window.explain_action.trigger()
    dialog = page.explain_dialog
    assert isinstance(dialog, ExplainDialog) and dialog.computing
    qtbot.waitUntil(lambda: not dialog.computing, timeout=30_000)
    text = dialog.text.toPlainText()
    assert "ft <i>1</i>" in text  # shown literally, never as markup
    assert "x PUE 1.3 = 650 kWh" in text
    assert "FR 2023" in text and "CC BY 4.0" in text
    dialog.period.setCurrentIndex(dialog.period.findText("2025"))
    qtbot.waitUntil(lambda: not dialog.computing, timeout=30_000)
    assert "No activity in this period." in dialog.text.toPlainText()
    dialog.close()


def test_period_choices_cover_recent_quarters():
    choices = period_choices(dt.date(2026, 2, 10))
    assert choices[:3] == [("All time", None), ("2026", "2026"), ("2025", "2025")]
    assert [c[1] for c in choices[3:6]] == ["2026-Q1", "2025-Q4", "2025-Q3"]


def test_about_lists_every_data_source(qtbot, tmp_path):
    dialog = AboutDialog(tmp_path / "team.aicl")
    qtbot.addWidget(dialog)
    text = dialog.sources.toPlainText()
    for source in ("Our World in Data", "Cloud Carbon Footprint", "CodeCarbon", "ML.ENERGY"):
        assert source in text
    assert isinstance(dialog, QDialog)


def test_reference_page_overrides_a_grid_factor_and_undoes_it(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import Qt

    from ui.record_dialog import RecordDialog

    path = tmp_path / "inv.aicl"
    Inventory.create(path).close()
    window = MainWindow(SettingsStore())
    qtbot.addWidget(window)
    window.show()
    window.open_inventory(path)
    window.show_page("reference")
    page = window.pages["reference"]
    grid = page.grid
    grid.search.setText("grid:FR:2023")
    assert grid.proxy.rowCount() == 1
    row = grid.proxy.index(0, 0)
    assert row.data(Qt.ItemDataRole.UserRole)["source"].startswith("Ember")
    grid.view.selectRow(0)
    seen = {}

    def exec_form(dialog):
        seen.update(dialog.values())
        dialog.editor("value").setText("35")
        dialog.editor("reason").setText("RTE 2023 annual average")
        return RecordDialog.DialogCode.Accepted

    monkeypatch.setattr(RecordDialog, "exec", exec_form)
    grid.override_button.click()
    assert seen["key"] == "grid:FR:2023" and seen["value"] == pytest.approx(55.9, abs=2)
    assert page.tabs.currentWidget() is page.overrides
    assert window.inventory.get("factor_overrides", 1)["value"] == 35.0
    assert window.inventory.change_log(1)[0]["table_name"] == "factor_overrides"
    window.undo_action.trigger()
    assert window.inventory.count("factor_overrides") == 0
    # an inference energy row is overridden the same way, under inference:KEY
    inference = page.inference
    page.tabs.setCurrentWidget(inference)
    inference.search.setText("php:text-generation")
    assert inference.proxy.rowCount() == 1
    inference.view.selectRow(0)
    seen.clear()
    inference.override_button.click()
    assert seen["key"] == "inference:php:text-generation"
    keys = window.inventory.conn.execute("SELECT key FROM factor_overrides").fetchall()
    assert keys == [("inference:php:text-generation",)]


def test_inventory_settings_dialog_switches_the_convention_undoably(qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    path = tmp_path / "inv.aicl"
    Inventory.create(path).close()
    window = MainWindow(SettingsStore())
    qtbot.addWidget(window)
    window.open_inventory(path)
    offered = []

    def get_item(_parent, _title, _label, items, current, _editable):
        offered.extend(items)
        assert current == 0  # amortised is the default
        return items[1], True

    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(get_item))
    window.settings_action.trigger()
    assert "GHG Protocol Scope 3 category 2" in offered[1]
    assert window.inventory.meta("embodied_convention") == "capital-goods"
    window.undo_action.trigger()
    assert window.inventory.meta("embodied_convention") == "amortised"


def test_a_task_outlives_the_dialog_that_started_it(qtbot):
    import threading

    from PySide6.QtCore import QThreadPool

    from ui import workers

    release = threading.Event()
    results = []
    task = workers.run_task(lambda: release.wait(5) and "done", results.append, results.append)
    del task  # the caller lets go while the pool thread still runs
    assert len(workers._RUNNING) == 1
    release.set()
    assert QThreadPool.globalInstance().waitForDone(5000)
    qtbot.waitUntil(lambda: results == ["done"], timeout=5000)
    assert not workers._RUNNING
