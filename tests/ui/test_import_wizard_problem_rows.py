"""The import wizard's "Show only rows with problems" view: rows with problems anywhere
in a real CSV file are listed with their row numbers in the file and fixed in place, the
fix lands with the import, and the cap on the rows listed is said."""

from __future__ import annotations

from pathlib import Path

# the wizard tests' fixtures and helpers (pytest finds fixtures imported here)
from import_wizard_support import (  # noqa: F401
    advance,
    inv_path,
    open_wizard,
    preview_column,
    runs_to_validation,
    window,
)
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication

from core.importing.plan import PREVIEW_ROWS, PROBLEM_PREVIEW_ROWS
from core.inventory import Inventory
from ui.import_pages import FIXED_BACKGROUND, PROBLEM_BACKGROUND
from ui.import_wizard import ImportWizard

PARAMS = "Total parameters (billion)"


def write_models(path: Path, n_rows: int, bad: set[int]) -> Path:
    """A models CSV of ``n_rows`` data rows; file rows in ``bad`` (the header is row 1)
    have text in the parameters column."""
    lines = [f"Name,Version,Owner / team,{PARAMS}"]
    for number in range(2, n_rows + 2):
        lines.append(f"model-{number},1,Team,{'lots' if number in bad else number / 10}")
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def to_validation(qtbot, window, path: Path) -> ImportWizard:  # noqa: F811
    wizard = open_wizard(qtbot, window, [path])
    advance(qtbot, wizard, wizard.SHEETS)
    advance(qtbot, wizard, wizard.MAPPING)
    advance(qtbot, wizard, wizard.REFERENCES)
    advance(qtbot, wizard, wizard.VALIDATION)
    return wizard


def shown_rows(model) -> list[int]:
    """The file row numbers the preview lists, read from its row headers."""
    out = []
    for r in range(model.rowCount()):
        header = model.headerData(r, Qt.Orientation.Vertical, Qt.ItemDataRole.DisplayRole)
        out.append(int(header.removeprefix("Row ").replace(",", "")))
    return out


def test_a_problem_in_row_999_is_fixed_in_the_preview_and_lands(
    qtbot,
    window,  # noqa: F811
    inv_path,  # noqa: F811
    tmp_path,
):
    path = write_models(tmp_path / "models.csv", 1_000, {3, 450, 999})
    wizard = to_validation(qtbot, window, path)
    page = wizard.validation_page
    assert wizard.plans[0].invalid == 3
    box = page.only_problems
    assert "&" in box.text() and not box.isChecked()
    assert page.preview.model().rowCount() == PREVIEW_ROWS  # today's view

    # Alt+P, the check box's mnemonic, checks it
    assert QKeySequence.mnemonic(box.text()) == QKeySequence("Alt+P")
    wizard.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is wizard)
    page.preview.setFocus()
    qtbot.keyClick(page.preview, Qt.Key.Key_P, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(box.isChecked)  # a shortcut clicks the box animated (a little later)
    model = page.preview.model()
    assert shown_rows(model) == [3, 450, 999]
    assert page.tabs.tabText(0) == "Rows with problems"
    assert page.problem_rows_note.text() == "3 rows with problems"
    col = preview_column(model, PARAMS)
    cell = model.index(model.find_row(999), col)
    assert cell.data(Qt.ItemDataRole.BackgroundRole).color() == PROBLEM_BACKGROUND
    assert "must be a number" in cell.data(Qt.ItemDataRole.ToolTipRole)
    assert model.flags(cell) & Qt.ItemFlag.ItemIsEditable
    assert cell.data(Qt.ItemDataRole.EditRole) == "lots"

    page.preview.setCurrentIndex(cell)
    assert model.setData(cell, "12.5")
    qtbot.waitUntil(lambda: wizard.plans_fresh() and page._job is None, timeout=20_000)
    assert wizard.chosen()[0].edits == {(999, "params_total_b"): "12.5"}
    assert wizard.plans[0].invalid == 2
    # the view keeps the check box; the fixed row stays listed, valid and green
    assert box.isChecked()
    model = page.preview.model()
    assert model.problems_only and shown_rows(model) == [3, 450, 999]
    fixed = model.index(model.find_row(999), preview_column(model, PARAMS))
    assert model.index(fixed.row(), 0).data() == "New"
    assert fixed.data() == "12.5"
    assert fixed.data(Qt.ItemDataRole.BackgroundRole).color() == FIXED_BACKGROUND
    assert "the file says 'lots'" in fixed.data(Qt.ItemDataRole.ToolTipRole)
    assert page.preview.currentIndex() == fixed
    assert page.problem_rows_note.text() == "2 rows with problems"

    # unchecked: today's view again
    box.setChecked(False)
    assert page.preview.model().rowCount() == PREVIEW_ROWS
    assert page.tabs.tabText(0) == "First rows"
    assert not page.problem_rows_note.isVisible()

    # import, skipping the two rows still invalid: the fix is in the inventory
    page.skip.setChecked(True)
    page.errors_path.setText(str(tmp_path / "errors.csv"))
    advance(qtbot, wizard, wizard.SUMMARY)
    assert wizard.result.counts["models"]["new"] == 998
    with Inventory.open(inv_path) as inv:
        rows = inv.get_many("models", inv.ordered_ids("models"))
    params = {r["name"]: r["params_total_b"] for r in rows}
    assert params["model-999"] == 12.5
    assert "model-450" not in params
    wizard.accept()


def test_the_cap_on_problem_rows_is_said(qtbot, window, tmp_path):  # noqa: F811
    bad = set(range(2, 1_502))  # 1,500 bad rows
    wizard = to_validation(qtbot, window, write_models(tmp_path / "m.csv", 1_600, bad))
    page = wizard.validation_page
    page.only_problems.setChecked(True)
    model = page.preview.model()
    assert model.rowCount() == PROBLEM_PREVIEW_ROWS == 1_000
    assert shown_rows(model)[-1] == 1_001
    assert page.problem_rows_note.isVisible()
    assert page.problem_rows_note.text() == "Showing 1,000 of 1,500 rows with problems"
    wizard.reject()


def test_rows_beyond_the_first_rows_name_the_records_they_refer_to(
    qtbot,
    window,  # noqa: F811
    tmp_path,
):
    path = tmp_path / "runs.csv"
    lines = ["Run name,Model,Kind,GPU type,No. of GPUs,Start date,End date,Energy [MWh]"]
    for number in range(2, 302):
        energy = "-1" if number == 280 else "0.5"  # a negative energy in row 280
        lines.append(
            f"run-{number},Llama 3.1 8B,Fine-tuning,NVIDIA H100 SXM,8,"
            f"2026-07-01,2026-07-02,{energy}"
        )
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    wizard = runs_to_validation(qtbot, window, [path])
    page = wizard.validation_page
    page.only_problems.setChecked(True)
    model = page.preview.model()
    assert shown_rows(model) == [280]
    first = page.models[0].plan.preview[0]
    for label in ("Model", "Hardware"):
        col = preview_column(model, label)
        assert model.index(0, col).data() == first["display"][model.field_name(col)]
        assert not model.index(0, col).data().isdigit()
    wizard.reject()
