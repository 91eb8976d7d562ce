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
from ui.import_pages import FIXED_BACKGROUND, PROBLEM_BACKGROUND, PreviewModel
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


# -- references: weak matches, what can be created ------------------------------------------


def to_page(qtbot, wizard: ImportWizard, page_id: int) -> None:
    """Next until ``page_id`` (through whatever mapping pages there are)."""
    while wizard.currentId() != page_id:
        advance(qtbot, wizard, wizard.nextId())


def test_weak_matches_are_not_chosen_for_the_user(qtbot, window, inv_path, tmp_path):
    """A reference whose best match is weak (TPU v4 against TPU v2, a country against
    one cloud region in it) is created as a new entry, not linked to that record."""
    path = tmp_path / "runs.csv"
    path.write_text(
        "Run name,Model,Kind,GPU type,Region\n"
        "r1,Llama 3.1 8B,Fine-tuning,Google TPU v4,Korea (Republic of)\n",
        encoding="utf-8",
    )
    before = counts(inv_path)
    wizard = open_wizard(qtbot, window, [path])
    to_page(qtbot, wizard, wizard.REFERENCES)
    # nothing is linked to a record it only resembles
    assert wizard.resolutions == {
        ("hardware_id", "Google TPU v4"): "create",
        ("site_id", "Korea (Republic of)"): "create",
    }
    refs = wizard.references_page
    rows = {refs.table.item(r, 1).text(): r for r in range(refs.table.rowCount())}
    assert set(rows) == {"Google TPU v4", "Korea (Republic of)"}
    for value, row in rows.items():
        u = refs.items[(("hardware_id" if "TPU" in value else "site_id"), value)]
        assert u.suggestions and u.suggestions[0][2] < 0.6  # only weak matches
        combo = use_combo(refs, row)
        assert combo.currentData() == "create"
        assert combo.currentText().startswith("Create a new")
        # each suggestion shows its confidence, weak ones marked
        best = combo.itemText(combo.findData(u.suggestions[0][0]))
        assert f"({u.suggestions[0][2]:.0%} match, weak)" in best
        assert "% match, weak)" in refs.table.item(row, refs.CLOSEST).text()
    assert refs.isComplete()

    advance(qtbot, wizard, wizard.VALIDATION)
    row = wizard.plans[0].preview[0]
    assert row["display"]["hardware_id"] == "Google TPU v4 (new)"
    assert row["display"]["site_id"] == "Korea (Republic of) (new)"
    advance(qtbot, wizard, wizard.SUMMARY)
    inv = window.inventory
    run = inv.get_many("training_runs", inv.ordered_ids("training_runs"))[-1]
    assert inv.title("hardware", run["hardware_id"]) == "Google TPU v4"
    site = inv.get("sites", run["site_id"])
    assert (site["name"], site["country"]) == ("Korea (Republic of)", "KR")
    assert counts(inv_path)["hardware"] == before["hardware"] + 1


def test_a_close_match_is_chosen_and_a_weak_one_never(qtbot, window, tmp_path):
    from core.importing import Unresolved

    path = tmp_path / "models.csv"
    path.write_text(MODELS_CSV, encoding="utf-8")
    wizard = open_wizard(qtbot, window, [path])
    refs = wizard.references_page
    choose = refs.default_choice
    assert choose(Unresolved("hardware_id", "A100", 1, [(7, "A100 SXM", 0.7), (8, "B", 0.65)])) == 7
    assert choose(Unresolved("hardware_id", "TPU v4", 1, [(7, "TPU v2", 0.1)])) == "create"
    assert choose(Unresolved("site_id", "Korea", 1, [(3, "Seoul", 0.35)])) == "create"
    assert choose(Unresolved("model_id", "X 2.1", 1, [(3, "X 2.0", 0.4)])) == "create"
    assert choose(Unresolved("deployment_id", "New", 1, [(3, "Old", 0.4)])) == refs.CHOOSE
    assert choose(Unresolved("deployment_id", "New", 1, [])) == refs.CHOOSE
    wizard.reject()


USAGE_CSV = "Deployment,Period start,Period end,Requests\nBrand new dep,2025-01-01,2025-01-31,5\n"


def test_an_unknown_deployment_must_be_chosen_it_cannot_be_created(
    qtbot, window, inv_path, tmp_path, messages
):
    inv = window.inventory
    model_id = inv.ref_options("models")[0][0]
    inv.insert_logged(
        "deployments", [{"name": "Chat (EU)", "model_id": model_id, "kind": "api"}], "test"
    )
    dep_id = next(i for i, t in inv.ref_options("deployments") if t == "Chat (EU)")
    path = tmp_path / "usage.csv"
    path.write_text(USAGE_CSV, encoding="utf-8")
    wizard = open_wizard(qtbot, window, [path])
    to_page(qtbot, wizard, wizard.REFERENCES)
    refs = wizard.references_page
    assert wizard.resolutions == {}  # not "create": an import cannot create a deployment
    wizard.next()  # Next waits for the choice
    assert wizard.currentId() == wizard.REFERENCES
    assert refs.table.rowCount() == 1
    combo = use_combo(refs, 0)
    assert combo.findData("create") < 0
    assert not any("Create" in combo.itemText(i) for i in range(combo.count()))
    assert combo.currentData() == refs.CHOOSE and combo.currentText() == "Choose…"
    assert not refs.isComplete()
    assert refs.hint.isVisibleTo(refs)
    assert "'Brand new dep'" in refs.hint.text() and "deployments" in refs.hint.text()

    combo.setCurrentIndex(combo.findData(dep_id))
    assert refs.isComplete() and not refs.hint.isVisibleTo(refs)
    assert combo.findData(refs.CHOOSE) < 0  # not offered again once chosen
    advance(qtbot, wizard, wizard.VALIDATION)
    assert (wizard.plans[0].new, wizard.plans[0].invalid) == (1, 0)
    advance(qtbot, wizard, wizard.SUMMARY)
    assert not messages.messages
    usage = inv.get_many("usage", inv.ordered_ids("usage"))
    assert [u["deployment_id"] for u in usage] == [dep_id]


def test_leaving_a_deployment_unmatched_is_a_choice_that_sticks(qtbot, window, tmp_path):
    path = tmp_path / "usage.csv"
    path.write_text(USAGE_CSV, encoding="utf-8")
    wizard = open_wizard(qtbot, window, [path])
    to_page(qtbot, wizard, wizard.REFERENCES)
    refs = wizard.references_page
    combo = use_combo(refs, 0)
    combo.setCurrentIndex(combo.findData(refs.LEAVE))
    assert refs.isComplete()
    advance(qtbot, wizard, wizard.VALIDATION)
    assert wizard.plans[0].invalid == 1
    assert "unknown deployment" in wizard.plans[0].problems[0].reason
    wizard.back()
    qtbot.waitUntil(lambda: wizard.currentId() == wizard.REFERENCES)
    wizard.back()
    qtbot.waitUntil(lambda: wizard.currentId() == wizard.MAPPING)
    advance(qtbot, wizard, wizard.REFERENCES)  # the page is shown afresh
    combo = use_combo(refs, 0)
    assert combo.currentData() == refs.LEAVE  # not reset to a default on a return visit
    assert refs.isComplete()
    assert wizard.resolutions == {}
    wizard.reject()


# -- several sheets: referenced tables first, references between the sheets --------------


@pytest.fixture
def demo_window(qtbot, demo_path, tmp_path):
    path = tmp_path / "demo copy.aicl"
    with Inventory.open(demo_path) as src:
        src.save_copy(path)
    w = MainWindow(SettingsStore())
    qtbot.addWidget(w)
    assert w.open_inventory(path)
    w.show()
    return w


def test_template_sheets_refer_to_the_records_the_other_sheets_create(qtbot, demo_window, tmp_path):
    """The import template's training run and usage name the model and deployment its
    other sheets add; the demo holds similar ones ("Support Assistant 2.0", "Support chat
    EU (Assistant 2.0)"): the rows link to the new records, as the CLI links them."""
    window = demo_window
    template = importing.write_template(tmp_path / "template.xlsx")
    wizard = open_wizard(qtbot, window, [template])
    to_page(qtbot, wizard, wizard.REFERENCES)
    # nothing to ask: every name is in the inventory or in an earlier sheet
    assert wizard.references_page.table.rowCount() == 0
    assert wizard.resolutions == {}
    advance(qtbot, wizard, wizard.VALIDATION)
    plans = wizard.plans
    # planned (and committed) referenced tables first, as the import command does
    assert [p.table for p in plans] == [
        "sites",
        "models",
        "training_runs",
        "deployments",
        "usage",
        "sourcing",
    ]
    assert all(p.invalid == 0 and not p.unresolved for p in plans)
    by_table = {p.table: p for p in plans}
    run = by_table["training_runs"].preview[0]
    assert run["display"]["model_id"] == "Support assistant 2.1 (new)"
    usage = by_table["usage"].preview[0]
    assert usage["display"]["deployment_id"] == "Support chat (EU) (new)"
    deployment = by_table["deployments"].preview[0]
    assert deployment["display"]["model_id"] == "Support assistant 2.1 (new)"
    assert by_table["sourcing"].preview[0]["display"]["site_id"] == (
        "Head office server room (new)"
    )
    labels = [wizard.validation_page.sheet_box.itemText(i) for i in range(len(plans))]
    assert labels[0].endswith("Sites") and labels[-1].endswith("Renewable sourcing")

    advance(qtbot, wizard, wizard.SUMMARY)
    inv = window.inventory
    rows = inv.conn.execute(
        "SELECT m.name, m.version FROM training_runs r JOIN models m ON m.id = r.model_id "
        "WHERE r.name = 'Support assistant fine-tune Q1'"
    ).fetchall()
    assert rows == [("Support assistant", "2.1")]
    rows = inv.conn.execute(
        "SELECT d.name FROM usage u JOIN deployments d ON d.id = u.deployment_id "
        "WHERE u.period_start IN ('2026-02-01', '2026-03-01') AND u.requests IN "
        "(1250000, 1410000)"
    ).fetchall()
    assert rows == [("Support chat (EU)",), ("Support chat (EU)",)]
    rows = inv.conn.execute(
        "SELECT m.name, m.version FROM deployments d JOIN models m ON m.id = d.model_id "
        "WHERE d.name = 'Support chat (EU)'"
    ).fetchall()
    assert rows == [("Support assistant", "2.1")]


# -- plans follow every change made on a return visit -------------------------------------

EMISSIONS_HEADER = (
    "timestamp,project_name,run_id,experiment_id,duration,emissions,emissions_rate,"
    "cpu_power,gpu_power,ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,"
    "country_name,country_iso_code,region,cloud_provider,cloud_region,os,python_version,"
    "codecarbon_version,cpu_count,cpu_model,gpu_count,gpu_model,longitude,latitude,"
    "ram_total_size,tracking_mode,on_cloud,pue"
)
EMISSIONS_ROW = (
    "2026-11-28T11:57:39,Llama 3.1 8B,f261c8bf-fe91-411a-91cd-6e8803b48d80,5b0fa12a,"
    "7200,0.5,1e-6,8,300,20,0.1,2.0,0.1,2.2,France,FRA,,,,Linux,3.11.7,3.3.2,2,"
    "AMD EPYC,1,NVIDIA H100 SXM,,,23.5,machine,N,1.0"
)


def test_changing_the_site_on_a_return_visit_replans(qtbot, window, inv_path, tmp_path):
    path = tmp_path / "emissions.csv"
    path.write_text(f"{EMISSIONS_HEADER}\n{EMISSIONS_ROW}\n", encoding="utf-8")
    (a, _), (b, _) = window.inventory.ref_options("sites")[:2]
    wizard = open_wizard(qtbot, window, [path])
    advance(qtbot, wizard, wizard.SHEETS)
    advance(qtbot, wizard, wizard.MAPPING)
    page = wizard.currentPage()
    site = page.default_combos["site_id"]
    site.setCurrentIndex(site.findData(a))
    advance(qtbot, wizard, wizard.REFERENCES)
    advance(qtbot, wizard, wizard.VALIDATION)
    assert [r["values"]["site_id"] for r in wizard.plans[0].preview] == [a]

    wizard.back()
    qtbot.waitUntil(lambda: wizard.currentId() == wizard.REFERENCES)
    wizard.back()
    qtbot.waitUntil(lambda: wizard.currentId() == wizard.MAPPING)
    page = wizard.currentPage()
    qtbot.waitUntil(lambda: not page.updating, timeout=10_000)
    site = page.default_combos["site_id"]
    site.setCurrentIndex(site.findData(b))
    assert wizard.sheets[0].mapping.defaults["site_id"] == b
    assert not wizard.plans_fresh()
    advance(qtbot, wizard, wizard.REFERENCES)
    advance(qtbot, wizard, wizard.VALIDATION)
    assert [r["values"]["site_id"] for r in wizard.plans[0].preview] == [b]
    assert wizard.validation_page.preview.model().rows[0]["values"]["site_id"] == b

    # whatever else of the mapping changes the plans makes them stale too
    mapping = wizard.sheets[0].mapping
    into = mapping.into
    mapping.into = "usage"
    assert not wizard.plans_fresh()
    mapping.into = into
    assert wizard.plans_fresh()
    mapping.create_missing = [f for f in mapping.create_missing if f != "site_id"]
    assert not wizard.plans_fresh()
    wizard.reject()


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


def test_a_preset_keeps_the_reference_choices(qtbot, window, inv_path, tmp_path, monkeypatch):
    """Saving a mapping keeps the choices made for unmatched values: applying it next
    quarter chooses the same records (here TPU v4 linked to the TPU v2 record)."""
    path = tmp_path / "runs.csv"
    path.write_text(
        "Run name,Model,Kind,GPU type\nr1,Llama 3.1 8B,Fine-tuning,Google TPU v4\n",
        encoding="utf-8",
    )
    tpu = next(rid for rid, title in window.inventory.ref_options("hardware") if "TPU v2" in title)
    wizard = open_wizard(qtbot, window, [path])
    to_page(qtbot, wizard, wizard.REFERENCES)
    wizard.resolutions[("hardware_id", "Google TPU v4")] = tpu  # the user's choice
    while wizard.currentId() != wizard.MAPPING:
        wizard.back()
    page = wizard.currentPage()
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Quarterly runs", True))
    page.save_preset_button.click()
    wizard.reject()

    wizard = open_wizard(qtbot, window, [path])
    advance(qtbot, wizard, wizard.SHEETS)
    advance(qtbot, wizard, wizard.MAPPING)
    page = wizard.currentPage()
    page.presets.setCurrentText("Quarterly runs")
    page.apply_preset_button.click()
    qtbot.waitUntil(lambda: ("hardware_id", "Google TPU v4") in wizard.resolutions)
    assert wizard.resolutions[("hardware_id", "Google TPU v4")] == tpu
