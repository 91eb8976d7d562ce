"""The Reports page: the quarters of the inventory, their closing, and restatements.

One row per quarter (newest first, ``core.closing.inventory_quarters``): its dates, its
status (open, or closed on a date by whom), the market-based figure as reported and how
many restatements were recorded since it was closed. The buttons build the report of
the selected quarter (the report dialog, preset to it), close it and reopen it (with a
reason, logged). Below, the restatements of the selected quarter and its closing
history.

Closing and reopening write through the main window's connection; they are deliberate
acts, not undoable edits. The page re-reads the inventory when shown, after an edit
(an edit can record restatements) and after a closing changes. A damaged inventory file
found on the way (by these reads, by closing or reopening a quarter, or by the report
dialog it opens) is announced with :attr:`ReportsPage.damaged`, for the window to offer
the automatic backup, instead of SQLite's words in a message box.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core import closing
from core.inventory import Inventory
from core.report import ReportOptions
from core.report_model import format_number, format_percent
from ui.damage_guard import catching_damage, damage_error
from ui.plain_text import literal
from ui.undo import InventoryEditor

_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter

#: quarter table columns: (title, right-aligned)
QUARTER_COLUMNS = (
    ("Quarter", False),
    ("Dates", False),
    ("Status", False),
    ("Reported\nmarket-based\n(kgCO2e)", True),
    ("Reported\nlocation-based\n(kgCO2e)", True),
    ("Restatements\nsince\nclosing", True),
)
RESTATEMENT_COLUMNS = (
    ("Figure", False),
    ("Reported", True),
    ("Restated", True),
    ("Change", True),
    ("Reason", False),
    ("Recorded", False),
)


def _item(text: str, right: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled)
    if right:
        item.setTextAlignment(_RIGHT)
    return item


def _table(columns: tuple[tuple[str, bool], ...]) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels([c for c, _ in columns])
    for i, (_, right) in enumerate(columns):
        header = table.horizontalHeaderItem(i)
        header.setTextAlignment(
            _RIGHT if right else Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        )
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    table.horizontalHeader().setHighlightSections(False)
    return table


class ReportsPage(QWidget):
    """Quarters with their closing status; build, close and reopen; restatements."""

    #: a quarter was closed or reopened here (its label)
    closing_changed = Signal(str)
    #: the inventory file is damaged (an InventoryDamagedError), found while reading it
    #: here or by the report dialog opened from here; announced once
    damaged = Signal(object)

    def __init__(
        self,
        inventory: Inventory,
        editor: InventoryEditor | None = None,
        parent: QWidget | None = None,
        *,
        read_only: bool = False,
        today: dt.date | None = None,
    ):
        super().__init__(parent)
        self.inventory = inventory
        self.read_only = read_only
        self.today = today
        self.quarters: list[closing.QuarterStatus] = []
        self.report_dialog: QWidget | None = None
        self._stale = True
        self._damage_reported = False

        title = QLabel("Reports")
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        title.setFont(font)
        intro = QLabel(
            "Build the quarterly report of a quarter (preview, print, PDF, XLSX). Close a "
            "quarter once it is reported: its figures are kept as reported, and later "
            "edits that change them ask for a reason and are listed as restatements."
        )
        intro.setWordWrap(True)

        self.table = _table(QUARTER_COLUMNS)
        self.table.setAccessibleName("Quarters")
        header = self.table.horizontalHeader()
        for i in range(len(QUARTER_COLUMNS)):  # the status is never cut short
            header.setSectionResizeMode(i, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._on_table_item_selection_changed)
        self.table.doubleClicked.connect(self._on_table_double_clicked)
        enter = QShortcut(QKeySequence(Qt.Key.Key_Return), self.table)
        enter.setContext(Qt.ShortcutContext.WidgetShortcut)
        enter.activated.connect(self._on_enter_activated)

        self.build_button = QPushButton("&Build Report…")
        self.build_button.setToolTip("Preview, print or save the report of this quarter")
        self.close_button = QPushButton("C&lose Quarter…")
        self.close_button.setToolTip("Keep this quarter's figures, factors and report as reported")
        self.reopen_button = QPushButton("&Reopen Quarter…")
        self.reopen_button.setToolTip("Let this quarter's figures change again (logged)")
        self.build_button.clicked.connect(self._on_build_button_clicked)
        self.close_button.clicked.connect(self._on_close_button_clicked)
        self.reopen_button.clicked.connect(self._on_reopen_button_clicked)
        buttons = QHBoxLayout()
        buttons.addWidget(self.build_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.reopen_button)

        self.detail = QGroupBox("Restatements")
        self.detail_text = QLabel()
        self.detail_text.setWordWrap(True)
        self.detail_text.setTextFormat(Qt.TextFormat.PlainText)
        self.restatements = _table(RESTATEMENT_COLUMNS)
        self.restatements.setAccessibleName("Restatements")
        rheader = self.restatements.horizontalHeader()
        for i in range(len(RESTATEMENT_COLUMNS)):
            rheader.setSectionResizeMode(i, QHeaderView.ResizeMode.ResizeToContents)
        rheader.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        detail_layout = QVBoxLayout(self.detail)
        detail_layout.addWidget(self.detail_text)
        detail_layout.addWidget(self.restatements, 1)

        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.table, 1)
        top_layout.addLayout(buttons)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addWidget(splitter, 1)

        if editor is not None:
            editor.edited.connect(self._on_editor_edited)
        self.refresh()

    # -- data -------------------------------------------------------------------------

    def _reading(self) -> contextlib.AbstractContextManager[None]:
        """A block that reads (or writes) the inventory: damage SQLite reports on the
        way is announced with :attr:`damaged` (once), not raised; other errors go on."""
        return catching_damage(self._report_damage)

    def _report_damage(self, exc: sqlite3.DatabaseError) -> None:
        self._stale = False  # the window closes the inventory: no more reading
        if not self._damage_reported:
            self._damage_reported = True
            self.damaged.emit(damage_error(self.inventory.path, exc))

    def refresh(self) -> None:
        """Re-read the quarters, keeping the selected one selected."""
        if self._damage_reported:
            return
        with self._reading():
            self._refresh()

    def _refresh(self) -> None:
        selected = self.selected_label()
        self.quarters = closing.inventory_quarters(self.inventory, self.today)
        self.table.setRowCount(len(self.quarters))
        for row, q in enumerate(self.quarters):
            reported = q.reported or {}
            cells = (
                q.label,
                f"{q.period.start.day} {q.period.start:%b} – {q.period.end.day} "
                f"{q.period.end:%b %Y}",
                q.status,
                format_number(reported["market_kgco2e"]) if reported else "",
                format_number(reported["location_kgco2e"]) if reported else "",
                f"{q.restatements:,}" if q.closing is not None else "",
            )
            for col, (text, (_, right)) in enumerate(zip(cells, QUARTER_COLUMNS, strict=True)):
                item = _item(text, right)
                if col == 2 and q.closing is not None:
                    bold = item.font()
                    bold.setBold(True)
                    item.setFont(bold)
                self.table.setItem(row, col, item)
        self._stale = False
        labels = [q.label for q in self.quarters]
        if selected in labels:
            self.select(selected)
        elif labels:
            self.select(self._default_label(labels))
        self._show_detail()  # the selection may not change while its quarter did

    def _default_label(self, labels: list[str]) -> str:
        """The last complete quarter if listed (what is reported next), else the newest."""
        today = self.today or dt.date.today()
        current = closing.quarter_of(today)
        last_complete = current.previous().label
        return last_complete if last_complete in labels else labels[0]

    def select(self, label: str) -> None:
        for row, q in enumerate(self.quarters):
            if q.label == label:
                self.table.selectRow(row)
                self.table.scrollToItem(self.table.item(row, 0))
                return

    def selected(self) -> closing.QuarterStatus | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        row = rows[0].row()
        return self.quarters[row] if 0 <= row < len(self.quarters) else None

    def selected_label(self) -> str | None:
        q = self.selected()
        return q.label if q else None

    def _show_detail(self) -> None:
        with self._reading():
            self._show_selected()

    def _show_selected(self) -> None:
        q = self.selected()
        self.build_button.setEnabled(q is not None)
        self.close_button.setEnabled(q is not None and q.closing is None and not self.read_only)
        self.reopen_button.setEnabled(
            q is not None and q.closing is not None and not self.read_only
        )
        self.restatements.setRowCount(0)
        if q is None:
            self.detail.setTitle("Restatements")
            self.detail_text.setText("Select a quarter.")
            return
        self.detail.setTitle(f"Restatements of {q.label}")
        lines = []
        for c in q.history:
            line = f"Closed on {c.closed_at[:16].replace('T', ' ')} by {c.closed_by}"
            if c.reopened_at:
                line += (
                    f"; reopened on {str(c.reopened_at)[:16].replace('T', ' ')} by "
                    f"{c.reopened_by}: {c.reopen_reason}"
                )
            lines.append(line + ".")
        if q.closing is None:
            lines.append(
                f"{q.label} is open: its report is a draft of the current figures, and edits "
                "change them without asking."
            )
            self.detail_text.setText("\n".join(lines))
            return
        found = closing.restatements_of(self.inventory, q.closing.id)
        if not found:
            lines.append(f"No restatement of {q.label} has been recorded since it was closed.")
        self.detail_text.setText("\n".join(lines))
        self.restatements.setRowCount(len(found))
        for row, r in enumerate(found):
            change = (r.new_value - r.old_value) / r.old_value if r.old_value else None
            cells = (
                f"{r.label} ({r.unit})",
                format_number(r.old_value),
                format_number(r.new_value),
                format_percent(change, signed=True),
                r.reason,
                f"{r.at[:16].replace('T', ' ')} by {r.os_user}",
            )
            for col, (text, (_, right)) in enumerate(zip(cells, RESTATEMENT_COLUMNS, strict=True)):
                item = _item(text, right)
                if col == 4:
                    item.setToolTip(literal(text))
                self.restatements.setItem(row, col, item)

    # -- slots --------------------------------------------------------------------------

    def _on_table_item_selection_changed(self) -> None:
        self._show_detail()

    def _on_table_double_clicked(self, _index) -> None:
        self.build_report()

    def _on_enter_activated(self) -> None:
        self.build_report()

    def _on_build_button_clicked(self) -> None:
        self.build_report()

    def _on_close_button_clicked(self) -> None:
        self.close_quarter()

    def _on_reopen_button_clicked(self) -> None:
        self.reopen_quarter()

    def _on_editor_edited(self, _tables: frozenset[str]) -> None:
        if self.isVisible():
            self.refresh()
        else:
            self._stale = True  # re-read when next shown

    def _on_report_dialog_closing_changed(self, label: str) -> None:
        self.refresh()
        self.closing_changed.emit(label)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.refresh()
        self._stale = True  # anything may change while hidden (File > Report…, CLI)

    # -- actions ------------------------------------------------------------------------

    def build_report(self) -> None:
        """Open the report dialog preset to the selected quarter (window-modal)."""
        q = self.selected()
        if q is None:
            return
        from ui.report_dialog import ReportDialog

        old = self.report_dialog
        if isinstance(old, ReportDialog) and not old._busy and not old.isVisible():
            # not deleted on close: a worker it started may still report back to it
            old.deleteLater()
        dialog = None
        with self._reading():
            dialog = ReportDialog(self.inventory, self, today=self.today)
        if dialog is None:
            return  # the inventory is damaged: the window closes it
        dialog.damaged.connect(self.damaged)
        dialog.set_quarter(q.label)
        dialog.closing_changed.connect(self._on_report_dialog_closing_changed)
        dialog.finished.connect(lambda _result: self.refresh())
        self.report_dialog = dialog
        dialog.open()

    def close_quarter(self) -> None:
        """Close the selected quarter (asks first; the whole inventory's report is kept)."""
        q = self.selected()
        if q is None or q.closing is not None or self.read_only:
            return
        from PySide6.QtCore import QSettings

        from ui.report_dialog import close_quarter

        settings = QSettings()
        options = ReportOptions(
            q.period,
            str(settings.value("report/organisation", "") or ""),
            str(settings.value("report/preparer", "") or ""),
        )
        closed = None
        with self._reading():  # damage met while closing: the window's restore offer
            closed = close_quarter(self, self.inventory, options)
        if closed is not None:
            self.refresh()
            self.closing_changed.emit(q.label)

    def reopen_quarter(self) -> None:
        """Reopen the selected closed quarter (asks for the reason; logged)."""
        q = self.selected()
        if q is None or q.closing is None or self.read_only:
            return
        from ui.report_dialog import reopen_quarter

        reason = None
        with self._reading():  # damage met while reopening: the window's restore offer
            reason = reopen_quarter(self, self.inventory, q.period)
        if reason is not None:
            self.refresh()
            self.closing_changed.emit(q.label)
