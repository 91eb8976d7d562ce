"""How an entry's emissions were reached, computed off the UI thread."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

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

from ui.workers import Task, run_task


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

    def __init__(self, path: Path, entry: str, title: str, parent: QWidget | None = None):
        super().__init__(parent)
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
        self._task = run_task(
            lambda: _explain_text(self._path, self._entry, period),
            self._on_task_finished,
            self._on_task_failed,
        )

    def _on_period_current_index_changed(self, _index: int) -> None:
        self._compute()

    def _on_task_finished(self, text: str) -> None:
        self.text.setPlainText(text)  # plain text: names are never read as HTML
        self._done("")

    def _on_task_failed(self, message: str) -> None:
        self.text.setPlainText(message)
        self._done("Could not compute the figures.")

    def _done(self, status: str) -> None:
        self._task = None
        self.busy.setVisible(False)
        self.status.setText(status)
        self.period.setEnabled(True)
