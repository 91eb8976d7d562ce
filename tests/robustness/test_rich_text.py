"""User text that looks like markup shows literally in every widget that could render it.

Qt renders a QLabel's text, a tooltip, a message box's text and a wizard page's title as
rich text when their format is ``RichText``, or ``AutoText`` (the default) and
``Qt.mightBeRichText`` says so: a model named ``<img src=x>`` would then show as a
broken image, and ``<b>x</b>`` as a bold "x". These tests fill an inventory with such
names in every text field, drive each part of the app that shows them (the main window's
pages, the record and explain dialogs, the details panel, the dashboard with its filters
and chart tooltips, the report dialog and the reports page, the import wizard's
previews), and check every label, tooltip, item tooltip, message box and text document
on screen: user markup must never be rendered as markup, and it must be shown literally
somewhere on each surface (so the check is not vacuous).

Labels that quote data in a sentence (the dashboard's notes naming a site's region code,
the report dialog's status naming who closed a quarter, the file saved and the reason a
quarter was reopened, the import wizard's warnings quoting headers, units and cells, a
saved mapping's name, failure messages) are checked one by one with
:func:`reads_literally`: the label holds the text as written and Qt does not lay it out
as markup, so each check fails if the label were left at ``AutoText``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QTextEdit,
    QToolTip,
    QWidget,
)

from core import closing
from core.commands import InsertRecord, UpdateRecord
from core.inventory import Inventory

IMG, BOLD = "<img src=x>", "<b>x</b>"
MARKUP = (IMG, BOLD)
TIMEOUT = 30_000
TODAY = dt.date(2026, 5, 15)

pytestmark = pytest.mark.usefixtures("private_qsettings")


# -- what counts as rendered markup --------------------------------------------------------


def is_rich(text: str, fmt: Qt.TextFormat) -> bool:
    """Whether Qt lays ``text`` out as rich text in a widget of format ``fmt``."""
    if fmt == Qt.TextFormat.PlainText:
        return False
    if fmt in (Qt.TextFormat.RichText, Qt.TextFormat.MarkdownText):
        return True
    return GuiQt.mightBeRichText(text)


def displayed(text: str, fmt: Qt.TextFormat) -> str:
    """The characters a user reads."""
    if not is_rich(text, fmt):
        return text
    doc = QTextDocument()
    doc.setHtml(text)
    return doc.toPlainText()


def has_image(doc: QTextDocument) -> bool:
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            if it.fragment().charFormat().isImageFormat():
                return True
            it += 1
        block = block.next()
    return False


class Screen:
    """Everything the widgets say, as (where, text, format), plus what was popped up."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.popups: list[tuple[str, str, Qt.TextFormat]] = []
        self.documents: list[tuple[str, QTextDocument]] = []
        for kind in ("critical", "warning", "information", "question"):
            monkeypatch.setattr(QMessageBox, kind, self._box(kind))
        monkeypatch.setattr(QToolTip, "showText", self._tooltip)
        monkeypatch.setattr(QInputDialog, "getText", self._input)

    def _box(self, kind: str):
        def show(_parent, title, text, *args, **kwargs):
            self.popups.append((f"QMessageBox.{kind} '{title}'", text, Qt.TextFormat.AutoText))
            if kind == "question":
                return QMessageBox.StandardButton.Yes
            return QMessageBox.StandardButton.Ok

        return staticmethod(show)

    def _tooltip(self, _pos, text, *args, **kwargs) -> None:
        self.popups.append(("QToolTip.showText", text, Qt.TextFormat.AutoText))

    def _input(self, _parent, title, label, *args, **kwargs):
        self.popups.append((f"QInputDialog '{title}'", label, Qt.TextFormat.AutoText))
        return f"reason {IMG} {BOLD}", True

    def texts(self, root: QWidget | None = None) -> list[tuple[str, str, Qt.TextFormat]]:
        """The texts of ``root`` and its children (every widget when None)."""
        everything = root is None
        widgets = QApplication.allWidgets() if everything else [root, *root.findChildren(QWidget)]
        out = list(self.popups)
        auto = Qt.TextFormat.AutoText
        for w in widgets:
            name = f"{type(w).__name__} {w.objectName()!r}"
            if isinstance(w, QLabel):
                out.append((name, w.text(), w.textFormat()))
            if isinstance(w, QMessageBox):
                out.append((name + " text", w.text(), w.textFormat()))
                out.append((name + " informative", w.informativeText(), w.textFormat()))
            if w.toolTip():
                out.append((name + " tooltip", w.toolTip(), auto))
            if isinstance(w, QLineEdit | QPlainTextEdit):  # always plain text
                text = w.text() if isinstance(w, QLineEdit) else w.toPlainText()
                out.append((name, text, Qt.TextFormat.PlainText))
            if isinstance(w, QComboBox):
                out.append((name, w.currentText(), Qt.TextFormat.PlainText))
            if isinstance(w, QTextEdit):
                self.documents.append((name, w.document()))
                out.append((name, w.toPlainText(), Qt.TextFormat.PlainText))
            if isinstance(w, QAbstractItemView) and not isinstance(w, QHeaderView) and w.model():
                out.extend(_item_texts(name, w.model()))
        return out

    def check(self, root: QWidget | None = None) -> list[str]:
        """Assert nothing renders user markup; return every text as the user reads it."""
        texts = self.texts(root)
        wrong = sorted(
            {
                f"{where}: {text!r}"
                for where, text, fmt in texts
                if is_rich(text, fmt) and any(m in text for m in MARKUP)
            }
        )
        wrong += [where for where, doc in self.documents if has_image(doc)]
        assert not wrong, "user markup rendered as markup:\n" + "\n".join(wrong)
        return [displayed(text, fmt) for _, text, fmt in texts]


def _item_texts(name: str, model) -> list[tuple[str, str, Qt.TextFormat]]:
    """Display texts (always plain) and tooltips (AutoText) of the first rows, and of
    the headers."""
    out = []
    auto, plain = Qt.TextFormat.AutoText, Qt.TextFormat.PlainText
    rows = min(model.rowCount(QModelIndex()), 60)
    try:
        cols = model.columnCount(QModelIndex())
    except TypeError:  # list models keep columnCount private: one column
        cols = 1
    for c in range(cols):
        for orientation in (Qt.Orientation.Horizontal,):
            tip = model.headerData(c, orientation, Qt.ItemDataRole.ToolTipRole)
            if isinstance(tip, str) and tip:
                out.append((f"{name} header {c} tooltip", tip, auto))
        for r in range(rows):
            index = model.index(r, c)
            for role, fmt in (
                (Qt.ItemDataRole.DisplayRole, plain),
                (Qt.ItemDataRole.ToolTipRole, auto),
            ):
                value = index.data(role)
                if isinstance(value, str) and value:
                    out.append((f"{name} ({r}, {c}) role {int(role.value)}", value, fmt))
    return out


def literally(shown: list[str], *needles: str) -> None:
    """Each of ``needles`` is read literally somewhere in ``shown``."""
    for needle in needles:
        assert any(needle in s for s in shown), f"{needle!r} is not shown anywhere"


def reads_literally(label: QLabel, needle: str) -> None:
    """``label`` shows ``needle`` as written: its text holds it (plain, or escaped for a
    label that mixes markup), and Qt does not lay user markup out as markup."""
    text, fmt = label.text(), label.textFormat()
    assert needle in displayed(text, fmt), f"{needle!r} is not in {text!r}"
    assert not (is_rich(text, fmt) and any(m in text for m in MARKUP)), (
        f"{label.objectName() or type(label).__name__} renders {text!r} as rich text"
    )


def reads_literally_tip(tip: str, needle: str) -> None:
    """A tooltip (Qt guesses its format) shows ``needle`` as written."""
    assert needle in displayed(tip, Qt.TextFormat.AutoText), f"{needle!r} is not in {tip!r}"
    assert not (is_rich(tip, Qt.TextFormat.AutoText) and any(m in tip for m in MARKUP)), tip


# -- an inventory full of markup --------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_source(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    """Every text field of every table holds markup; activity in 2026-Q1."""
    path = tmp_path_factory.mktemp("rich_text") / "hostile.aicl"
    t = f"{IMG} {BOLD}"
    with Inventory.create(path) as inv:
        (site,) = inv.insert_logged(
            "sites",
            [
                {
                    "name": f"Site {t}",
                    "kind": "own",
                    "country": "FR",
                    "pue": 1.3,
                    "provider": t,
                    "source": t,
                    "notes": t,
                }
            ],
            "t",
        )
        (hw,) = inv.insert_logged(
            "hardware",
            [{"name": f"GPU {t}", "kind": "accelerator", "tdp_w": 400.0, "vendor": t}],
            "t",
        )
        (model,) = inv.insert_logged(
            "models",
            [
                {
                    "name": f"Model {t}",
                    "version": BOLD,
                    "owner": f"Team {t}",
                    "task": "chat",
                    "provider": t,
                    "tags": f"{IMG},{BOLD}",
                    "notes": t,
                }
            ],
            "t",
        )
        (run,) = inv.insert_logged(
            "training_runs",
            [
                {
                    "name": f"Run {t}",
                    "model_id": model,
                    "kind": "fine-tuning",
                    "site_id": site,
                    "hardware_id": hw,
                    "start_date": "2026-02-01",
                    "end_date": "2026-02-03",
                    "energy_kwh": 500.0,
                    "energy_boundary": "it",
                    "data_source": t,
                    "notes": t,
                }
            ],
            "t",
        )
        (dep,) = inv.insert_logged(
            "deployments",
            [
                {
                    "name": f"Deployment {t}",
                    "model_id": model,
                    "kind": "self-hosted",
                    "site_id": site,
                    "hardware_id": hw,
                    "device_count": 2,
                    "start_date": "2025-10-01",
                    "notes": t,
                }
            ],
            "t",
        )
        inv.insert_logged(
            "usage",
            [
                {
                    "deployment_id": dep,
                    "period_start": start,
                    "period_end": end,
                    "energy_kwh": kwh,
                    "energy_boundary": "it",
                    "notes": t,
                }
                for start, end, kwh in (
                    ("2025-10-01", "2025-12-31", 80.0),
                    ("2026-01-01", "2026-03-31", 120.0),
                )
            ],
            "t",
        )
        inv.insert_logged(
            "sourcing",
            [
                {
                    "name": f"PPA {t}",
                    "kind": "ppa",
                    "site_id": site,
                    "period_start": "2026-01-01",
                    "period_end": "2026-12-31",
                    "mwh": 0.05,
                    "supplier": t,
                    "notes": t,
                }
            ],
            "t",
        )
    return path, {"site": site, "model": model, "run": run, "deployment": dep}


@pytest.fixture
def hostile(hostile_source, tmp_path) -> tuple[Path, dict[str, int]]:
    """A private copy of the hostile inventory."""
    source, ids = hostile_source
    with Inventory.open(source) as inv:
        inv.save_copy(tmp_path / "hostile.aicl")
    return tmp_path / "hostile.aicl", ids


@pytest.fixture
def screen(monkeypatch) -> Screen:
    return Screen(monkeypatch)


def open_window(qtbot, path: Path):
    from ui.main_window import MainWindow
    from ui.settings import SettingsStore

    w = MainWindow(SettingsStore())
    qtbot.addWidget(w)
    w.resize(1366, 768)
    w.show()
    assert w.open_inventory(path)
    return w


@pytest.fixture
def window(qtbot, hostile):
    path, _ = hostile
    return open_window(qtbot, path)


# -- the surfaces ---------------------------------------------------------------------


def test_inventory_pages_show_markup_literally(qtbot, window, screen, hostile):
    _, ids = hostile
    from core import schema

    for table in schema.TABLES:
        if table not in ("factor_overrides",):
            window.show_page(table)
            qtbot.wait(10)
    # a second model of the same name and version is refused: the warning names it
    model = window.inventory.get("models", ids["model"])
    again = {"name": model["name"], "version": model["version"]}
    assert not window.editor.run(InsertRecord("models", again))
    page = window.pages["deployments"]
    page.select_id(ids["deployment"])
    page.delete_records()  # the confirmation names the deployment (answered Yes)
    shown = screen.check()
    literally(shown, f"Model {IMG} {BOLD}", f"Deployment {IMG} {BOLD}", f"Site {IMG} {BOLD}")
    popups = [displayed(text, fmt) for _, text, fmt in screen.popups]
    literally(popups, f"named 'Model {IMG} {BOLD}", f"Delete deployment 'Deployment {IMG}")


def test_record_and_explain_dialogs_show_markup_literally(qtbot, window, screen, hostile):
    from ui.explain_dialog import ExplainDialog
    from ui.record_dialog import RecordDialog

    path, ids = hostile
    inv = window.inventory
    dialog = RecordDialog(inv, "deployments", inv.get("deployments", ids["deployment"]))
    qtbot.addWidget(dialog)
    dialog.show()
    shown = screen.check(dialog)
    literally(shown, f"Deployment {IMG} {BOLD}", f"Model {IMG} {BOLD} {BOLD}")
    dialog.close()

    title = inv.title("deployments", ids["deployment"])
    explain = ExplainDialog(path, f"deployments:{ids['deployment']}", title)
    qtbot.addWidget(explain)
    explain.show()
    qtbot.waitUntil(lambda: IMG in explain.text.toPlainText(), timeout=TIMEOUT)
    literally(screen.check(explain), f"Deployment {IMG} {BOLD}")
    explain.close()
    qtbot.waitUntil(lambda: explain._task is None or explain._task.done(), timeout=TIMEOUT)


def test_detail_panel_shows_markup_literally(qtbot, window, screen, hostile):
    _, ids = hostile
    window.details_action.trigger()
    panel = window.details
    for table, key in (("training_runs", "run"), ("deployments", "deployment")):
        window.show_page(table)
        window.pages[table].select_id(ids[key])
        entry = f"{table}:{ids[key]}"
        qtbot.waitUntil(
            lambda entry=entry: (
                panel.details is not None and panel.details.entry == entry and not panel.computing
            ),
            timeout=TIMEOUT,
        )
        shown = screen.check(panel)
        name = "Run" if key == "run" else "Deployment"
        literally(shown, f"{name} {IMG} {BOLD}")
        assert not has_image(panel.text.document())


def test_dashboard_labels_tooltips_and_charts_show_markup_literally(qtbot, window, screen, hostile):
    from ui.dashboard_page import DashboardPage

    window.show_page("dashboard")
    qtbot.waitUntil(lambda: "dashboard" in window.pages, timeout=20_000)
    page = window.pages["dashboard"]
    assert isinstance(page, DashboardPage)
    index = page.period.findData("2026-Q1")
    if index >= 0 and page.period.currentIndex() != index:
        page.period.setCurrentIndex(index)
    qtbot.waitUntil(lambda: page.session is not None and not page.computing, timeout=TIMEOUT)
    for box in (page.team, page.model, page.site, page.tag):
        box.set_values([box.model().item(1).data(Qt.ItemDataRole.UserRole)])
    qtbot.waitUntil(lambda: not page.computing, timeout=TIMEOUT)
    for chart in page.findChildren(QWidget):
        tooltip_at = getattr(chart, "tooltip_at", None)
        if tooltip_at is None:
            continue
        for x in range(0, 8):
            for y in range(0, 4):
                text = tooltip_at(float(x), float(y))
                if text:
                    screen.popups.append((type(chart).__name__, text, Qt.TextFormat.AutoText))
    shown = screen.check(page)
    literally(shown, f"Team {IMG} {BOLD}", f"Deployment {IMG} {BOLD}")


def test_reports_page_and_report_dialog_show_markup_literally(
    qtbot, window, screen, hostile, monkeypatch
):
    """Close 2026-Q1, restate it with a reason in markup, reopen it with another."""
    from ui import closing_guard
    from ui.report_dialog import ReportDialog
    from ui.reports_page import ReportsPage

    _, ids = hostile
    inv = window.inventory
    page = ReportsPage(inv, window.editor, today=TODAY)
    qtbot.addWidget(page)
    page.resize(1100, 700)
    page.show()
    page.select("2026-Q1")
    page.close_quarter()  # the question is answered Yes
    assert closing.in_force(inv, "2026-Q1") is not None
    reason = f"meter {IMG} {BOLD}"
    monkeypatch.setattr(closing_guard, "ask_reason", lambda changes, parent=None: reason)
    usage = inv.conn.execute("SELECT id FROM usage WHERE period_start = '2026-01-01'").fetchone()[0]
    assert window.editor.run(UpdateRecord("usage", usage, {"energy_kwh": 240.0}))
    page.refresh()
    page.select("2026-Q1")
    assert page.restatements.rowCount() > 0
    shown = screen.check(page)
    literally(shown, reason)
    page.reopen_quarter()  # the reason asked is markup too
    assert closing.in_force(inv, "2026-Q1") is None
    literally(screen.check(page), f"reason {IMG} {BOLD}")

    dialog = ReportDialog(inv, window, today=TODAY)
    qtbot.addWidget(dialog)
    dialog.show()
    screen.check(dialog)
    dialog.close()
    del ids


def test_import_wizard_previews_show_markup_literally(qtbot, window, screen, tmp_path):
    """A CSV whose file name, headers and cells are markup, one cell not a number."""
    from ui.import_mapping import MappingPage

    path = tmp_path / f"models {IMG}.csv"  # a file name cannot hold the "/" of </b>
    path.write_text(
        f"Name,Version,Owner / team,Total parameters (billion),Remark {IMG}\r\n"
        f"New {IMG},{BOLD},Legal {BOLD},7.3,{IMG}\r\n"
        f"Other {BOLD},1,Legal,{BOLD},x\r\n",
        encoding="utf-8",
    )
    window.start_import([path])
    wizard = window.import_wizard
    qtbot.waitUntil(wizard.files_page.isComplete, timeout=TIMEOUT)
    shown = screen.check(wizard)
    wizard.next()
    qtbot.waitUntil(lambda: wizard.currentId() == wizard.SHEETS, timeout=TIMEOUT)
    shown += screen.check(wizard)
    wizard.next()
    qtbot.waitUntil(lambda: wizard.currentId() == wizard.MAPPING, timeout=TIMEOUT)
    page = wizard.currentPage()
    assert isinstance(page, MappingPage)
    qtbot.waitUntil(lambda: page.preview.model() is not None, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: not page.updating, timeout=TIMEOUT)
    shown += screen.check(wizard)
    while wizard.currentId() != wizard.VALIDATION:
        before = wizard.currentId()
        wizard.next()
        qtbot.waitUntil(lambda before=before: wizard.currentId() != before, timeout=TIMEOUT)
    qtbot.waitUntil(
        lambda: wizard.plans_fresh() and not wizard.validation_page._job, timeout=TIMEOUT
    )
    shown += screen.check(wizard)
    literally(shown, f"New {IMG}", f"Remark {IMG}", f"models {IMG}.csv")
    wizard.reject()


# -- labels that quote data in a sentence ------------------------------------------------


def _wait_for_dashboard(qtbot, window, period: str):
    from ui.dashboard_page import DashboardPage

    window.show_page("dashboard")
    qtbot.waitUntil(lambda: "dashboard" in window.pages, timeout=20_000)
    page = window.pages["dashboard"]
    assert isinstance(page, DashboardPage)
    index = page.period.findData(period)
    assert index >= 0
    if page.period.currentIndex() != index:
        page.period.setCurrentIndex(index)
    qtbot.waitUntil(lambda: page.session is not None and not page.computing, timeout=TIMEOUT)
    return page


def test_dashboard_notes_quote_a_sites_region_code_literally(qtbot, hostile, screen):
    """A cloud site whose region code and grid region are markup: the grid factor's
    fallback note names the zone ("no factor for aws:<img src=x>")."""
    path, ids = hostile
    with Inventory.open(path) as inv:
        (site,) = inv.insert_logged(
            "sites",
            [
                {
                    "name": "Cloud region",
                    "kind": "cloud",
                    "provider": "AWS",
                    "region_code": IMG,
                    "grid_region": BOLD,
                    "country": "FR",
                }
            ],
            "t",
        )
        (dep,) = inv.insert_logged(
            "deployments",
            [
                {
                    "name": "Cloud deployment",
                    "model_id": ids["model"],
                    "kind": "self-hosted",
                    "site_id": site,
                    "start_date": "2026-01-01",
                }
            ],
            "t",
        )
        inv.insert_logged(
            "usage",
            [
                {
                    "deployment_id": dep,
                    "period_start": "2026-01-01",
                    "period_end": "2026-03-31",
                    "energy_kwh": 50.0,
                    "energy_boundary": "it",
                }
            ],
            "t",
        )
    window = open_window(qtbot, path)
    page = _wait_for_dashboard(qtbot, window, "2026-Q1")
    reads_literally(page.notes, f"no factor for aws:{IMG}")
    literally(screen.check(page), f"aws:{IMG}")
    # a failure message quoting data, in the notes and in the status line
    page._on_task_failed(f"no such site {IMG}")
    reads_literally(page.notes, f"Could not compute the figures: no such site {IMG}")
    reads_literally(page.status, "Could not compute the figures.")


def test_report_dialog_status_names_closer_file_and_reason_literally(
    qtbot, window, screen, tmp_path, monkeypatch
):
    """Close 2026-Q1 as a user whose login name is markup, save the tables to a file
    whose name is markup, reopen it with a reason in markup: the status line says each
    as written."""
    from core import closing as core_closing
    from ui.report_dialog import ReportDialog

    closer = f"Ann {IMG} {BOLD}"
    monkeypatch.setattr(core_closing, "os_user", lambda: closer)
    dialog = ReportDialog(window.inventory, window, today=TODAY)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.set_quarter("2026-Q1")
    dialog.close_period()  # the question is answered Yes
    closed = closing.in_force(window.inventory, "2026-Q1")
    assert closed is not None and closed.closed_by == closer
    reads_literally(dialog.status, f"by {closer}. The report shows its figures as closed")
    screen.check(dialog)

    out = tmp_path / f"report {IMG}.xlsx"
    dialog.save_xlsx(str(out))
    qtbot.waitUntil(lambda: not dialog._busy, timeout=TIMEOUT)
    assert out.exists()
    reads_literally(dialog.status, f"Saved report {IMG}.xlsx (")

    dialog.reopen_period()  # the reason asked is markup
    assert closing.in_force(window.inventory, "2026-Q1") is None
    reads_literally(dialog.status, f"Reopened 2026-Q1: reason {IMG} {BOLD}")
    literally(screen.check(dialog), f"reason {IMG} {BOLD}")
    dialog.close()


def _hostile_workbook(folder: Path) -> Path:
    """An XLSX whose file name, sheet name and headers are markup, one number cell with
    markup after the number."""
    import xlsxwriter

    path = folder / f"book {IMG}.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet(f"Q1 {IMG}")
    rows = [
        ["Name", "Version", "Owner / team", "Total parameters (billion)", f"Energy ({IMG})"],
        [f"New {IMG}", "1", "Legal", f"7 {IMG}", 3],
        ["Other", "2", "Legal", "7.5", 4],
        [f"Remark {BOLD}", "3", "Legal", "8", 5],
    ]
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    book.close()
    return path


def _to_mapping_page(qtbot, wizard):
    from ui.import_mapping import MappingPage

    qtbot.waitUntil(wizard.files_page.isComplete, timeout=TIMEOUT)
    wizard.next()
    qtbot.waitUntil(lambda: wizard.currentId() == wizard.SHEETS, timeout=TIMEOUT)
    wizard.next()
    qtbot.waitUntil(lambda: wizard.currentId() == wizard.MAPPING, timeout=TIMEOUT)
    page = wizard.currentPage()
    assert isinstance(page, MappingPage)
    qtbot.waitUntil(lambda: page.preview.model() is not None, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: not page.updating, timeout=TIMEOUT)
    return page


def test_import_mapping_preset_named_with_markup_shows_literally(qtbot, window, screen, tmp_path):
    """A saved mapping named in markup, with a column whose header and unit are markup,
    applied to a CSV it fits and to another it does not."""
    from core import importing
    from core.importing.mapping import ColumnMapping, SheetMapping

    name = f"Preset {IMG} {BOLD}"
    columns = [
        ColumnMapping(0, "Name", "name", None, 1.0),
        ColumnMapping(1, f"Power ({IMG})", "tdp_w", IMG, 1.0),
    ]
    importing.save_preset(window.inventory, name, [SheetMapping("hardware", columns)])
    gpus = tmp_path / f"gpus {IMG}.csv"
    gpus.write_text(f"Name,Kind,Power ({IMG})\r\nH100 {IMG},accelerator,700\r\n", encoding="utf-8")
    other = tmp_path / f"other {IMG}.csv"
    other.write_text("Model,Owner / team,Task\r\nA,Legal,chat\r\n", encoding="utf-8")
    window.start_import([gpus, other])
    wizard = window.import_wizard
    page = _to_mapping_page(qtbot, wizard)
    assert page.presets.findText(name) >= 0
    page.presets.setCurrentText(name)
    page.apply_preset_button.click()
    reads_literally(page.busy.label, f"Applying the mapping '{name}'…")
    qtbot.waitUntil(lambda: not page.updating, timeout=TIMEOUT)
    popups = [displayed(text, fmt) for _, text, fmt in screen.popups]
    literally(popups, f"The mapping '{name}' knows none of the columns of: other {IMG}.csv.")
    # the preset's unit does not convert: the warning quotes the header and the unit
    reads_literally(page.warning, f"Power ({IMG}): unknown unit '{IMG}'")
    literally(screen.check(wizard), f"Power ({IMG})", f"H100 {IMG}")
    wizard.reject()


def test_import_sheet_names_headers_and_cell_problems_show_literally(
    qtbot, window, screen, tmp_path
):
    """A workbook whose sheet name and headers are markup, and a number cell followed by
    markup: the problem quoting the cell shows as written in the previews' tooltips and
    the problems list; failure messages quoting data do too."""
    window.start_import([_hostile_workbook(tmp_path)])
    wizard = window.import_wizard
    mapping = _to_mapping_page(qtbot, wizard)
    problem = f"has '{IMG}' after the number"
    model = mapping.preview.model()
    tips = [
        model.index(r, c).data(Qt.ItemDataRole.ToolTipRole)
        for r in range(model.rowCount())
        for c in range(model.columnCount())
    ]
    tip = next(t for t in tips if t and IMG in displayed(t, Qt.TextFormat.AutoText))
    reads_literally_tip(tip, problem)
    shown = screen.check(wizard)
    while wizard.currentId() != wizard.VALIDATION:
        before = wizard.currentId()
        wizard.next()
        qtbot.waitUntil(lambda before=before: wizard.currentId() != before, timeout=TIMEOUT)
    validation = wizard.validation_page
    qtbot.waitUntil(lambda: wizard.plans_fresh() and not validation._job, timeout=TIMEOUT)
    shown += screen.check(wizard)
    literally(shown, f"Q1 {IMG}", f"Energy ({IMG})", f"Remark {BOLD}", problem)
    assert any(problem in (validation.problems.item(r, 4).text()) for r in range(3))

    # failure messages quote what the file holds
    message = f"cell D2 holds {IMG} {BOLD}"
    mapping._on_load_failed(message)
    reads_literally(mapping.warning, f"The sheet could not be read: {message}")
    mapping._on_preview_failed(None, message)
    reads_literally(mapping.preview_label, f"No preview: {message}")
    wizard.references_page._on_job_failed(message)
    reads_literally(wizard.references_page.status, f"read to the end: {message}")
    validation._on_job_failed(message)
    reads_literally(validation.verdict, f"could not be checked: {message}")
    wizard.reject()


def test_failure_messages_and_scenario_problems_show_literally(qtbot, window, screen, hostile):
    """A details panel and a loading page saying why they failed; a scenario of a
    hand-made file whose change names a record by markup instead of an id."""
    from ui.scenario_dialog import ScenarioDialog
    from ui.welcome import LoadingPage

    message = f"no such record {IMG} {BOLD}"
    window.details_action.trigger()
    panel = window.details
    panel._on_task_failed(panel._serial, message)
    reads_literally(panel.status, f"Could not compute the figures: {message}")

    loading = LoadingPage("Loading the dashboard…")
    qtbot.addWidget(loading)
    loading.set_text(f"The dashboard could not be loaded: {message}")
    reads_literally(loading.label, message)

    _, ids = hostile
    changes = (
        f'[{{"kind": "move_deployment", "deployment_id": "{IMG}", "to_site_id": {ids["site"]}}}]'
    )
    window.inventory.conn.execute(
        "INSERT INTO scenarios (name, description, changes, created_at, updated_at) "
        "VALUES ('Hand-made', '', ?, '2026-01-01', '2026-01-01')",
        (changes,),
    )
    dialog = ScenarioDialog(window.inventory, window)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.saved.setCurrentRow(0)
    item = dialog.changes.item(0)
    assert item is not None and item.text().startswith("⚠")
    reads_literally_tip(item.toolTip(), f"not '{IMG}'")
    literally(screen.check(dialog), f"not '{IMG}'")
    dialog.close()


def test_about_dialog_names_a_log_folder_of_markup_literally(qtbot, screen, monkeypatch, tmp_path):
    """The log folder's path (under the user's home: any name) in the About dialog."""
    from ui import about_dialog

    folder = tmp_path / f"logs {IMG}"
    monkeypatch.setattr(about_dialog, "log_dir", lambda: folder)
    dialog = about_dialog.AboutDialog(tmp_path / f"inventory {IMG}.aicl")
    qtbot.addWidget(dialog)
    reads_literally_tip(dialog.log_folder_button.toolTip(), f"logs {IMG}")
    literally(screen.check(dialog), f"logs {IMG}", f"inventory {IMG}.aicl")
