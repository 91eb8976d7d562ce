"""The import wizard's validation page: problem cells are marked (on the mapping page's
preview already), bad rows are skipped to an errors file, and a problem cell is fixed in
the preview, kept through Back and Next and landed with the import."""

from __future__ import annotations

import import_wizard_support as support
from import_wizard_support import (
    RUNS,
    advance,
    counts,
    open_wizard,
    preview_column,
    runs_to_validation,
    use_combo,
    write_runs_xlsx,
)
from PySide6.QtCore import Qt

from ui.import_pages import FIXED_BACKGROUND, PROBLEM_BACKGROUND

# the wizard tests' fixtures (pytest finds fixtures bound in a test module)
inv_path = support.inv_path
window = support.window


def test_problem_cells_are_marked_and_bad_rows_skip_to_an_errors_file(
    qtbot, window, inv_path, tmp_path
):
    rows = [list(r) for r in RUNS]
    rows[1][4] = "lots"  # text in the devices column
    rows[2][7] = -0.05  # negative energy
    xlsx_path = write_runs_xlsx(tmp_path / "runs.xlsx", rows)
    before = counts(inv_path)
    wizard = open_wizard(qtbot, window, [xlsx_path])
    advance(qtbot, wizard, wizard.SHEETS)
    advance(qtbot, wizard, wizard.MAPPING)
    page = wizard.currentPage()
    page.default_combos["energy_boundary"].setCurrentIndex(1)
    qtbot.waitUntil(lambda: not page.updating)
    # the mapping page's preview marks them already
    model = page.preview.model()
    devices = preview_column(model, "Devices")
    assert model.index(1, devices).data(Qt.ItemDataRole.BackgroundRole).color() == (
        PROBLEM_BACKGROUND
    )
    advance(qtbot, wizard, wizard.REFERENCES)
    combo = use_combo(wizard.references_page, 0)
    combo.setCurrentIndex(combo.findData("create"))
    advance(qtbot, wizard, wizard.VALIDATION)
    page = wizard.validation_page
    assert wizard.plans[0].invalid == 2

    model = page.preview.model()
    devices = preview_column(model, "Devices")
    energy = preview_column(model, "Measured energy (kWh)")
    bad = model.index(1, devices)
    assert bad.data(Qt.ItemDataRole.BackgroundRole).color() == PROBLEM_BACKGROUND
    assert "number" in bad.data(Qt.ItemDataRole.ToolTipRole)
    negative = model.index(2, energy)
    assert negative.data(Qt.ItemDataRole.BackgroundRole).color() == PROBLEM_BACKGROUND
    assert negative.data(Qt.ItemDataRole.ToolTipRole)
    good = model.index(0, energy)
    assert good.data(Qt.ItemDataRole.BackgroundRole) is None
    assert model.index(1, 0).data() == "Invalid"
    assert page.problems.rowCount() == 2
    listed = {(page.problems.item(r, 1).text(), page.problems.item(r, 2).text()) for r in range(2)}
    assert listed == {("5", "No. of GPUs"), ("6", "Energy [MWh]")}

    # Import stays disabled until the user chooses to skip the bad rows
    assert not page.isComplete()
    errors = tmp_path / "errors.csv"
    page.skip.setChecked(True)
    page.errors_path.setText(str(errors))
    assert page.isComplete()
    advance(qtbot, wizard, wizard.SUMMARY)
    assert wizard.result.counts["training_runs"] == {
        "new": 1,
        "changed": 0,
        "unchanged": 0,
        "skipped": 2,
    }
    assert counts(inv_path)["training_runs"] == before["training_runs"] + 1
    text = errors.read_text(encoding="utf-8-sig")
    assert "No. of GPUs" in text and "Energy [MWh]" in text
    assert wizard.summary_page.errors.isVisibleTo(wizard.summary_page)


# -- fixing a problem cell in the preview --------------------------------------------------


def test_a_problem_cell_is_fixed_in_the_preview(qtbot, window, inv_path, tmp_path):
    from PySide6.QtWidgets import QLineEdit

    rows = [list(r) for r in RUNS]
    rows[1][4] = "lots"  # text in the devices column
    xlsx_path = write_runs_xlsx(tmp_path / "runs.xlsx", rows)
    before = counts(inv_path)
    wizard = runs_to_validation(qtbot, window, [xlsx_path])
    page = wizard.validation_page
    assert wizard.plans[0].invalid == 1
    assert not page.isComplete()

    model = page.preview.model()
    devices = preview_column(model, "Devices")
    bad = model.index(1, devices)
    assert model.flags(bad) & Qt.ItemFlag.ItemIsEditable
    assert not model.flags(model.index(0, devices)) & Qt.ItemFlag.ItemIsEditable  # no problem
    assert not model.flags(model.index(1, 0)) & Qt.ItemFlag.ItemIsEditable  # the status
    assert "F2" in bad.data(Qt.ItemDataRole.ToolTipRole)
    assert bad.data(Qt.ItemDataRole.EditRole) == "lots"

    # F2 on the cell, type the number, Enter: the row is checked again
    page.preview.setFocus()
    page.preview.setCurrentIndex(bad)
    qtbot.keyClick(page.preview, Qt.Key.Key_F2)
    editor = page.preview.viewport().findChild(QLineEdit)
    assert editor is not None and editor.text() == "lots"
    editor.setText("16")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    # the delegate commits the editor's text once the key press is handled (queued)
    qtbot.waitUntil(lambda: bool(wizard.chosen()[0].edits))
    qtbot.waitUntil(lambda: wizard.plans_fresh() and page._job is None, timeout=20_000)
    assert wizard.chosen()[0].edits == {(5, "device_count"): "16"}
    assert (wizard.plans[0].new, wizard.plans[0].invalid) == (3, 0)
    model = page.preview.model()
    fixed = model.index(1, preview_column(model, "Devices"))
    assert model.index(1, 0).data() == "New"  # the row's new status
    assert fixed.data() == "16"
    assert fixed.data(Qt.ItemDataRole.BackgroundRole).color() == FIXED_BACKGROUND
    assert fixed.data(Qt.ItemDataRole.FontRole).italic()
    assert "the file says 'lots'" in fixed.data(Qt.ItemDataRole.ToolTipRole)
    assert page.preview.currentIndex() == fixed  # the same cell, shown again
    assert page.isComplete()

    # the fix stays through Back and Next
    wizard.back()
    qtbot.waitUntil(lambda: wizard.currentId() == wizard.REFERENCES)
    advance(qtbot, wizard, wizard.VALIDATION)
    assert (wizard.plans[0].new, wizard.plans[0].invalid) == (3, 0)
    assert wizard.plans[0].edits == {(5, "device_count"): "16"}

    # and lands with the import, which is still one step to undo
    advance(qtbot, wizard, wizard.SUMMARY)
    inv = window.inventory
    runs = {r["name"]: r for r in inv.get_many("training_runs", inv.ordered_ids("training_runs"))}
    assert runs["ft-support-2"]["device_count"] == 16
    wizard.accept()
    stack = window.editor.stack
    assert stack.count() == 1
    stack.undo()
    assert counts(inv_path) == before


def test_typing_the_file_value_again_takes_the_fix_back(qtbot, window, tmp_path):
    rows = [list(r) for r in RUNS]
    rows[2][7] = -0.05  # negative energy
    wizard = runs_to_validation(qtbot, window, [write_runs_xlsx(tmp_path / "runs.xlsx", rows)])
    page = wizard.validation_page
    model = page.preview.model()
    energy = model.index(2, preview_column(model, "Measured energy (kWh)"))
    assert energy.data(Qt.ItemDataRole.EditRole) == "-0.05"
    assert model.setData(energy, "0.05")
    qtbot.waitUntil(lambda: wizard.plans_fresh() and page._job is None, timeout=20_000)
    assert wizard.plans[0].invalid == 0
    model = page.preview.model()
    energy = model.index(2, preview_column(model, "Measured energy (kWh)"))
    assert energy.data() == "50"  # MWh in the file: converted like the file's cells
    assert model.setData(energy, "-0.05")  # the file's value: no fix any more
    qtbot.waitUntil(lambda: wizard.plans_fresh() and page._job is None, timeout=20_000)
    assert wizard.chosen()[0].edits == {} and wizard.chosen()[0].edited_from == {}
    assert wizard.plans[0].invalid == 1
    wizard.reject()
