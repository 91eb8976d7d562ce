"""One inventory table as a page: search box, Add/Edit/Duplicate/Delete, sortable view.

Editing a record saves only the fields the user changed, and says which values it
replaces (``core.commands.UpdateRecord``'s ``expected``): a field another program
changed while the form was open is never put back silently. A damaged page of the file
met while reading (a large file is not checked whole at open) is announced with
:attr:`InventoryPage.damaged` instead of raised inside Qt's painting.
"""

from __future__ import annotations

import contextlib
import sqlite3
from typing import Any

from PySide6.QtCore import (
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from core import commands, integrity, schema
from core.errors import InventoryDamagedError, RecordChangedError
from core.inventory import Inventory
from ui.damage_guard import catching_damage, damage_error
from ui.plain_text import literal
from ui.record_dialog import RecordDialog
from ui.table_model import InventoryTableModel
from ui.undo import InventoryEditor

SEARCH_DELAY_MS = 250
#: tables whose records are emission entries with an explanation
EXPLAINABLE = ("training_runs", "deployments")


class _PageModel(InventoryTableModel):
    """The page's table model: damage met while Qt asks for cells or sorts goes to the
    page (once) instead of being raised inside a paint; the cells then stay blank."""

    def __init__(self, inventory: Inventory, table: str, page: InventoryPage):
        super().__init__(inventory, table, page)
        self._page = page
        self.broken = False

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if self.broken:
            return None
        try:
            return super().data(index, role)
        except sqlite3.DatabaseError as exc:
            if not integrity.is_damage(exc):
                raise
            self.broken = True
            self._page.report_damage(exc)
            return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        with self._page.reading():
            super().sort(column, order)


class InventoryPage(QWidget):
    """The page for one table of the inventory."""

    #: the number of rows shown changed (for the navigation's counts)
    rows_changed = Signal()
    #: the selected record changed: its id, or None when nothing is selected (may repeat)
    selection_changed = Signal(object)
    #: the inventory file is damaged (an InventoryDamagedError), found while reading it
    damaged = Signal(object)

    def __init__(
        self,
        inventory: Inventory,
        editor: InventoryEditor,
        table: str,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.spec = schema.table(table)
        self._inv = inventory
        self._editor = editor
        self._damage_reported = False
        self.model: InventoryTableModel = _PageModel(inventory, table, self)

        self.search = QLineEdit()
        self.search.setPlaceholderText(f"Search {self.spec.label.lower()}…  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName(f"Search {self.spec.label.lower()}")
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._on_search_timer_timeout)
        self.search.textChanged.connect(self._on_search_text_changed)

        self.add_button = QPushButton("Add…")
        self.edit_button = QPushButton("Edit…")
        self.duplicate_button = QPushButton("Duplicate")
        self.delete_button = QPushButton("Delete")
        self.add_button.setToolTip(f"Add a {self.spec.singular} (Ctrl+Shift+A)")
        self.edit_button.setToolTip("Edit the selected record (F2 or double-click)")
        self.duplicate_button.setToolTip("Copy the selected record (Ctrl+D)")
        self.delete_button.setToolTip("Delete the selected records (Delete)")
        self.add_button.clicked.connect(self.add_record)
        self.edit_button.clicked.connect(self.edit_record)
        self.duplicate_button.clicked.connect(self.duplicate_record)
        self.delete_button.clicked.connect(self.delete_records)
        self.explain_button = QPushButton("Explain…")
        self.explain_button.setToolTip("How the selected entry's emissions were reached (Ctrl+E)")
        self.explain_button.clicked.connect(self.explain_record)
        self.explain_button.setVisible(table in EXPLAINABLE)

        bar = QHBoxLayout()
        bar.addWidget(self.search, 1)
        for b in (
            self.add_button,
            self.edit_button,
            self.duplicate_button,
            self.delete_button,
            self.explain_button,
        ):
            bar.addWidget(b)

        self.view = QTableView()
        self.view.setModel(self.model)
        # The indicator first: enabling sorting sorts by the indicator, which would
        # otherwise be the first column (two more full queries, and the wrong order).
        self.view.horizontalHeader().setSortIndicator(
            self.model.sort_column(), Qt.SortOrder.AscendingOrder
        )
        self.view.setSortingEnabled(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.horizontalHeader().setHighlightSections(False)
        self.view.doubleClicked.connect(self._on_view_double_clicked)
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        self._size_columns()

        self.status = QLabel()
        self.status.setObjectName("rowCount")
        self.status.setTextFormat(Qt.TextFormat.PlainText)  # it quotes the search text

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 4)
        title = QLabel(f"<h2>{self.spec.label}</h2>")
        layout.addWidget(title)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status)
        self.model.modelReset.connect(self._update_status)
        self.model.layoutChanged.connect(self._update_status)
        self._update_status()
        self._update_buttons()

    # -- selection --------------------------------------------------------------------

    def selected_ids(self) -> list[int]:
        rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        return [self.model.id_at(r) for r in rows]

    def current_id(self) -> int | None:
        ids = self.selected_ids()
        if ids:
            return ids[0]
        index = self.view.currentIndex()
        return self.model.id_at(index.row()) if index.isValid() else None

    def select_id(self, row_id: int) -> None:
        row = self.model.row_of(row_id)
        if row < 0:
            return
        index = self.model.index(row, 0)
        self.view.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.view.scrollTo(index)

    # -- actions ----------------------------------------------------------------------

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def add_record(self, values: dict | None = None) -> None:
        """Add a record through the form, optionally starting from ``values``."""
        with self.reading():  # the form reads its dropdown lists as it is built
            self._run_form(None, f"Add {self.spec.singular}", values)

    def edit_record(self) -> None:
        with self.reading():
            row_id = self.current_id()
            if row_id is not None:
                title = f"Edit {self.spec.singular} '{self._inv.title(self.spec.name, row_id)}'"
                self._run_form(row_id, title)

    def duplicate_record(self) -> None:
        with self.reading():
            row_id = self.current_id()
            if row_id is not None:
                values = commands.duplicate_values(self._inv, self.spec.name, row_id)
                self._run_form(None, f"Duplicate {self.spec.singular}", values)

    def _run_form(self, row_id: int | None, title: str, values: dict | None = None) -> None:
        """Show the form until its record is saved or the user cancels.

        If saving is refused (say, the name is taken) the form opens again with what
        the user typed, so nothing is lost. Editing saves only the fields the user
        changed, expecting the values the form opened with; if another program changed
        one of them meanwhile the edit is refused (the window says which and how), and
        the form opens again on the record as it is now, with the user's changes kept.
        Call it inside :meth:`reading`: building the form reads its dropdown lists; a
        damaged file met while the form is in use closes it (:attr:`RecordDialog.damaged`).
        """
        opened: dict[str, Any] = {}
        if row_id is not None:
            opened = self._inv.get(self.spec.name, row_id)
            values = opened
        dialog = RecordDialog(self._inv, self.spec.name, values, title=title, parent=self)
        dialog.damaged.connect(self._announce_damage)  # the form closes itself then
        while dialog.exec() == RecordDialog.DialogCode.Accepted:
            if row_id is None:
                insert = commands.InsertRecord(self.spec.name, dialog.values())
                if self._editor.run(insert):
                    self.select_id(insert.row_id or 0)
                    return
            else:
                changes = dialog.changed_values()
                if not changes:
                    return  # saved as it was: nothing to write, nothing to undo
                expected = {k: opened[k] for k in changes}
                update = commands.UpdateRecord(self.spec.name, row_id, changes, expected=expected)
                if self._editor.run(update):
                    self.select_id(row_id)
                    return
                if isinstance(self._editor.last_error, RecordChangedError):
                    opened = self._inv.get(self.spec.name, row_id)
                    dialog.rebase(opened)
            if isinstance(self._editor.last_error, InventoryDamagedError):
                return  # the window closes the inventory and offers its backup

    def explain_record(self) -> None:
        """Open the explanation of the selected training run or deployment."""
        with self.reading():
            row_id = self.current_id()
            if row_id is None or self.spec.name not in EXPLAINABLE:
                return
            from ui.explain_dialog import ExplainDialog  # built on demand

            dialog = ExplainDialog(
                self._inv.path,
                f"{self.spec.name}:{row_id}",
                self._inv.title(self.spec.name, row_id),
                self,
            )
            dialog.damaged.connect(self.damaged)  # the window offers the backup
            self.explain_dialog = dialog
            dialog.open()

    def delete_records(self) -> None:
        with self.reading():
            self._delete_records()

    def _delete_records(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        _, restrict = self._inv.dependents(self.spec.name, ids)
        if restrict:
            QMessageBox.warning(
                self,
                "Cannot delete",
                literal(commands.blocked_message(self._inv, self.spec.name, ids, restrict)),
            )
            return
        what = commands.delete_text(self._inv, self.spec.name, ids)
        also = commands.consequences_text(self._inv, self.spec.name, ids)
        if also:
            text = f"{what}?\n\nThis also deletes {also}.\n\nYou can undo this (Ctrl+Z)."
            answer = QMessageBox.question(
                self,
                "Delete",
                literal(text),
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self._editor.run(commands.DeleteRecords(self.spec.name, ids))

    def refresh(self) -> None:
        with self.reading():
            selected = self.selected_ids()
            self.model.refresh()
            if selected:
                self.select_id(selected[0])
            self._update_buttons()

    # -- damage -----------------------------------------------------------------------

    def reading(self) -> contextlib.AbstractContextManager[None]:
        """A block that reads the inventory: damage SQLite reports on the way is
        announced with :attr:`damaged` (once), not raised; other errors go on."""
        return catching_damage(self.report_damage)

    def report_damage(self, exc: sqlite3.DatabaseError) -> None:
        if not self._damage_reported:
            self._announce_damage(damage_error(self._inv.path, exc))

    def _announce_damage(self, error: InventoryDamagedError) -> None:
        if self._damage_reported:
            return
        self._damage_reported = True
        self.damaged.emit(error)

    # -- slots ------------------------------------------------------------------------

    def _on_search_text_changed(self, _text: str) -> None:
        self._search_timer.start()

    def _on_search_timer_timeout(self) -> None:
        with self.reading():
            self.model.set_search(self.search.text())

    def _on_view_double_clicked(self, index: QModelIndex) -> None:
        if index.isValid():
            self.edit_record()

    def _update_buttons(self, *_: object) -> None:
        has = bool(self.view.selectionModel().selectedRows()) or self.view.currentIndex().isValid()
        for b in (self.edit_button, self.duplicate_button, self.delete_button, self.explain_button):
            b.setEnabled(has)
        with self.reading():
            self.selection_changed.emit(self.current_id() if has else None)

    def _update_status(self) -> None:
        shown = self.model.rowCount()
        total = self.model.total_rows()
        if self.model.search:
            self.status.setText(
                f"{shown:,} of {self.spec.count_text(total)} match “{self.model.search}”"
            )
        else:
            self.status.setText(self.spec.count_text(total))
        self.rows_changed.emit()

    def _size_columns(self) -> None:
        """Fit columns to their header and the first rows' text, within bounds."""
        metrics = self.fontMetrics()
        header = self.view.horizontalHeader()
        sample = range(min(self.model.rowCount(), 60))
        for col, f in enumerate(self.model.fields):
            width = metrics.horizontalAdvance(f.header) + 36  # room for the sort arrow
            for row in sample:
                text = self.model.index(row, col).data() or ""
                width = max(width, metrics.horizontalAdvance(text) + 16)
            header.resizeSection(col, min(max(width, 72), 340))
