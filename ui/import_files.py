"""The import wizard's first pages: the files to import and where each sheet goes.

Part of :mod:`ui.import_pages`, which re-exports these names.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
)

from ui.import_jobs import Job
from ui.import_widgets import WizardPage, _item, _table
from ui.import_wizard import (
    IMPORT_FILTER,
    TARGET_TABLES,
    SheetChoice,
    read_sheets,
    sheet_title,
    table_label,
)
from ui.plain_text import literal

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
