"""The import wizard driven as a user would, on real CSV and XLSX files written here,
against the real import core and real inventory files: what lands, cancel, problem
cells, undo, presets, and the main window's ways in (menu, drop, welcome panel)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import xlsxwriter
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QInputDialog,
    QProgressDialog,
    QPushButton,
)

from core import importing
from core.inventory import Inventory
from ui.import_mapping import MappingPage
from ui.import_pages import PROBLEM_BACKGROUND, PreviewModel
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
    combo = refs.table.cellWidget(0, 3)
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
    combo = wizard.references_page.table.cellWidget(0, 3)
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
    combo = wizard.references_page.table.cellWidget(0, 3)
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


def test_cancel_during_the_commit_leaves_the_inventory_unchanged(qtbot, window, inv_path, tmp_path):
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


def test_ambiguous_dates_are_asked(qtbot, window, inv_path, tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text(
        "Run name,Model,Kind,Start date,End date\n"
        "a,Llama 3.1 8B,Experiments,03/04/2026,05/04/2026\n"
        "b,Llama 3.1 8B,Experiments,01/02/2026,02/02/2026\n",
        encoding="utf-8",
    )
    wizard = open_wizard(qtbot, window, [path])
    advance(qtbot, wizard, wizard.SHEETS)
    advance(qtbot, wizard, wizard.MAPPING)
    page = wizard.currentPage()
    assert page.dates.isVisibleTo(page)
    assert "03/04/2026" in page.dates_label.text()
    assert not page.isComplete()  # Next waits for the answer
    page.mdy.setChecked(True)
    assert page.isComplete()
    qtbot.waitUntil(lambda: not page.updating and page.preview.model() is not None)
    model = page.preview.model()
    assert model.index(0, preview_column(model, "Start")).data() == "2026-03-04"
    page.dmy.setChecked(True)
    qtbot.waitUntil(
        lambda: (
            not page.updating
            and page.preview.model().index(0, preview_column(page.preview.model(), "Start")).data()
            == "2026-04-03"
        )
    )


def test_mapping_changes_and_presets(qtbot, window, inv_path, tmp_path, monkeypatch):
    csv_path = tmp_path / "models.csv"
    csv_path.write_text(MODELS_CSV, encoding="utf-8")
    wizard = open_wizard(qtbot, window, [csv_path])
    advance(qtbot, wizard, wizard.SHEETS)
    advance(qtbot, wizard, wizard.MAPPING)
    page = wizard.currentPage()
    owner = column_row(page, "Owner / team")
    page.combos[owner].setCurrentIndex(0)  # ignore the column
    assert wizard.sheets[0].mapping.columns[owner].field is None
    assert page.columns.item(owner, page.MATCH).text() == "ignored"
    qtbot.waitUntil(lambda: not page.updating)
    assert "Owner / team" not in page.preview.model().labels
    # choosing a field another column has takes it from that column
    params = column_row(page, "Total parameters (billion)")
    page.combos[owner].setCurrentIndex(page.combos[owner].findData("params_total_b"))
    assert page.combos[params].currentData() is None

    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Quarterly models", True))
    page.save_preset_button.click()
    assert importing.list_presets(window.inventory) == ["Quarterly models"]
    wizard.reject()

    wizard = open_wizard(qtbot, window, [csv_path])
    advance(qtbot, wizard, wizard.SHEETS)
    advance(qtbot, wizard, wizard.MAPPING)
    page = wizard.currentPage()
    assert page.combos[owner].currentData() == "owner"  # proposed afresh
    assert page.presets.currentText() == "Quarterly models"
    page.apply_preset_button.click()
    qtbot.waitUntil(lambda: page.combos[owner].currentData() == "params_total_b")
    assert page.combos[params].currentData() is None


def test_codecarbon_log_with_one_site_for_the_whole_file(qtbot, window, inv_path, tmp_path):
    header = (
        "timestamp,project_name,run_id,experiment_id,duration,emissions,emissions_rate,"
        "cpu_power,gpu_power,ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,"
        "country_name,country_iso_code,region,cloud_provider,cloud_region,os,python_version,"
        "codecarbon_version,cpu_count,cpu_model,gpu_count,gpu_model,longitude,latitude,"
        "ram_total_size,tracking_mode,on_cloud,pue"
    )
    rows = [
        "2026-11-28T11:57:39,Llama 3.1 8B,f261c8bf-fe91-411a-91cd-6e8803b48d80,5b0fa12a,"
        "7200,0.5,1e-6,8,300,20,0.1,2.0,0.1,2.2,France,FRA,,,,Linux,3.11.7,3.3.2,2,"
        "AMD EPYC,1,NVIDIA H100 SXM,,,23.5,machine,N,1.0",
        "2026-11-29T10:00:00,Llama 3.1 8B,0c42d4ce-a989-4fd8-a1d0-535a4954d586,5b0fa12a,"
        "3600,0.25,1e-6,8,300,20,0.05,1.0,0.05,1.1,France,FRA,,,,Linux,3.11.7,3.3.2,2,"
        "AMD EPYC,1,NVIDIA H100 SXM,,,23.5,machine,N,1.0",
    ]
    path = tmp_path / "emissions.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    site_id = window.inventory.ref_options("sites")[0][0]
    wizard = open_wizard(qtbot, window, [path])
    advance(qtbot, wizard, wizard.SHEETS)
    assert wizard.sheets[0].table == "codecarbon"
    advance(qtbot, wizard, wizard.MAPPING)
    page = wizard.currentPage()
    site = page.default_combos["site_id"]
    site.setCurrentIndex(site.findData(site_id))
    assert wizard.sheets[0].mapping.defaults["site_id"] == site_id
    advance(qtbot, wizard, wizard.REFERENCES)
    advance(qtbot, wizard, wizard.VALIDATION)
    assert (wizard.plans[0].new, wizard.plans[0].invalid) == (2, 0)
    advance(qtbot, wizard, wizard.SUMMARY)
    inv = window.inventory
    runs = inv.get_many("training_runs", inv.ordered_ids("training_runs"))
    assert {r["site_id"] for r in runs} == {site_id}
    assert sorted(r["energy_kwh"] for r in runs) == pytest.approx([1.1, 2.2])
    assert {r["external_id"] for r in runs} == {
        "f261c8bf-fe91-411a-91cd-6e8803b48d80",
        "0c42d4ce-a989-4fd8-a1d0-535a4954d586",
    }


def test_unreadable_file_is_named_and_the_others_go_on(qtbot, window, tmp_path):
    bad = tmp_path / "report.xlsx"
    bad.write_bytes(b"%PDF-1.7 not a workbook")
    good = tmp_path / "models.csv"
    good.write_text(MODELS_CSV, encoding="utf-8")
    wizard = open_wizard(qtbot, window, [bad, good])
    texts = [wizard.files_page.list.item(r).text() for r in range(2)]
    assert texts[0].startswith("report.xlsx — cannot be read")
    assert texts[1] == "models.csv — 1 sheet"
    advance(qtbot, wizard, wizard.SHEETS)
    assert [s.info.file for s in wizard.sheets] == [good]


def test_file_menu_drop_and_welcome_start_the_wizard(qtbot, inv_path, tmp_path, monkeypatch):
    window = MainWindow(SettingsStore())
    qtbot.addWidget(window)
    window.set_inventory(Inventory.open(inv_path), welcome=True)
    window.show()
    file_menu = window.menuBar().actions()[0].menu()
    texts = [a.text() for a in file_menu.actions()]
    assert {"&Import…", "&Export…", "Save Import &Template…"} <= set(texts)
    assert window.import_action.shortcut().toString() == "Ctrl+I"

    csv_path = tmp_path / "models.csv"
    csv_path.write_text(MODELS_CSV, encoding="utf-8")
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a, **k: ([str(csv_path)], ""))
    assert window.welcome.import_button.isEnabled()
    window.welcome.import_button.click()
    assert window.import_wizard.files_page._pending == [] or window.import_wizard.isVisible()
    qtbot.waitUntil(window.import_wizard.files_page.isComplete)
    window.import_wizard.reject()

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(csv_path))])
    enter = QDragEnterEvent(
        QPoint(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    QApplication.sendEvent(window, drop)
    wizard = window.import_wizard
    assert wizard.isVisible()
    qtbot.waitUntil(wizard.files_page.isComplete)
    assert [s.info.file for s in wizard.files_page.readable()] == [csv_path]
    wizard.reject()

    # a PDF dropped on the window is not offered to the wizard
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path / "report.pdf"))])
    enter = QDragEnterEvent(
        QPoint(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    enter.ignore()
    QApplication.sendEvent(window, enter)
    assert not enter.isAccepted()


def test_export_and_template(qtbot, window, inv_path, tmp_path, monkeypatch):
    out = tmp_path / "export.xlsx"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    window.export_action.trigger()
    qtbot.waitUntil(lambda: "Exported" in window.statusBar().currentMessage(), timeout=20_000)
    sheets = importing.open_source(out)
    assert "Models" in [s.name for s in sheets] or "models" in [s.name for s in sheets]

    template = tmp_path / "template.xlsx"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(template), ""))
    window.template_action.trigger()
    assert template.exists()
    assert importing.open_source(template)
