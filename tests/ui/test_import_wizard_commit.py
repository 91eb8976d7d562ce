"""The import wizard carried through to the end on real CSV and XLSX files written here,
against the real import core and real inventory files: what lands, that an import is
one step to undo (with the hardware it created), and that cancelling the commit writes
nothing."""

from __future__ import annotations

import threading
import time

import import_wizard_support as support
import pytest
from import_wizard_support import (
    MODELS_CSV,
    advance,
    column_row,
    counts,
    open_wizard,
    preview_column,
    use_combo,
    write_runs_xlsx,
)
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QProgressDialog, QPushButton

from ui.import_mapping import MappingPage

# the wizard tests' fixtures (pytest finds fixtures bound in a test module)
inv_path = support.inv_path
window = support.window


def test_csv_and_xlsx_import_lands_rows_and_undoes_as_one_step(qtbot, window, inv_path, tmp_path):
    csv_path = tmp_path / "models.csv"
    csv_path.write_text(MODELS_CSV, encoding="utf-8")
    xlsx_path = write_runs_xlsx(tmp_path / "Q3 runs.xlsx")
    before = counts(inv_path)
    wizard = open_wizard(qtbot, window, [csv_path, xlsx_path])

    # sheets: proposed tables, the notes sheet left out
    advance(qtbot, wizard, wizard.SHEETS)
    proposed = [(s.info.name, s.table) for s in wizard.sheets]
    # the notes sheet is left out, either as not data at all or as not imported
    assert [p for p in proposed if p[0] != "Notes"] == [
        ("models", "models"),
        ("Training runs", "training_runs"),
    ]
    chosen = [c.currentData() for c in wizard.sheets_page.combos]
    assert dict(zip(dict(proposed), chosen, strict=True)).get("Notes") is None

    # models.csv: every column mapped, numbers converted in the preview
    advance(qtbot, wizard, wizard.MAPPING)
    page = wizard.currentPage()
    assert isinstance(page, MappingPage)
    row = column_row(page, "Total parameters (billion)")
    assert page.combos[row].currentData() == "params_total_b"
    model = page.preview.model()
    assert model.rowCount() == 2
    col = preview_column(model, "Total parameters (billion)")
    assert model.index(0, col).data() == "7.3"

    # the runs sheet: header found below the title row, MWh converted to kWh
    advance(qtbot, wizard, wizard.MAPPING + 1)
    page = wizard.currentPage()
    row = column_row(page, "Energy [MWh]")
    assert page.combos[row].currentData() == "energy_kwh"
    assert page.columns.item(row, page.UNIT).text() == "MWh → kWh"
    model = page.preview.model()
    energy = preview_column(model, "Measured energy (kWh)")
    assert model.index(0, energy).data() == "1,200"
    assert model.index(0, preview_column(model, "Start")).data() == "2026-07-01"
    # measured energy needs its boundary: no column says it, so it is set for every row
    boundary = model.index(0, preview_column(model, "Energy boundary"))
    assert "measured energy covers" in boundary.data(Qt.ItemDataRole.ToolTipRole)
    combo = page.default_combos["energy_boundary"]
    combo.setCurrentIndex(combo.findData("facility"))
    qtbot.waitUntil(lambda: not page.updating)
    assert not page.preview.model().rows[0]["problems"]

    # the unknown hardware is listed once, with its row count; the user knows it is
    # the H100 under an internal name
    advance(qtbot, wizard, wizard.REFERENCES)
    refs = wizard.references_page
    values = [refs.table.item(r, 1).text() for r in range(refs.table.rowCount())]
    assert values == ["Gaudi 9 Mega"]
    assert refs.table.item(0, 2).text() == "2"
    combo = use_combo(refs, 0)
    assert combo.findData("create") >= 0
    combo.setCurrentIndex(combo.findText("NVIDIA H100 SXM"))

    # validation: counts, nothing marked, Import enabled
    advance(qtbot, wizard, wizard.VALIDATION)
    page = wizard.validation_page
    plans = wizard.plans
    assert [(p.table, p.new, p.changed, p.unchanged, p.invalid) for p in plans] == [
        ("models", 2, 0, 0, 0),
        ("training_runs", 3, 0, 0, 0),
    ]
    assert page.isComplete()
    assert counts(inv_path) == before  # nothing written before Import

    advance(qtbot, wizard, wizard.SUMMARY)
    assert wizard.result.counts["models"]["new"] == 2
    assert "5 new" in wizard.summary_page.subTitle()
    inv = window.inventory
    runs = {r["name"]: r for r in inv.get_many("training_runs", inv.ordered_ids("training_runs"))}
    assert set(runs) == {"ft-support-1", "ft-support-2", "ft-legal-1"}
    assert runs["ft-support-1"]["energy_kwh"] == pytest.approx(1200)
    assert runs["ft-support-1"]["device_count"] == 8
    assert runs["ft-support-1"]["start_date"] == "2026-07-01"
    assert runs["ft-legal-1"]["kind"] == "experiments"
    assert inv.title("hardware", runs["ft-support-1"]["hardware_id"]) == "NVIDIA H100 SXM"
    assert inv.title("hardware", runs["ft-support-2"]["hardware_id"]) == "NVIDIA H100 SXM"
    after = counts(inv_path)
    assert after["models"] == before["models"] + 2
    assert after["training_runs"] == before["training_runs"] + 3
    # the pages and the navigation counts show the import
    assert window.nav.item(1).text().endswith("(3)")

    wizard.accept()
    stack = window.editor.stack
    assert stack.count() == 1 and stack.undoText().startswith("Import")
    stack.undo()
    assert counts(inv_path) == before
    stack.redo()
    assert counts(inv_path) == after


def test_undo_removes_the_hardware_an_import_created(qtbot, window, inv_path, tmp_path):
    xlsx_path = write_runs_xlsx(tmp_path / "runs.xlsx")
    before = counts(inv_path)
    wizard = open_wizard(qtbot, window, [xlsx_path])
    advance(qtbot, wizard, wizard.SHEETS)
    advance(qtbot, wizard, wizard.MAPPING)
    page = wizard.currentPage()
    page.default_combos["energy_boundary"].setCurrentIndex(1)
    advance(qtbot, wizard, wizard.REFERENCES)
    combo = use_combo(wizard.references_page, 0)
    combo.setCurrentIndex(combo.findData("create"))
    advance(qtbot, wizard, wizard.VALIDATION)
    advance(qtbot, wizard, wizard.SUMMARY)
    inv = window.inventory
    assert "Gaudi 9 Mega" in [t for _, t in inv.ref_options("hardware")]
    assert counts(inv_path)["hardware"] == before["hardware"] + 1
    wizard.accept()
    stack = window.editor.stack
    stack.undo()
    assert counts(inv_path) == before
    assert "Gaudi 9 Mega" not in [t for _, t in inv.ref_options("hardware")]
    stack.redo()
    assert "Gaudi 9 Mega" in [t for _, t in inv.ref_options("hardware")]
    assert counts(inv_path)["training_runs"] == before["training_runs"] + 3


def gated_commit(monkeypatch) -> threading.Event:
    """Hold the wizard's commit at its first progress report, inside the transaction,
    until Cancel has been asked for (or 20 s have passed). Without it the test races the
    worker: a fast machine commits 30,000 rows before the click lands, and a commit that
    completed is rightly reported as done, not as cancelled. Returns the event set when
    the worker has reached the gate."""
    import ui.import_wizard as import_wizard

    real = import_wizard.commit_plans
    reached = threading.Event()

    def commit_plans(path, plans, skip, errors, progress, cancel):
        def held(done, total=None):
            if not reached.is_set():
                reached.set()
                deadline = time.monotonic() + 20
                while not cancel() and time.monotonic() < deadline:
                    time.sleep(0.01)
            progress(done, total)

        return real(path, plans, skip, errors, held, cancel)

    monkeypatch.setattr(import_wizard, "commit_plans", commit_plans)
    return reached


def test_cancel_during_the_commit_leaves_the_inventory_unchanged(
    qtbot, window, inv_path, tmp_path, monkeypatch
):
    reached = gated_commit(monkeypatch)
    path = tmp_path / "many models.csv"
    lines = ["Name,Version,Owner / team"] + [f"model {i},v1,Team {i % 7}" for i in range(30_000)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = counts(inv_path)
    wizard = open_wizard(qtbot, window, [path])
    advance(qtbot, wizard, wizard.SHEETS)
    advance(qtbot, wizard, wizard.MAPPING)
    advance(qtbot, wizard, wizard.REFERENCES)
    advance(qtbot, wizard, wizard.VALIDATION)
    assert wizard.plans[0].new == 30_000

    wizard.next()  # Import: the commit runs on a worker
    dialog = wizard.findChild(QProgressDialog)
    assert dialog is not None
    job = wizard.validation_page._commit
    assert reached.wait(20)  # the worker is inside the commit's transaction
    dialog.findChild(QPushButton).click()  # the dialog's Cancel button
    assert job.cancel_requested
    qtbot.waitUntil(lambda: wizard.validation_page._commit is None, timeout=20_000)
    assert wizard.currentId() == wizard.VALIDATION
    assert wizard.result is None
    assert "cancelled" in wizard.validation_page.verdict.text()
    assert counts(inv_path) == before
    assert window.editor.stack.count() == 0

    wizard.reject()  # the wizard's Cancel: still nothing written
    assert counts(inv_path) == before
