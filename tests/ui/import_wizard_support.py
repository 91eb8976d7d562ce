"""Shared by the import wizard's tests: the files they import (a models CSV, a runs
workbook), the inventory and window fixtures, and the steps that take the wizard from
page to page. A test module imports the fixtures it uses (pytest finds fixtures bound
in a test module)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import xlsxwriter
from PySide6.QtCore import Qt

from core.inventory import Inventory
from ui.import_mapping import MappingPage
from ui.import_pages import PreviewModel
from ui.import_wizard import ImportWizard
from ui.main_window import MainWindow
from ui.settings import SettingsStore

MODELS_CSV = (
    "Name,Version,Owner / team,Total parameters (billion)\r\n"
    "Mistral,7B,Legal,7.3\r\n"
    "Phi-3,mini,Support,3.8\r\n"
)


RUN_HEADERS = [
    "Run name",
    "Model",
    "Kind",
    "GPU type",
    "No. of GPUs",
    "Start date",
    "End date",
    "Energy [MWh]",
]


H100, GAUDI = "NVIDIA H100 SXM", "Gaudi 9 Mega"


RUNS = [
    ["ft-support-1", "Llama 3.1 8B", "Fine-tuning", H100, 8, (2026, 7, 1), (2026, 7, 3), 1.2],
    ["ft-support-2", "Llama 3.1 8B", "Fine-tuning", GAUDI, 16, (2026, 8, 1), (2026, 8, 2), 0.5],
    ["ft-legal-1", "Llama 3.1 8B", "Experiments", GAUDI, 4, (2026, 9, 1), (2026, 9, 1), 0.05],
]


def write_runs_xlsx(path: Path, rows=RUNS) -> Path:
    """A workbook as people send them: a title row above the headers, dates as date
    cells, a unit in a header, and a notes sheet that is not data."""
    book = xlsxwriter.Workbook(str(path))
    date = book.add_format({"num_format": "dd/mm/yyyy"})
    sheet = book.add_worksheet("Training runs")
    sheet.write(0, 0, "Q3 training runs (from the GPU tracker)")
    sheet.write_row(2, 0, RUN_HEADERS)
    for r, row in enumerate(rows, start=3):
        for c, value in enumerate(row):
            if isinstance(value, tuple):
                sheet.write_datetime(r, c, dt.datetime(*value), date)
            else:
                sheet.write(r, c, value)
    notes = book.add_worksheet("Notes")
    notes.write(0, 0, "Energy from the facility meters; ask Dana for details.")
    book.close()
    return path


@pytest.fixture
def inv_path(tmp_path):
    path = tmp_path / "team.aicl"
    with Inventory.create(path) as inv:
        inv.insert_logged(
            "models", [{"name": "Llama 3.1", "version": "8B", "owner": "Support"}], "test"
        )
    return path


@pytest.fixture
def window(qtbot, inv_path):
    w = MainWindow(SettingsStore())
    qtbot.addWidget(w)
    assert w.open_inventory(inv_path)
    w.show()
    return w


def counts(path: Path) -> dict[str, int]:
    """Rows per table, read through a connection of its own."""
    with Inventory.open(path) as inv:
        return {t: inv.count(t) for t in ("models", "training_runs", "hardware", "sites")}


def open_wizard(qtbot, window: MainWindow, files: list[Path]) -> ImportWizard:
    window.start_import(files)
    wizard = window.import_wizard
    assert isinstance(wizard, ImportWizard) and wizard.isVisible()
    qtbot.waitUntil(wizard.files_page.isComplete, timeout=10_000)
    return wizard


def advance(qtbot, wizard: ImportWizard, page_id: int) -> None:
    wizard.next()
    qtbot.waitUntil(lambda: wizard.currentId() == page_id, timeout=10_000)
    page = wizard.currentPage()
    if isinstance(page, MappingPage):  # wait for the columns and the converted preview
        qtbot.waitUntil(lambda: page.preview.model() is not None, timeout=10_000)
        qtbot.waitUntil(lambda: not page.updating, timeout=10_000)
    elif page_id == wizard.REFERENCES:  # the references it shows may change the plans
        qtbot.waitUntil(lambda: wizard.plans is not None and not page._job, timeout=20_000)
    elif page_id == wizard.VALIDATION:
        qtbot.waitUntil(lambda: wizard.plans_fresh() and not page._job, timeout=20_000)


def runs_to_validation(qtbot, window: MainWindow, files: list[Path]) -> ImportWizard:
    """The wizard on ``files`` taken to its validation page, with the training runs'
    energy boundary set for the whole file (the runs files give none)."""
    wizard = open_wizard(qtbot, window, files)
    advance(qtbot, wizard, wizard.SHEETS)
    advance(qtbot, wizard, wizard.MAPPING)
    page = wizard.currentPage()
    page.default_combos["energy_boundary"].setCurrentIndex(1)
    qtbot.waitUntil(lambda: not page.updating)
    advance(qtbot, wizard, wizard.REFERENCES)
    advance(qtbot, wizard, wizard.VALIDATION)
    return wizard


def to_page(qtbot, wizard: ImportWizard, page_id: int) -> None:
    """Next until ``page_id`` (through whatever mapping pages there are)."""
    while wizard.currentId() != page_id:
        advance(qtbot, wizard, wizard.nextId())


def use_combo(refs, row: int):
    """The references page's choice for its ``row``-th value (the last column)."""
    return refs.table.cellWidget(row, refs.table.columnCount() - 1)


def column_row(page: MappingPage, header: str) -> int:
    for row in range(page.columns.rowCount()):
        if page.columns.item(row, page.HEADER).text() == header:
            return row
    raise AssertionError(f"no column {header!r}")


def preview_column(model: PreviewModel, label: str) -> int:
    for col in range(model.columnCount()):
        if model.headerData(col, Qt.Orientation.Horizontal) == label:
            return col
    raise AssertionError(f"no preview column {label!r}: {model.labels}")
