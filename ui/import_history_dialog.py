"""File > Import History…: the imports recorded in the inventory, and undoing one.

Every import is recorded (``core.importing.history``), whether it was made in this
session, an earlier one or on the command line. Undo import runs
``core.commands.UndoImport`` through the window's editor, so Edit > Undo (Ctrl+Z) puts
the import back. An undo that would lose later work (rows edited since, records that
refer to rows the import added, a later import that changed its rows) is refused with
the reason, before anything is asked or changed.

A damaged page of the file met by the dialog's reads once it is open (the list, what
blocks an undo) is announced with :attr:`ImportHistoryDialog.damaged` (the window offers
the automatic backup) and the dialog closes; building it is guarded by the window.
"""

from __future__ import annotations

import contextlib
import sqlite3

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.commands import UndoImport
from core.errors import InventoryDamagedError, LedgerError
from core.importing.history import (
    COUNT_KEYS,
    NOTHING_CHANGED,
    ImportRecord,
    list_imports,
    undo_refusal,
    when_text,
)
from core.inventory import Inventory
from ui.damage_guard import catching_damage, damage_error
from ui.plain_text import literal
from ui.undo import InventoryEditor

HEADERS = ("Time", "File", "Sheet", *(k.capitalize() for k in COUNT_KEYS), "State")
#: column of the first count, and of the state
_FIRST_COUNT = 3
_STATE = _FIRST_COUNT + len(COUNT_KEYS)


def state_text(record: ImportRecord) -> str:
    return f"Undone {when_text(record.undone_at)}" if record.undone else "Imported"


class ImportHistoryDialog(QDialog):
    """The recorded imports, newest first, with Undo import for the selected one."""

    #: the inventory file is damaged (an InventoryDamagedError), met while reading it
    #: after the dialog opened; announced once, and the dialog closes
    damaged = Signal(object)

    def __init__(
        self, inventory: Inventory, editor: InventoryEditor, parent: QWidget | None = None
    ):
        super().__init__(parent)
        self.setWindowTitle("Import history")
        self.resize(980, 460)
        self.inventory = inventory
        self.editor = editor
        self.records: list[ImportRecord] = []
        self._damage_reported = False

        intro = QLabel(
            "Every import into this inventory, newest first, from this app or the command "
            "line. Undoing one removes the rows it added and puts back the values it "
            "changed, in one step; Edit > Undo takes that back."
        )
        intro.setWordWrap(True)
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(list(HEADERS))
        self.table.setAccessibleName("Recorded imports")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._on_table_item_selection_changed)
        #: the selected import in full: user, SHA-256, counts per table, what blocks undo
        self.details = QLabel()
        self.details.setTextFormat(Qt.TextFormat.PlainText)  # file and sheet names as written
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setMinimumHeight(self.fontMetrics().lineSpacing() * 4)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.undo_button = buttons.addButton(
            "&Undo Import…", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.undo_button.setToolTip("Remove the rows the selected import added")
        self.undo_button.clicked.connect(self._on_undo_button_clicked)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.details)
        layout.addWidget(buttons)
        editor.edited.connect(self._on_editor_edited)  # Ctrl+Z or a redo elsewhere
        editor.destroyed.connect(self._on_editor_destroyed)  # the inventory was closed
        self.refresh()

    # -- the list -----------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the imports again, keeping the selected one selected."""
        chosen = self.selected()
        self.records = list(reversed(list_imports(self.inventory)))
        self.table.blockSignals(True)  # one update of the details below, not one per row
        self.table.clearSelection()
        self.table.setRowCount(len(self.records))
        for row, record in enumerate(self.records):
            cells = [
                when_text(record.at),
                record.file_name,
                record.sheet,
                *(f"{record.totals[k]:,}" for k in COUNT_KEYS),
                state_text(record),
            ]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if _FIRST_COUNT <= col < _STATE:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if col in (1, 2):
                    item.setToolTip(literal(text))  # long names are cut in the column
                self.table.setItem(row, col, item)
        self.table.blockSignals(False)
        ids = [r.id for r in self.records]
        row = ids.index(chosen.id) if chosen is not None and chosen.id in ids else 0
        if self.records:
            self.table.blockSignals(True)
            self.table.selectRow(row)
            self.table.blockSignals(False)
        self._show_selected()

    def selected(self) -> ImportRecord | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or rows[0].row() >= len(self.records):
            return None
        return self.records[rows[0].row()]

    def select_import(self, import_id: int) -> bool:
        """Select import ``import_id`` in the list; whether it is listed."""
        for row, record in enumerate(self.records):
            if record.id == import_id:
                self.table.selectRow(row)
                return True
        return False

    def _on_table_item_selection_changed(self) -> None:
        with self._reading():
            self._show_selected()

    def _on_editor_edited(self, _tables: object) -> None:
        with self._reading():
            self.refresh()

    def _on_editor_destroyed(self, _editor: object = None) -> None:
        self.reject()

    def _show_selected(self) -> None:
        record = self.selected()
        if record is None:
            self.details.setText("No import has been recorded in this inventory yet.")
            self.undo_button.setEnabled(False)
            return
        lines = [
            f"Import {record.id}: {record.file_name} (sheet {record.sheet}) on "
            f"{when_text(record.at)} by {record.os_user or 'unknown'}",
            f"SHA-256 {record.sha256}",
            record.tables_text() or "No rows.",
        ]
        if record.undone:
            lines.append(f"Undone on {when_text(record.undone_at)}.")
        else:
            try:
                refusal = undo_refusal(self.inventory, record.id)
            except LedgerError as exc:  # gone meanwhile (another program)
                refusal = str(exc)
            # nothing was tried yet: the refusal without its "nothing was changed"
            lines.append(
                refusal.removesuffix(NOTHING_CHANGED).strip() if refusal else "Can be undone."
            )
        self.details.setText("\n".join(lines))
        self.undo_button.setEnabled(not record.undone)

    # -- undo ---------------------------------------------------------------------------

    def _on_undo_button_clicked(self) -> None:
        self.undo_selected()

    def undo_selected(self) -> bool:
        """Undo the selected import after asking; whether it was undone.

        Refused at once, with the reason, when undoing it would lose later work; the
        editor says why when the inventory refuses the edit itself (a lock, a full disk).
        A damaged file met on the way is announced with :attr:`damaged` (False).
        """
        done = False
        with self._reading():
            done = self._undo_selected()
        return done

    def _undo_selected(self) -> bool:
        record = self.selected()
        if record is None or record.undone:
            return False
        try:
            refusal = undo_refusal(self.inventory, record.id)
        except LedgerError as exc:
            refusal = str(exc)
        if refusal:
            QMessageBox.warning(self, "Cannot undo the import", literal(refusal))
            self.refresh()
            return False
        totals = record.totals
        effects = [f"removes the {totals['new']:,} new rows it added"]
        if totals["changed"]:
            effects.append(f"puts back the old values of the {totals['changed']:,} rows it changed")
        answer = QMessageBox.question(
            self,
            "Undo import",
            literal(
                f"Undo import {record.id} of {record.file_name} (sheet {record.sheet}), "
                f"made on {when_text(record.at)}?\n\n"
                f"This {' and '.join(effects)} ({record.tables_text() or 'no rows'}).\n\n"
                "Edit > Undo puts the import back."
            ),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return False
        # the Edit menu then reads "Undo Remove import 3 (file)" / "Redo Remove import ..."
        command = UndoImport(
            record.id, description=f"Remove import {record.id} ({record.file_name})"
        )
        done = self.editor.run(command)  # a refusal: the window shows the editor's message
        if isinstance(self.editor.last_error, InventoryDamagedError):
            self.reject()  # the editor announced it: the window offers the backup
            return False
        self.refresh()
        return done

    # -- damage -------------------------------------------------------------------------

    def _reading(self) -> contextlib.AbstractContextManager[None]:
        """A block that reads the inventory once the dialog is open: damage SQLite
        reports on the way is announced with :attr:`damaged` (once) and the dialog
        closes; other errors go on."""
        return catching_damage(self._report_damage)

    def _report_damage(self, exc: sqlite3.DatabaseError) -> None:
        if not self._damage_reported:
            self._damage_reported = True
            self.damaged.emit(damage_error(self.inventory.path, exc))
        self.reject()  # stale now, and nothing more can be read from the file
