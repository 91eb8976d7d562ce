"""How an entry's emissions were reached, computed off the UI thread.

A damaged inventory file found while computing is announced with
:attr:`ExplainDialog.damaged` (the page that opens the dialog passes it on to the
window's restore offer), not shown as SQLite's words.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from core.errors import InventoryDamagedError
from ui.restore_backup import DAMAGED_FIGURES_TEXT as DAMAGED_TEXT
from ui.workers import Task, reading, run_task


def _explain_text(path: Path, entry: str, period: str | None) -> str:
    """Runs on a worker thread, with a connection of its own."""
    from core.estimate import Engine
    from core.explain import explain
    from core.inventory import Inventory

    with Inventory.open(path) as inv:
        return explain(Engine(inv), entry, period).text()


def period_choices(today: dt.date) -> list[tuple[str, str | None]]:
    """(label, period) for the period selector: all time, this and last year, the last
    eight quarters."""
    out: list[tuple[str, str | None]] = [("All time", None)]
    out += [(str(y), str(y)) for y in (today.year, today.year - 1)]
    year, q = today.year, (today.month - 1) // 3 + 1
    for _ in range(8):
        out.append((f"{year}-Q{q}", f"{year}-Q{q}"))
        year, q = (year - 1, 4) if q == 1 else (year, q - 1)
    return out


class ExplainDialog(QDialog):
    """Shows ``core.explain`` for one entry; recomputes when the period changes."""

    #: the inventory file is damaged (an InventoryDamagedError), found while computing;
    #: announced once
    damaged = Signal(object)

    def __init__(self, path: Path, entry: str, title: str, parent: QWidget | None = None):
        super().__init__(parent)
        self._damage_reported = False
        self.setWindowTitle(f"How the figures were reached: {title}")
        self.resize(900, 620)
        self._path, self._entry = path, entry
        self._task: Task | None = None
        self.period = QComboBox()
        for label, value in period_choices(dt.date.today()):
            self.period.addItem(label, value)
        self.period.currentIndexChanged.connect(self._on_period_current_index_changed)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # busy indicator while the engine runs
        self.busy.setMaximumWidth(160)
        self.status = QLabel()
        self.text = QTextBrowser()
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setLineWrapMode(QTextBrowser.LineWrapMode.WidgetWidth)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        top = QHBoxLayout()
        top.addWidget(QLabel("Period:"))
        top.addWidget(self.period)
        top.addWidget(self.busy)
        top.addWidget(self.status, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)
        self._compute()

    @property
    def computing(self) -> bool:
        return self._task is not None

    def _compute(self) -> None:
        period = self.period.currentData()
        self.busy.setVisible(True)
        self.status.setText("Computing…")
        self.period.setEnabled(False)
        path, entry = self._path, self._entry
        self._task = run_task(
            reading(path, lambda: _explain_text(path, entry, period)),
            self._on_task_finished,
            on_error=self._on_task_error,
        )

    def _on_period_current_index_changed(self, _index: int) -> None:
        self._compute()

    def _on_task_finished(self, text: str) -> None:
        self.text.setPlainText(text)  # plain text: names are never read as HTML
        self._done("")

    def _on_task_error(self, error: BaseException, message: str) -> None:
        if not isinstance(error, InventoryDamagedError):
            self._on_task_failed(message)
            return
        self.text.setPlainText(DAMAGED_TEXT)
        self._done("The inventory file is damaged.")
        self.period.setEnabled(False)  # nothing more can be computed from it
        if not self._damage_reported:
            self._damage_reported = True
            self.damaged.emit(error)

    def _on_task_failed(self, message: str) -> None:
        self.text.setPlainText(message)
        self._done("Could not compute the figures.")

    def _done(self, status: str) -> None:
        self._task = None
        self.busy.setVisible(False)
        self.status.setText(status)
        self.period.setEnabled(True)
