"""The import wizard's pages other than column mapping (see ``ui.import_mapping``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QUrl,
)
from PySide6.QtGui import QBrush, QColor, QDesktopServices, QDragEnterEvent, QDropEvent, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from core import schema
from core.importing.matching import ACCEPT
from core.importing.resolving import CREATABLE
from ui.import_jobs import Job, rows_text
from ui.import_wizard import (
    IMPORT_FILTER,
    TARGET_TABLES,
    SheetChoice,
    cell_text,
    read_sheets,
    sheet_title,
    table_label,
)
from ui.plain_text import literal

if TYPE_CHECKING:
    from core.importing import ImportPlan, Unresolved
    from ui.import_wizard import ImportWizard

_Index = QModelIndex | QPersistentModelIndex

#: problem cells: a soft red that keeps dark text readable in light and dark themes
PROBLEM_BACKGROUND = QColor("#f6c9c4")
PROBLEM_FOREGROUND = QColor("#3a0b06")
#: cells fixed in the preview (and valid now): a soft green, dark text, in italics
FIXED_BACKGROUND = QColor("#d5efd2")
FIXED_FOREGROUND = QColor("#0d3311")
#: at most this many problems are listed (all of them go to the errors file)
MAX_PROBLEMS_LISTED = 2000


class WizardPage(QWizardPage):
    def wizard(self) -> ImportWizard:  # type: ignore[override]
        return cast("ImportWizard", super().wizard())


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setWordWrap(False)
    table.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # nothing to select: no focus frame
    table.verticalHeader().setDefaultSectionSize(24)
    return table


def _item(text: str, *, number: bool = False, tip: str = "") -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    if number:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if tip:
        item.setToolTip(literal(tip))
    return item


def format_value(value: Any) -> str:
    """A converted value as the preview shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        if value == int(value) and abs(value) < 1e15:
            return f"{int(value):,}"
        if abs(value) >= 1000:
            return f"{value:,.1f}"
        return f"{value:.4g}"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


class BusyBar(QWidget):
    """A progress bar and a line of text for work running on the thread pool."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.bar.setMaximumWidth(220)
        self.bar.setTextVisible(False)
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # may name a saved mapping
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar)
        layout.addWidget(self.label, 1)
        self.hide()

    def follow(self, job: Job, what: str) -> None:
        self.label.setText(f"{what}…")
        self.bar.setRange(0, 0)
        self.show()

        def progressed(done: int, total: int | None) -> None:
            if total:
                self.bar.setRange(0, total)
                self.bar.setValue(min(done, total))
            self.label.setText(f"{what}… {rows_text(done, total, job.rate())}")

        job.progressed.connect(progressed)
        for signal in (job.finished, job.failed, job.cancelled):
            signal.connect(self.hide)


# -- files ------------------------------------------------------------------------------


class FilesPage(WizardPage):
    """Choose the files; each is read in the background as soon as it is added."""

    def __init__(self, files: list[Path]):
        super().__init__()
        self.setTitle("Choose the files to import")
        self.setSubTitle(
            "Spreadsheets (XLSX, XLSM, XLS, ODS), CSV or TSV files and CodeCarbon logs "
            "(emissions.csv). You can also drop files here."
        )
        self.setAcceptDrops(True)
        self.list = QListWidget()
        self.list.setAccessibleName("Files to import")
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.add_button = QPushButton("Add Files…")
        self.remove_button = QPushButton("Remove")
        self.add_button.clicked.connect(self._on_add_button_clicked)
        self.remove_button.clicked.connect(self._on_remove_button_clicked)
        buttons = QVBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.list, 1)
        row.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        #: path -> its sheets, or the message saying why it cannot be read
        self.results: dict[Path, list[SheetChoice] | str] = {}
        self._reading: dict[Path, Job] = {}
        self._pending = list(files)

    def initializePage(self) -> None:
        for path in self._pending:
            self.add_file(path)
        self._pending = []

    def add_file(self, path: Path | str) -> None:
        path = Path(path)
        if path in self.results or path in self._reading:
            return
        item = QListWidgetItem(f"{path.name} — reading…")
        item.setData(Qt.ItemDataRole.UserRole, str(path))
        item.setToolTip(literal(str(path)))
        self.list.addItem(item)
        job = self.wizard().start_job(lambda progress, cancel: read_sheets(path, progress, cancel))
        self._reading[path] = job
        job.finished.connect(lambda sheets: self._on_read(path, sheets))
        job.failed.connect(lambda message: self._on_read(path, message))
        job.cancelled.connect(lambda: self._reading.pop(path, None))
        self.completeChanged.emit()

    def _item(self, path: Path) -> QListWidgetItem | None:
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == str(path):
                return item
        return None

    def _on_read(self, path: Path, outcome: list[SheetChoice] | str) -> None:
        self._reading.pop(path, None)
        item = self._item(path)
        if item is None:  # removed while it was read
            self.completeChanged.emit()
            return
        self.results[path] = outcome
        if isinstance(outcome, str):
            item.setText(f"{path.name} — cannot be read: {outcome}")
            item.setForeground(QBrush(QColor("#b3261e")))
            item.setToolTip(literal(f"{path}\n{outcome}"))
        else:
            item.setText(f"{path.name} — {_sheets_text(outcome)}")
        self.completeChanged.emit()

    def _on_add_button_clicked(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(self, "Import files", "", IMPORT_FILTER)
        for name in names:
            self.add_file(name)

    def _on_remove_button_clicked(self) -> None:
        for item in self.list.selectedItems():
            path = Path(item.data(Qt.ItemDataRole.UserRole))
            self.results.pop(path, None)
            job = self._reading.pop(path, None)
            if job is not None:
                job.cancel()
            self.list.takeItem(self.list.row(item))
        self.completeChanged.emit()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        for url in event.mimeData().urls():
            if url.isLocalFile():
                self.add_file(url.toLocalFile())
        event.acceptProposedAction()

    def readable(self) -> list[SheetChoice]:
        """The sheets of every file read, in the order the files are listed."""
        out: list[SheetChoice] = []
        for row in range(self.list.count()):
            outcome = self.results.get(Path(self.list.item(row).data(Qt.ItemDataRole.UserRole)))
            if isinstance(outcome, list):
                out.extend(outcome)
        return out

    def isComplete(self) -> bool:
        return not self._reading and bool(self.readable())

    def validatePage(self) -> bool:
        self.wizard().sheets = self.readable()
        return True


def _sheets_text(sheets: list[SheetChoice]) -> str:
    if len(sheets) == 1 and sheets[0].info.n_rows is not None:
        return f"{sheets[0].info.n_rows:,} rows"
    return f"{len(sheets)} sheet{'s' if len(sheets) != 1 else ''}"


# -- sheets -----------------------------------------------------------------------------


class SheetsPage(WizardPage):
    """Where each sheet goes: the proposed table, changeable, or not imported."""

    SHEET, ROWS, COLUMNS, TARGET = range(4)

    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Choose where each sheet goes")
        self.setSubTitle(
            "Each sheet was matched to an inventory table by its name and column headings. "
            "Change the table where the guess is wrong, or leave a sheet out."
        )
        self.table = _table(["Sheet", "Rows", "Columns found", "Imports into"])
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(self.SHEET, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(self.ROWS, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(self.COLUMNS, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(self.TARGET, QHeaderView.ResizeMode.ResizeToContents)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.hint)
        self.combos: list[QComboBox] = []

    def initializePage(self) -> None:
        sheets = self.wizard().sheets
        several_files = len({s.info.file for s in sheets}) > 1
        self.table.setRowCount(len(sheets))
        self.combos = []
        for row, choice in enumerate(sheets):
            info = choice.info
            name = sheet_title(info, with_file=several_files or not info.name)
            if choice.notes:
                name += f"  ({', '.join(choice.notes)})"
            self.table.setItem(row, self.SHEET, _item(name, tip=str(info.file)))
            rows = "" if info.n_rows is None else f"{info.n_rows:,}"
            self.table.setItem(row, self.ROWS, _item(rows, number=True))
            headers = ", ".join(h for h in info.headers if h)
            self.table.setItem(row, self.COLUMNS, _item(headers, tip=headers))
            combo = QComboBox()
            combo.setAccessibleName(f"Table for {name}")
            combo.addItem(table_label(None), None)
            for t in TARGET_TABLES:
                combo.addItem(table_label(t), t)
            combo.setCurrentIndex(max(0, combo.findData(choice.table)))
            combo.currentIndexChanged.connect(
                lambda _i, c=choice, box=combo: self._on_combo_current_index_changed(c, box)
            )
            self.table.setCellWidget(row, self.TARGET, combo)
            self.combos.append(combo)
        self.table.resizeRowsToContents()
        self._update_hint()

    def _on_combo_current_index_changed(self, choice: SheetChoice, combo: QComboBox) -> None:
        choice.table = combo.currentData()
        self._update_hint()
        self.completeChanged.emit()

    def _update_hint(self) -> None:
        chosen = self.wizard().chosen()
        if not chosen:
            self.hint.setText("Choose a table for at least one sheet.")
        else:
            n = len(chosen)
            self.hint.setText(
                f"{n} sheet{'s' if n != 1 else ''} will be imported. Next, check how "
                "the columns are read."
            )

    def isComplete(self) -> bool:
        return bool(self.wizard().chosen())

    def validatePage(self) -> bool:
        self.wizard().build_mapping_pages()
        return True

    def nextId(self) -> int:
        wizard = self.wizard()
        return wizard.MAPPING if wizard.chosen() else wizard.REFERENCES


# -- unmatched references ---------------------------------------------------------------

#: what "create" makes, by the table a reference points to (offered only for the tables
#: an import can create records of: ``core.importing.resolving.CREATABLE``)
_CREATES = {"hardware": "hardware type", "sites": "site", "models": "model"}


def reference_table(field: str) -> str:
    """The inventory table an unresolved value of ``field`` would be found in."""
    for spec in schema.TABLES.values():
        for f in spec.fields:
            if f.name == field and f.ref:
                return f.ref
    lowered = field.lower()
    if "hardware" in lowered or "gpu" in lowered or "cpu" in lowered:
        return "hardware"
    if "model" in lowered:
        return "models"
    return "sites"  # sites, regions, countries


def reference_label(field: str) -> str:
    table = reference_table(field)
    return {"hardware": "Hardware", "sites": "Site or region", "models": "Model"}.get(
        table, schema.TABLES[table].singular.capitalize() if table in schema.TABLES else field
    )


def suggestion_text(name: str, confidence: float) -> str:
    """``"NVIDIA A100 SXM4 80 GB  (85% match)"``; a match too weak to be taken without
    asking says so."""
    weak = ", weak" if confidence < ACCEPT else ""
    return f"{name}  ({confidence:.0%} match{weak})"


class ReferencesPage(WizardPage):
    """Each hardware, region or other reference not found in the inventory, once, with
    the closest matches: pick one, create a new entry, or leave those rows invalid.

    A close match (at least ``core.importing.matching.ACCEPT``) is chosen for the user
    to confirm; a weak one never is: the value is created as a new entry where an
    import can create one, and otherwise the user must choose (Next waits)."""

    LEAVE = "leave"
    #: the combo's "Choose…" entry: nothing chosen yet (Next waits)
    CHOOSE = "choose"
    KIND, VALUE, ROWS, CLOSEST, USE = range(5)

    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Match hardware and regions")
        self.setSubTitle(
            "These values were not found in the inventory. Pick the matching entry, or "
            "create a new one."
        )
        self.busy = BusyBar()
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)  # may hold an error message
        self.status.setWordWrap(True)
        self.table = _table(["Kind", "Value in the file", "Rows", "Closest match", "Use"])
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(self.KIND, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(self.VALUE, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(self.ROWS, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(self.CLOSEST, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(self.USE, QHeaderView.ResizeMode.Stretch)
        self.hint = QLabel()
        self.hint.setTextFormat(Qt.TextFormat.PlainText)  # names values of the file
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: #b3261e")
        self.hint.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.busy)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.hint)
        #: every unmatched value shown so far, by (field, value)
        self.items: dict[tuple[str, str], Unresolved] = {}
        #: the combo of each value shown, by (field, value)
        self.combos: dict[tuple[str, str], QComboBox] = {}
        #: values the user chose to leave unmatched (not given a default again)
        self._left: set[tuple[str, str]] = set()
        self._job: Job | None = None

    def initializePage(self) -> None:
        wizard = self.wizard()
        self.table.setRowCount(0)
        self.combos = {}
        self.hint.hide()
        if wizard.plans_fresh():
            self._show()
            return
        self.status.setText("")
        self._job = wizard.start_planning()
        self.busy.follow(self._job, "Reading every row")
        self._job.finished.connect(self._on_job_finished)
        self._job.failed.connect(self._on_job_failed)
        self.completeChanged.emit()

    def cleanupPage(self) -> None:
        if self._job is not None:
            self._job.cancel()
            self._job = None

    def _on_job_finished(self, _plans: object) -> None:
        self._job = None
        self._show()
        self.completeChanged.emit()

    def _on_job_failed(self, message: str) -> None:
        self._job = None
        self.status.setText(f"The files could not be read to the end: {message}")
        self.completeChanged.emit()

    def _show(self) -> None:
        wizard = self.wizard()
        assert wizard.plans is not None
        for plan in wizard.plans:
            for u in plan.unresolved:
                self.items[(u.field, u.value)] = u
        keys = [
            k
            for k in self.items
            if k in wizard.resolutions
            or any((u.field, u.value) == k for p in wizard.plans for u in p.unresolved)
        ]
        self.table.setRowCount(len(keys))
        self.combos = {}
        for row, key in enumerate(keys):
            u = self.items[key]
            self.table.setItem(row, self.KIND, _item(reference_label(u.field)))
            self.table.setItem(row, self.VALUE, _item(u.value, tip=u.value))
            self.table.setItem(row, self.ROWS, _item(f"{u.count:,}", number=True))
            closest = suggestion_text(*u.suggestions[0][1:]) if u.suggestions else "no match"
            tip = "\n".join(suggestion_text(n, c) for _, n, c in u.suggestions)
            self.table.setItem(row, self.CLOSEST, _item(closest, tip=tip))
            combo = self._combo(u)
            self.combos[key] = combo
            self.table.setCellWidget(row, self.USE, combo)
        self.table.resizeRowsToContents()
        if keys:
            self.status.setText(
                f"{len(keys)} value{'s' if len(keys) != 1 else ''} to match. Only close "
                f"matches ({ACCEPT:.0%} or more) are chosen for you; check each choice. "
                "Rows left unmatched are reported as invalid on the next page."
            )
        else:
            self.status.setText(
                "Every hardware, site and region in the files matched the inventory: "
                "nothing to do here."
            )
        self._update_hint()

    def default_choice(self, u: Unresolved) -> int | str:
        """What a value is matched to until the user chooses: the best suggestion when
        it is close enough to be trusted, else a new entry where an import can create
        one, else nothing (:attr:`CHOOSE`: the user must choose)."""
        if u.suggestions and u.suggestions[0][2] >= ACCEPT:
            return u.suggestions[0][0]
        if reference_table(u.field) in CREATABLE:
            return "create"
        return self.CHOOSE

    def _combo(self, u: Unresolved) -> QComboBox:
        combo = QComboBox()
        combo.setAccessibleName(f"Match for {u.value}")
        combo.setMaxVisibleItems(20)
        table = reference_table(u.field)
        key = (u.field, u.value)
        current = self.wizard().resolutions.get(key)
        if current == "create" and table not in CREATABLE:
            current = None  # not offered: the import would refuse it
            self.wizard().resolutions.pop(key, None)
        if current is None:
            current = self.LEAVE if key in self._left else self.default_choice(u)
            if current not in (self.LEAVE, self.CHOOSE):
                self.wizard().resolutions[key] = current
        if current == self.CHOOSE:
            combo.addItem("Choose…", self.CHOOSE)
        for record_id, name, confidence in u.suggestions:
            combo.addItem(suggestion_text(name, confidence), record_id)
        if table in CREATABLE:
            what = _CREATES.get(table) or schema.table(table).singular
            combo.addItem(f"Create a new {what} '{u.value}'", "create")
        combo.addItem("Leave unmatched (rows are invalid)", self.LEAVE)
        # any other record of that table, for when the closest matches are not it
        suggested = {s[0] for s in u.suggestions}
        others = [o for o in self.wizard().inventory.ref_options(table) if o[0] not in suggested]
        if others:
            combo.insertSeparator(combo.count())
            for record_id, title in others:
                combo.addItem(title, record_id)
        combo.setCurrentIndex(max(0, combo.findData(current)))
        combo.currentIndexChanged.connect(
            lambda _i, k=key, box=combo: self._on_combo_current_index_changed(k, box)
        )
        return combo

    def _on_combo_current_index_changed(self, key: tuple[str, str], combo: QComboBox) -> None:
        value = combo.currentData()
        resolutions = self.wizard().resolutions
        if value == self.CHOOSE:
            resolutions.pop(key, None)
        elif value == self.LEAVE:
            resolutions.pop(key, None)
            self._left.add(key)
        else:
            resolutions[key] = value
            self._left.discard(key)
        if value != self.CHOOSE:  # chosen: the placeholder is not offered again
            placeholder = combo.findData(self.CHOOSE)
            if placeholder >= 0:
                combo.blockSignals(True)
                combo.removeItem(placeholder)
                combo.blockSignals(False)
        self._update_hint()
        self.completeChanged.emit()

    def unchosen(self) -> list[tuple[str, str]]:
        """The values still waiting for the user's choice."""
        return [k for k, box in self.combos.items() if box.currentData() == self.CHOOSE]

    def _update_hint(self) -> None:
        waiting = self.unchosen()
        if not waiting:
            self.hint.hide()
            return
        tables = sorted({schema.table(reference_table(f)).plural_noun for f, _ in waiting})
        values = ", ".join(f"'{v}'" for _, v in waiting[:3]) + (", …" if len(waiting) > 3 else "")
        self.hint.setText(
            f"Choose what {values} {'is' if len(waiting) == 1 else 'are'} in the inventory "
            f"(no close match was found, and an import cannot create {' or '.join(tables)}), "
            "or leave the rows unmatched. Next is available once every value has a choice."
        )
        self.hint.show()

    def isComplete(self) -> bool:
        return self._job is None and self.wizard().plans is not None and not self.unchosen()

    def validatePage(self) -> bool:
        # QWizard.next() does not ask isComplete: a value waiting for a choice stops it
        return not self.unchosen()


# -- validation preview (the commit page) ----------------------------------------------


STATUS_TEXT = {"new": "New", "changed": "Changed", "unchanged": "Unchanged", "invalid": "Invalid"}


#: ``on_edit(model, row number in the file, field, text typed)``: a cell fixed
EditHandler = Callable[["PreviewModel", int, str, str], None]


class PreviewModel(QAbstractTableModel):
    """Converted rows of a plan (``plan.preview``): a status column, then the fields
    the import fills, headed with their units; problem cells coloured with the reason
    as tooltip. References show the record's name (``row["display"]``, see
    :func:`ui.import_wizard.add_titles`).

    With ``on_edit``, problem cells (and cells fixed before) of fields read from a
    column can be edited (double-click or F2): the text typed replaces the file's cell
    and goes to ``on_edit``, which checks the row again. ``edited_from[(row, field)]``
    is what the file says in each fixed cell (shown in italics, with it as tooltip)."""

    def __init__(
        self,
        plan: ImportPlan,
        parent: Any = None,
        *,
        on_edit: EditHandler | None = None,
        edited_from: dict[tuple[int, str], Any] | None = None,
    ):
        super().__init__(parent)
        self.plan = plan
        self.on_edit = on_edit
        self.edited_from = edited_from or {}
        # a CodeCarbon log's cells are read by name, not column by column: not edited
        self.editable = (
            set()
            if on_edit is None or plan.mapping.table == "codecarbon"
            else {c.field for c in plan.mapping.columns if c.field}
        )
        self.rows = plan.preview
        spec = schema.table(plan.table)
        used = {
            name
            for r in self.rows
            for name, value in (*r["values"].items(), *r["problems"].items())
            if value not in (None, "")
        }
        used |= {c.field for c in plan.mapping.columns if c.field}
        self.fields = [f for f in spec.fields if f.name in used]
        self.labels = ["Status", *(f.header for f in self.fields)]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.labels)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self.labels[section]
        return f"Row {self.rows[section]['row']:,}"

    def field_name(self, column: int) -> str | None:
        return None if column == 0 else self.fields[column - 1].name

    def problem(self, index: _Index) -> str | None:
        """The reason cell ``index`` is marked, or None."""
        name = self.field_name(index.column())
        problems = self.rows[index.row()]["problems"]
        if name is None:
            return "; ".join(problems.values()) or None
        return problems.get(name)

    def edited(self, index: _Index) -> bool:
        name = self.field_name(index.column())
        return name is not None and (self.rows[index.row()]["row"], name) in self.edited_from

    def can_edit(self, index: _Index) -> bool:
        """Whether the cell can be fixed here: a problem cell (or one fixed before) of a
        field read from a column."""
        name = self.field_name(index.column())
        if name is None or name not in self.editable:
            return False
        return self.problem(index) is not None or self.edited(index)

    def flags(self, index: _Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.isValid() and self.can_edit(index):
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def raw_text(self, index: _Index) -> str:
        """The cell as the file gives it (or as fixed here), for the editor."""
        name = self.field_name(index.column())
        if name is None:
            return ""
        return cell_text(self.rows[index.row()].get("raw", {}).get(name))

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or not self.can_edit(index):
            return False
        text = "" if value is None else str(value).strip()
        name = self.field_name(index.column())
        if text == self.raw_text(index) or self.on_edit is None or name is None:
            return False
        self.on_edit(self, self.rows[index.row()]["row"], name, text)
        return True

    def text(self, index: _Index) -> str:
        row = self.rows[index.row()]
        name = self.field_name(index.column())
        if name is None:
            return STATUS_TEXT.get(row.get("status", ""), row.get("status", ""))
        shown = row.get("display", {})
        if name in shown:
            return shown[name]
        f = self.fields[index.column() - 1]
        value = row["values"].get(name)
        if value is None and name in row["problems"]:
            raw = row.get("raw", {}).get(name)  # what the file says, e.g. unknown hardware
            return "" if raw is None else format_value(raw)
        if f.kind == "choice" and value is not None:
            return f.choice_label(value)
        return format_value(value)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(index)
        if role == Qt.ItemDataRole.EditRole:
            return self.raw_text(index)
        if role == Qt.ItemDataRole.FontRole and self.edited(index):
            font = QFont()
            font.setItalic(True)
            return font
        problem = self.problem(index)
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() > 0:
            if self.fields[index.column() - 1].is_number:
                return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            tips = [] if problem is None else [problem]
            if self.edited(index):
                key = (self.rows[index.row()]["row"], self.field_name(index.column()))
                tips.append(f"Fixed here; the file says '{cell_text(self.edited_from[key])}'.")
            elif self.can_edit(index):
                tips.append("Double-click or press F2 to fix it here.")
            return literal("\n".join(tips)) if tips else None  # quotes cells of the file
        if problem is None:
            if self.edited(index):
                if role == Qt.ItemDataRole.BackgroundRole:
                    return QBrush(FIXED_BACKGROUND)
                if role == Qt.ItemDataRole.ForegroundRole:
                    return QBrush(FIXED_FOREGROUND)
            return None
        if role == Qt.ItemDataRole.BackgroundRole:
            return QBrush(PROBLEM_BACKGROUND)
        if role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(PROBLEM_FOREGROUND)
        return None


class ValidationPage(WizardPage):
    """What the import would do: counts, the first rows with problems marked, and the
    choice to skip invalid rows into an errors file. Import commits."""

    COUNT_HEADERS = ("Sheet", "Into", "New", "Changed", "Unchanged", "Invalid")

    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Check before importing")
        self.setSubTitle(
            "Nothing has been written yet. Problem cells are marked in red; hover over one "
            "to see why, double-click it (or press F2) to fix it here."
        )
        self.setCommitPage(True)
        self.busy = BusyBar()
        self.counts = _table(list(self.COUNT_HEADERS))
        header = self.counts.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in range(1, len(self.COUNT_HEADERS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.sheet_box = QComboBox()
        self.sheet_box.setAccessibleName("Sheet shown")
        self.sheet_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.sheet_box.currentIndexChanged.connect(self._on_sheet_box_current_index_changed)
        self.sheet_label = QLabel("Sheet:")
        self.preview = QTableView()
        self.preview.setAlternatingRowColors(True)
        self.preview.setWordWrap(False)
        self.preview.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.preview.verticalHeader().setDefaultSectionSize(22)
        # problem cells are fixed in place (PreviewModel.flags says which)
        self.preview.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.problems = _table(["Sheet", "Row", "Column", "Value", "Problem"])
        self.problems.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.problems.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        problem_header = self.problems.horizontalHeader()
        for col in range(4):
            problem_header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        problem_header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        preview_tab = QWidget()
        preview_layout = QVBoxLayout(preview_tab)
        preview_layout.setContentsMargins(6, 6, 6, 6)
        sheet_row = QHBoxLayout()
        sheet_row.addWidget(self.sheet_label)
        sheet_row.addWidget(self.sheet_box)
        sheet_row.addStretch(1)
        preview_layout.addLayout(sheet_row)
        preview_layout.addWidget(self.preview, 1)
        self.tabs = QTabWidget()
        self.tabs.addTab(preview_tab, "First rows")
        self.tabs.addTab(self.problems, "Problems")

        self.skip = QCheckBox()
        self.skip.toggled.connect(self._on_skip_toggled)
        self.errors_path = QLineEdit()
        self.errors_path.setAccessibleName("Errors file")
        self.errors_path.textChanged.connect(self.completeChanged)
        self.browse = QPushButton("Browse…")
        self.browse.clicked.connect(self._on_browse_clicked)
        skip_row = QHBoxLayout()
        skip_row.addWidget(self.skip)
        skip_row.addWidget(self.errors_path, 1)
        skip_row.addWidget(self.browse)
        self.skip_box = QWidget()
        self.skip_box.setLayout(skip_row)
        skip_row.setContentsMargins(0, 0, 0, 0)
        self.verdict = QLabel()
        self.verdict.setTextFormat(Qt.TextFormat.PlainText)  # may hold an error message
        self.verdict.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.addWidget(self.busy)
        layout.addWidget(self.counts)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.verdict)
        layout.addWidget(self.skip_box)
        self._job: Job | None = None
        self._commit: Job | None = None
        self.models: list[PreviewModel] = []
        #: after a fix: the sheet shown and the cell to show again once checked
        self._keep: tuple[int, int, int] | None = None

    # -- planning -------------------------------------------------------------------------

    def initializePage(self) -> None:
        wizard = self.wizard()
        self._keep = None
        self._fill_empty()
        if wizard.plans_fresh():
            self._show()
            return
        self._plan("Checking every row")

    def _plan(self, what: str) -> None:
        self._job = self.wizard().start_planning()
        self.busy.follow(self._job, what)
        self._job.finished.connect(self._on_job_finished)
        self._job.failed.connect(self._on_job_failed)
        self.completeChanged.emit()

    def _on_edit(self, model: PreviewModel, row: int, name: str, text: str) -> None:
        """A cell fixed in the preview: check every row again with the fix (the counts,
        duplicates and references of the whole import may change)."""
        wizard = self.wizard()
        choice = wizard.choice_of(model.plan)
        if choice is None or self._job is not None:
            return
        was = next((r.get("raw", {}).get(name) for r in model.rows if r["row"] == row), None)
        if not wizard.set_edit(choice, row, name, text, was):
            return
        index = self.preview.currentIndex()
        self._keep = (self.sheet_box.currentIndex(), index.row(), index.column())
        self.preview.setEnabled(False)  # no more edits until the rows are checked again
        self._plan("Checking the rows again")

    def cleanupPage(self) -> None:
        if self._job is not None:
            self._job.cancel()
            self._job = None

    def _fill_empty(self) -> None:
        self.preview.setEnabled(True)
        self.counts.setRowCount(0)
        self.problems.setRowCount(0)
        self.sheet_box.clear()
        self.preview.setModel(None)
        self.models = []
        self.verdict.setText("")
        self.skip_box.hide()

    def _on_job_finished(self, _plans: object) -> None:
        self._job = None
        self._fill_empty()
        self._show()
        self.completeChanged.emit()

    def _on_job_failed(self, message: str) -> None:
        self._job = None
        self.preview.setEnabled(True)
        self.verdict.setText(f"The files could not be checked: {message}")
        self.completeChanged.emit()

    def _show(self) -> None:
        wizard = self.wizard()
        plans = wizard.plans or []
        self.counts.setRowCount(len(plans))
        self.sheet_box.blockSignals(True)
        for row, plan in enumerate(plans):
            title = sheet_title(plan.sheet)
            cells = [
                _item(title, tip=str(plan.sheet.file)),
                _item(table_label(plan.table)),
                *(
                    _item(f"{n:,}", number=True)
                    for n in (plan.new, plan.changed, plan.unchanged, plan.invalid)
                ),
            ]
            if plan.invalid:
                cells[5].setForeground(QBrush(QColor("#b3261e")))
            for col, item in enumerate(cells):
                self.counts.setItem(row, col, item)
            choice = wizard.choice_of(plan)
            self.models.append(
                PreviewModel(
                    plan,
                    self,
                    on_edit=self._on_edit,
                    edited_from=choice.edited_from if choice is not None else None,
                )
            )
            self.sheet_box.addItem(title)
        self.sheet_box.blockSignals(False)
        self.counts.resizeRowsToContents()
        self._fit_counts()
        several = len(plans) > 1
        self.sheet_label.setVisible(several)
        self.sheet_box.setVisible(several)
        keep, self._keep = self._keep, None
        if self.models and keep is not None and keep[0] < len(self.models):
            # after a fix: the same sheet, and the cell fixed (its row's new status)
            self.sheet_box.setCurrentIndex(keep[0])
            self._show_model(keep[0])
            index = self.models[keep[0]].index(keep[1], keep[2])
            if index.isValid():
                self.preview.setCurrentIndex(index)
                self.preview.scrollTo(index)
        elif self.models:  # the first sheet with problems, else the first
            first = next((i for i, p in enumerate(plans) if p.invalid), 0)
            self.sheet_box.setCurrentIndex(first)
            self._show_model(first)
        problems = [p for plan in plans for p in plan.problems]
        shown = problems[:MAX_PROBLEMS_LISTED]
        self.problems.setRowCount(len(shown))
        for row, p in enumerate(shown):
            sheet = p.sheet if p.sheet and p.sheet != Path(p.file).stem else Path(p.file).name
            for col, item in enumerate(
                (
                    _item(sheet, tip=p.file),
                    _item(f"{p.row:,}", number=True),
                    _item(p.column),
                    _item(p.value, tip=p.value),
                    _item(p.reason, tip=p.reason),
                )
            ):
                self.problems.setItem(row, col, item)
        more = f" (first {len(shown):,} listed)" if len(problems) > len(shown) else ""
        self.tabs.setTabText(1, f"Problems ({len(problems):,}){more}")
        invalid = sum(p.invalid for p in plans)
        incoming = sum(p.new + p.changed for p in plans)
        if invalid:
            self.skip.setText(
                f"Skip the {invalid:,} invalid row{'s' if invalid != 1 else ''} and "
                "write them to an errors file:"
            )
            if not self.errors_path.text() and plans:
                first = next(p for p in plans if p.invalid).sheet.file
                self.errors_path.setText(str(first.with_name(f"{first.stem} import errors.csv")))
            self.skip_box.show()
        self._update_verdict(invalid, incoming)

    def _fit_counts(self) -> None:
        """The counts table as tall as its rows (at most four; it scrolls beyond)."""
        rows = min(self.counts.rowCount(), 4)
        height = self.counts.horizontalHeader().height() + 2 * self.counts.frameWidth()
        height += sum(self.counts.rowHeight(r) for r in range(rows))
        self.counts.setFixedHeight(height)

    def _show_model(self, i: int) -> None:
        self.preview.setModel(self.models[i])
        self.preview.resizeColumnsToContents()

    def _on_sheet_box_current_index_changed(self, i: int) -> None:
        if 0 <= i < len(self.models):
            self._show_model(i)

    def _update_verdict(self, invalid: int, incoming: int) -> None:
        if invalid and not self.skip.isChecked():
            self.verdict.setText(
                f"{invalid:,} row{'s have' if invalid != 1 else ' has'} problems (see the "
                "Problems tab). Fix the red cells here (double-click one), fix the file and "
                "import it again, or skip those rows. Cancel leaves the inventory as it is."
            )
        elif incoming == 0 and not invalid:
            self.verdict.setText(
                "Every row is already in the inventory, unchanged. Importing only records "
                "that the file was imported."
            )
        else:
            self.verdict.setText(
                f"Import writes {incoming:,} row{'s' if incoming != 1 else ''} in one step; "
                "Edit > Undo takes the whole import back."
            )

    def _on_skip_toggled(self, _checked: bool) -> None:
        plans = self.wizard().plans or []
        self._update_verdict(sum(p.invalid for p in plans), sum(p.new + p.changed for p in plans))
        self.completeChanged.emit()

    def _on_browse_clicked(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self, "Errors file", self.errors_path.text(), "CSV (*.csv)"
        )
        if name:
            self.errors_path.setText(name)

    def isComplete(self) -> bool:
        wizard = self.wizard()
        if self._job is not None or self._commit is not None or not wizard.plans_fresh():
            return False
        invalid = sum(p.invalid for p in wizard.plans or [])
        return not invalid or (self.skip.isChecked() and bool(self.errors_path.text().strip()))

    # -- committing -----------------------------------------------------------------------

    def validatePage(self) -> bool:
        wizard = self.wizard()
        if wizard.result is not None:
            return True
        if self._commit is not None or not self.isComplete():
            return False
        invalid = sum(p.invalid for p in wizard.plans or [])
        skip = bool(invalid) and self.skip.isChecked()
        errors = Path(self.errors_path.text().strip()) if skip else None
        self._commit = wizard.start_commit(skip, errors)
        self._commit.finished.connect(self._on_commit_finished)
        self._commit.failed.connect(self._on_commit_failed)
        self._commit.cancelled.connect(self._on_commit_cancelled)
        self.completeChanged.emit()
        return False

    def _on_commit_finished(self, _result: object) -> None:
        self._commit = None
        self.wizard().next()

    def _on_commit_failed(self, message: str) -> None:
        self._commit = None
        self.completeChanged.emit()
        QMessageBox.warning(
            self, "Import failed", literal(f"{message}\n\nNothing was written to the inventory.")
        )

    def _on_commit_cancelled(self) -> None:
        self._commit = None
        self.verdict.setText("Import cancelled: nothing was written to the inventory.")
        self.completeChanged.emit()


# -- summary ----------------------------------------------------------------------------


class SummaryPage(WizardPage):
    """What the import did, per table."""

    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Import finished")
        self.counts = _table(["Table", "New", "Changed", "Unchanged", "Skipped"])
        header = self.counts.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in range(1, 5):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.errors = QLabel()
        self.errors.setWordWrap(True)
        self.errors.setTextFormat(Qt.TextFormat.RichText)
        self.errors.linkActivated.connect(self._on_errors_link_activated)
        self.undo_hint = QLabel(
            "The import is one step in Edit > Undo (Ctrl+Z): undoing it removes every "
            "row it added and restores every row it changed."
        )
        self.undo_hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.counts)
        layout.addWidget(self.errors)
        layout.addWidget(self.undo_hint)
        layout.addStretch(1)

    def initializePage(self) -> None:
        import html

        result = self.wizard().result
        assert result is not None
        tables = list(result.counts.items())
        self.counts.setRowCount(len(tables))
        totals = dict.fromkeys(("new", "changed", "unchanged", "skipped"), 0)
        for row, (table, counts) in enumerate(tables):
            self.counts.setItem(row, 0, _item(table_label(table)))
            for col, key in enumerate(totals, start=1):
                n = counts.get(key, 0)
                totals[key] += n
                self.counts.setItem(row, col, _item(f"{n:,}", number=True))
        self.counts.resizeRowsToContents()
        height = self.counts.horizontalHeader().height() + 2 * self.counts.frameWidth()
        height += sum(self.counts.rowHeight(r) for r in range(len(tables)))
        self.counts.setFixedHeight(height)
        self.setSubTitle(
            f"{totals['new']:,} new, {totals['changed']:,} changed, "
            f"{totals['unchanged']:,} unchanged and {totals['skipped']:,} skipped rows."
        )
        if result.errors_file:
            path = Path(result.errors_file)
            self.errors.setText(
                f"The skipped rows, with row number, column and reason, are in "
                f'<a href="{html.escape(QUrl.fromLocalFile(str(path)).toString())}">'
                f"{html.escape(str(path))}</a>."
            )
            self.errors.show()
        else:
            self.errors.hide()

    def nextId(self) -> int:
        return -1  # the last page (mapping pages have higher ids)

    def _on_errors_link_activated(self, link: str) -> None:
        QDesktopServices.openUrl(QUrl(link))
