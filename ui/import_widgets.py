"""Pieces shared by the import wizard's pages: the page base class, read-only tables,
value formatting and the busy bar.

Part of :mod:`ui.import_pages`, which re-exports these names.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
    QWizardPage,
)

from ui.import_jobs import Job, rows_text
from ui.plain_text import literal

if TYPE_CHECKING:
    from ui.import_wizard import ImportWizard


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
